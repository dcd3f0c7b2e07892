// etcd-ts member on Node: `node bin/etcd-ts.mjs [etcd flags]` (npm run member / npm start).
import { readFileSync } from "node:fs";
import { runMain } from "../shared/main-support.ts";
import { createNodeRuntime } from "./runtime.ts";
import { tuneV8 } from "./v8-tuning.ts";

tuneV8();

const code = await runMain({
  argv: process.argv.slice(2),
  env: process.env,
  host: { runtime: "Node", version: process.version, os: process.platform, arch: process.arch },
  readTextFile: (path) => readFileSync(path, "utf8"),
  writeStdout: (text) => process.stdout.write(text),
  writeStderr: (text) => process.stderr.write(text),
  now: () => Date.now(),
  createRuntime: (log) => createNodeRuntime({ log }),
  onSignal: (signal, handler) => process.on(signal, handler),
  exit: (status) => process.exit(status),
});
if (code !== undefined) process.exitCode = code;
