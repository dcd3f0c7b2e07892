// Runtime conformance on Deno: `./node_modules/.bin/deno run -A test/runtime/deno.deno.ts`
// uvu sees Deno's `process` global and sets process.exitCode on failure, which Deno honours.
import { createDenoRuntime } from "../../runtimes/deno/runtime.ts";
import { exitWhenDone, registerRuntimeSuite } from "./conformance.ts";

const dir = await Deno.makeTempDir({ prefix: "etcd-ts-rt-deno-" });
registerRuntimeSuite(createDenoRuntime(), dir);
exitWhenDone(unrefTimeout, () => Deno.exit());

// Deno's global setTimeout may hand back a number or (with Node compatibility on, as in this
// project) a Node-style Timeout object; unref whichever it is.
function unrefTimeout(fn: () => void, ms: number): void {
  const t: unknown = setTimeout(fn, ms);
  if (typeof t === "number") Deno.unrefTimer(t);
  else (t as { unref(): void }).unref();
}
