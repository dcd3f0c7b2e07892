#!/usr/bin/env node
// etcdctl-ts, the etcdctl (v2 mode) of etcd-ts, on whichever runtime runs this file: Node runs
// the compiled dist/cli, Bun the TypeScript sources. Deno: `deno run -A cli/main.ts ...`.
if (typeof globalThis.Bun !== "undefined") {
  await import("../cli/main.ts");
} else {
  await import("../dist/cli/main.js");
}
