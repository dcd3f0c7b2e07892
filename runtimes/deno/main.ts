// etcd-ts member on Deno: `deno task member [etcd flags]`.
import { runMain } from "../shared/main-support.ts";
import { createDenoRuntime } from "./runtime.ts";

const encoder = new TextEncoder();

function writeAll(out: { writeSync(p: Uint8Array): number }, text: string): void {
  let buf = encoder.encode(text);
  while (buf.length > 0) buf = buf.subarray(out.writeSync(buf));
}

const code = await runMain({
  argv: Deno.args,
  env: Deno.env.toObject(),
  host: { runtime: "Deno", version: Deno.version.deno, os: Deno.build.os, arch: Deno.build.arch },
  readTextFile: (path) => Deno.readTextFileSync(path),
  writeStdout: (text) => writeAll(Deno.stdout, text),
  writeStderr: (text) => writeAll(Deno.stderr, text),
  now: () => Date.now(),
  createRuntime: (log) => createDenoRuntime({ log }),
  onSignal: (signal, handler) => Deno.addSignalListener(signal, handler),
  exit: (status) => Deno.exit(status),
});
if (code !== undefined) Deno.exitCode = code;
