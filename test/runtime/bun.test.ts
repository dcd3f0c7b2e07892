// Runtime conformance on Bun: `./node_modules/.bin/bun test/runtime/bun.test.ts`
// tsc compiles this file too; under Node it only prints a notice, so a test runner that
// globs dist/test/**/*.test.js does not trip over Bun.serve.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerRuntimeSuite } from "./conformance.ts";

if (typeof Bun === "undefined") {
  console.log("test/runtime/bun.test: not running on Bun, skipped");
} else {
  const { createBunRuntime } = await import("../../runtimes/bun/runtime.ts");
  const dir = await mkdtemp(join(tmpdir(), "etcd-ts-rt-bun-"));
  registerRuntimeSuite(createBunRuntime(), dir);
}
