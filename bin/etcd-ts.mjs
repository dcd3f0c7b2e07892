#!/usr/bin/env node
// Starts one member on whichever runtime runs this file: `npm run member` and `npx etcd-ts`
// run it on Node (the compiled dist/), `bun run member` runs it on Bun (bunfig.toml makes
// `node` in scripts mean bun), which loads the TypeScript sources directly.
if (typeof globalThis.Bun !== "undefined") {
  await import("../runtimes/bun/main.ts");
} else {
  await import("../dist/runtimes/node/main.js");
}
