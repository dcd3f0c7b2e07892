// Runtime conformance on Node: `npx tsc -p tsconfig.json && node dist/test/runtime/node.test.js`
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeRuntime } from "../../runtimes/node/runtime.ts";
import { exitWhenDone, registerRuntimeSuite } from "./conformance.ts";

const dir = await mkdtemp(join(tmpdir(), "etcd-ts-rt-node-"));
registerRuntimeSuite(createNodeRuntime(), dir);
exitWhenDone((fn, ms) => setTimeout(fn, ms).unref(), () => process.exit());
