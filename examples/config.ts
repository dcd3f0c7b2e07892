// Configuration: load a directory into a Map, then receive every change (set, update,
// delete, expiry) through a recursive watch, as a callback and as an async iterator.
//
//   bun examples/config.ts
//   deno run -A examples/config.ts
//   npm run build && node dist/examples/config.js
import { watchConfig } from "../client/index.ts";
import { RUN, cleanup, client, log, sleep } from "./_common.ts";

const c = client();
const dir = `${RUN}/config/app`;
await c.set(`${dir}/db/host`, "db1.internal");
await c.set(`${dir}/db/port`, "5432");
await c.set(`${dir}/feature/new-ui`, "off");

const cfg = await watchConfig(c, dir, {
  onChange: (changes) => {
    for (const ch of changes) log(`callback: ${ch.type} ${ch.key} ${ch.previous ?? "∅"} -> ${ch.value ?? "∅"} (${ch.action})`);
  },
});
log("loaded:", Object.fromEntries(cfg.values));

const iterating = (async () => {
  let n = 0;
  for await (const ch of cfg.changes()) {
    log(`iterator: ${ch.type} ${ch.key}`);
    if (++n === 4) return;
  }
})();

await c.set(`${dir}/feature/new-ui`, "on");
await c.set(`${dir}/db/host`, "db2.internal", { prevValue: "db1.internal" });
await c.set(`${dir}/cache/ttl-seconds`, "30", { ttl: 1 }); // expires by itself
await sleep(100);
await c.delete(`${dir}/db/port`);
await iterating;
while (cfg.values.has("cache/ttl-seconds")) await sleep(100);
log("now:", Object.fromEntries(cfg.values), "at index", cfg.index);
cfg.close();
await cleanup(c);
log("done");
