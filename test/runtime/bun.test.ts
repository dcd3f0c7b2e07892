// Runtime conformance on Bun: `./node_modules/.bin/bun test/runtime/bun.test.ts`
// ETCD_TS_BUN_SERVER=bun-serve runs it against Bun.serve instead of Bun's node:http (the
// default; see runtimes/bun/runtime.ts for why).
// tsc compiles this file too; under Node it only prints a notice, so a runner that globs
// dist/test/**/*.test.js does not trip over Bun APIs.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exitWhenDone, registerRuntimeSuite } from "./conformance.ts";

if (typeof Bun === "undefined") {
  console.log("test/runtime/bun.test: not running on Bun, skipped");
} else {
  const { createBunRuntime } = await import("../../runtimes/bun/runtime.ts");
  const server = process.env.ETCD_TS_BUN_SERVER === "bun-serve" ? "bun-serve" : "node-http";
  const dir = await mkdtemp(join(tmpdir(), "etcd-ts-rt-bun-"));
  registerRuntimeSuite(createBunRuntime({ server }), dir);
  exitWhenDone((fn, ms) => setTimeout(fn, ms).unref(), () => process.exit());
}
