// Heartbeat monitoring: members report liveness as TTL keys under one directory; a monitor
// reports who is present, each arrival, each clean departure and each expiry (a member that
// went silent for its whole TTL).
//
//   bun examples/heartbeat.ts
//   deno run -A examples/heartbeat.ts
//   npm run build && node dist/examples/heartbeat.js
import { monitorHeartbeats, startHeartbeat } from "../client/index.ts";
import { RUN, cleanup, client, log, sleep } from "./_common.ts";

const c = client();
const dir = `${RUN}/heartbeats`;
const ac = new AbortController();

const early = await startHeartbeat(client(), dir, "node-0", { ttl: 1, value: "10.0.0.10" });
let expired = false;
const monitor = (async () => {
  for await (const ev of monitorHeartbeats(c, dir, { signal: ac.signal })) {
    log(`monitor: ${ev.type} ${ev.id}${ev.value ? ` (${ev.value})` : ""} at index ${ev.index}`);
    if (ev.type === "expired") expired = true;
  }
})();

await sleep(200);
const n1 = await startHeartbeat(client(), dir, "node-1", { ttl: 1, value: "10.0.0.11" });
const n2 = await startHeartbeat(client(), dir, "node-2", { ttl: 1, value: "10.0.0.12" });
await sleep(1500); // steady beats: refreshes make no events
log("node-1 leaves cleanly");
await n1.stop();
log("node-2 goes silent (no more beats)");
await n2.stop({ remove: false });
while (!expired) await sleep(100);
await early.stop();
await sleep(200);
ac.abort();
await monitor;
await cleanup(c);
log("done");
