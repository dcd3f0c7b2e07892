// etcd-ts member on Bun: `bun run member [etcd flags]` (bin/etcd-ts.mjs loads this file).
import { readFileSync } from "node:fs";
import { runMain } from "../shared/main-support.ts";
import { createBunRuntime } from "./runtime.ts";

const code = await runMain({
  argv: Bun.argv.slice(2),
  env: Bun.env,
  host: { runtime: "Bun", version: Bun.version, os: process.platform, arch: process.arch },
  readTextFile: (path) => readFileSync(path, "utf8"),
  writeStdout: (text) => process.stdout.write(text),
  writeStderr: (text) => process.stderr.write(text),
  now: () => Date.now(),
  createRuntime: (log) => createBunRuntime({ log }),
  onSignal: (signal, handler) => process.on(signal, handler),
  exit: (status) => process.exit(status),
});
if (code !== undefined) process.exitCode = code;
