// Locks with fencing tokens. Four workers share an exclusive Mutex, then a FairMutex (served
// in arrival order); each writes to a FencedResource with its token. Finally a holder is
// "paused" past its TTL: another worker takes the lock, and the paused one's late write is
// refused by the resource because its token is older.
//
//   bun examples/lock.ts
//   deno run -A examples/lock.ts
//   npm run build && node dist/examples/lock.js
import { FairMutex, FencedResource, Mutex, StaleTokenError } from "../client/index.ts";
import { RUN, cleanup, client, log, sleep } from "./_common.ts";

const c = client();
const resource = new FencedResource<string>();

log("exclusive lock, 4 workers:");
await Promise.all(["w1", "w2", "w3", "w4"].map(async (name) => {
  const mutex = new Mutex(client(), "printer", { prefix: `${RUN}/locks`, ttl: 2 });
  const lease = await mutex.acquire();
  log(`  ${name} holds the lock, token ${lease.token}`);
  resource.write(lease.token, `${name} was here`);
  await sleep(100);
  await lease.release();
}));

log("fair lock, 4 workers queued in order:");
const fair = (name: string): FairMutex => new FairMutex(client(), "fair-printer", { prefix: `${RUN}/locks`, ttl: 2, owner: name });
const first = await fair("f0").acquire();
const order: string[] = [];
const waiting: Promise<void>[] = [];
for (const name of ["f1", "f2", "f3"]) {
  let queued!: () => void;
  const q = new Promise<void>((r) => (queued = r));
  waiting.push(fair(name).acquire({ onQueued: () => queued() }).then(async (lease) => {
    order.push(name);
    log(`  ${name} holds the fair lock, token ${lease.token}`);
    resource.write(lease.token, name);
    await lease.release();
  }));
  await q; // f1 queues before f2, f2 before f3
}
log(`  f0 holds it (token ${first.token}); releasing`);
await first.release();
await Promise.all(waiting);
log("  order served:", order.join(", "));

log("a paused holder and fencing:");
const slow = await new Mutex(client(), "db", { prefix: `${RUN}/locks`, ttl: 1 }).acquire();
log(`  slow holder got token ${slow.token}, then pauses (stops refreshing)`);
slow.abandon();
const fast = await new Mutex(client(), "db", { prefix: `${RUN}/locks`, ttl: 1 }).acquire();
log(`  after the TTL, another holder got token ${fast.token}`);
resource.write(fast.token, "fast");
try {
  resource.write(slow.token, "slow, late");
} catch (e) {
  if (e instanceof StaleTokenError) log(`  the resource refused the paused holder: ${e.message}`);
  else throw e;
}
await fast.release();
await cleanup(c);
log("done");
