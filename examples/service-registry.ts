// Service registry: three instances of "api" register with a 2 s TTL (kept alive in the
// background), a client follows them and picks one round-robin; one instance deregisters
// cleanly, one "crashes" (stops refreshing) and disappears when its TTL runs out.
//
// Against `npm run cluster` (or ENDPOINTS=http://host:2379,...):
//   bun examples/service-registry.ts
//   deno run -A examples/service-registry.ts
//   npm run build && node dist/examples/service-registry.js
import { ServiceRegistry } from "../client/index.ts";
import { RUN, cleanup, client, log, sleep } from "./_common.ts";

const c = client();
const registry = new ServiceRegistry(c, { prefix: `${RUN}/services`, ttl: 2 });

const a = await registry.register("api", "a", "10.0.0.1:8080");
const b = await registry.register("api", "b", "10.0.0.2:8080");
log("discover:", Object.fromEntries(await registry.discover("api")));

const watcher = await registry.watch("api");
watcher.onChange((changes) => {
  for (const ch of changes) log(`change: ${ch.kind} ${ch.key}${ch.value !== undefined ? ` = ${ch.value}` : ""} (${ch.action} at index ${ch.index})`);
});

const cInst = await registry.register("api", "c", "10.0.0.3:8080");
await sleep(200);
log("round-robin picks:", Array.from({ length: 6 }, () => watcher.pick()).join(", "));

log("b deregisters (shutdown)");
await b.deregister();
await sleep(200);
log("c crashes: stops refreshing; its key expires after the 2 s TTL");
cInst.abandon();
while (watcher.instances.has("c")) await sleep(100);
log("instances now:", Object.fromEntries(watcher.instances));
log("round-robin picks:", Array.from({ length: 3 }, () => watcher.pick()).join(", "));

await a.deregister();
watcher.close();
await cleanup(c);
log("done");
