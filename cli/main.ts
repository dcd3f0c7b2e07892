// etcdctl-ts: etcdctl 3.4's v2 mode (ETCDCTL_API=2) in TypeScript, for Node, Bun and Deno.
//   node bin/etcdctl-ts.mjs ...   bun bin/etcdctl-ts.mjs ...   deno run -A cli/main.ts ...
import { run } from "./app.ts";
import { systemIo } from "./io.ts";

const io = systemIo();
let code: number;
try {
  code = await run(io);
} catch (e) {
  io.err(`${(e as Error)?.stack ?? String(e)}\n`);
  code = 1;
}
await io.exit(code);
