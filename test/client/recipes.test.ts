// The recipes against a member inside the test process (see in-process.ts): configuration
// mirror, registry, exclusive and fair locks with fencing, loss detection, election observe,
// queue and barrier, heartbeats. Runs on Node, Bun and Deno:
//
//   npx tsc -p tsconfig.json && node dist/test/client/recipes.test.js
//   node_modules/.bin/bun test/client/recipes.test.ts
//   node_modules/.bin/deno run -A test/client/recipes.test.ts
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  Barrier, Election, EtcdClient, FairMutex, FencedResource, Mutex, Queue, ServiceRegistry, StaleTokenError,
  monitorHeartbeats, startHeartbeat, watchConfig, type ConfigChange, type HeartbeatEvent,
} from "../../client/index.ts";
import { type InProcessMember, sleep, startInProcess, withTimeout } from "./in-process.ts";

let m: InProcessMember;
let c: EtcdClient;

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`not true within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

const s = suite("recipes");
const test = (name: string, fn: () => Promise<void>, ms = 15_000): void => s(name, () => withTimeout(fn(), ms, name));
s.before(async () => {
  m = await startInProcess();
  c = new EtcdClient({ endpoints: ["http://member.test:2379"], fetch: m.fetch });
});
s.after(async () => {
  await m.stop();
});

test("config: loaded once, then every change including expiry and directory delete", async () => {
  await c.set("/cfg/db/host", "a");
  await c.set("/cfg/db/port", "1");
  await c.set("/cfg/_hidden", "x");
  const seen: ConfigChange[] = [];
  const cfg = await watchConfig(c, "/cfg", { onChange: (cs) => seen.push(...cs) });
  assert.equal(Object.fromEntries(cfg.values), { "db/host": "a", "db/port": "1" });
  await c.set("/cfg/db/host", "b");
  await c.set("/cfg/tmp", "t", { ttl: 1 });
  await c.delete("/cfg/db", { recursive: true });
  await until("tmp expires", () => !cfg.values.has("tmp") && seen.length >= 5);
  assert.equal(seen.map((x) => `${x.type} ${x.key} ${x.action}`), [
    "put db/host set", "put tmp set", "delete db/host delete", "delete db/port delete", "delete tmp expire",
  ]);
  assert.is(seen[0]!.previous, "a");
  assert.is(cfg.values.size, 0);
  cfg.close();
  await cfg.done;
});

test("registry: discover, follow, round-robin, deregister and expiry", async () => {
  const reg = new ServiceRegistry(c, { prefix: "/svc", ttl: 1 });
  const a = await reg.register("web", "a", "A");
  const b = await reg.register("web", "b", "B");
  assert.equal(Object.fromEntries(await reg.discover("web")), { a: "A", b: "B" });
  const w = await reg.watch("web");
  assert.equal([w.pick(), w.pick(), w.pick()], ["A", "B", "A"]);
  await sleep(1300); // past the TTL: kept alive by refresh
  assert.is(w.instances.size, 2);
  await a.deregister();
  b.abandon();
  await until("b expires", () => w.instances.size === 0);
  assert.is(w.pick(), undefined);
  w.close();
});

test("mutex: fencing tokens increase, a deleted lock is noticed at once, a stale token is refused", async () => {
  const res = new FencedResource<string>();
  const mu = (): Mutex => new Mutex(c, "m1", { ttl: 2, prefix: "/lk" });
  const l1 = await mu().acquire();
  res.write(l1.token, "one");
  assert.is(await mu().tryAcquire(), null, "held");
  const second = mu().acquire();
  await sleep(50);
  await c.delete(l1.key); // an operator removes the lock
  assert.match(await withTimeout(l1.lost, 2000, "l1 learns"), /deleted/);
  assert.ok(l1.signal.aborted);
  const l2 = await withTimeout(second, 3000, "the waiter gets it");
  assert.ok(l2.token > l1.token);
  res.write(l2.token, "two");
  try {
    res.write(l1.token, "late");
    assert.unreachable("a stale token must be refused");
  } catch (e) {
    assert.instance(e, StaleTokenError);
  }
  await l2.release();
  assert.is((await c.get("/lk").catch(() => null))?.node.nodes, undefined, "released: no lock key");
});

test("mutex: a holder that stops refreshing loses the key after its TTL and another acquires", async () => {
  const a = await new Mutex(c, "m2", { ttl: 1, prefix: "/lk" }).acquire();
  a.abandon();
  const t0 = Date.now();
  const b = await withTimeout(new Mutex(c, "m2", { ttl: 1, prefix: "/lk" }).acquire(), 5000, "b");
  assert.ok(Date.now() - t0 >= 500, "waited for the expiry");
  assert.ok(b.token > a.token);
  await b.release();
});

test("fair mutex: arrival order; a cancelled waiter leaves the queue", async () => {
  const fm = (): FairMutex => new FairMutex(c, "f", { ttl: 2, prefix: "/lk" });
  const first = await fm().acquire();
  const order: number[] = [];
  const ac = new AbortController();
  const ps: Promise<unknown>[] = [];
  for (let i = 1; i <= 4; i++) {
    let q!: () => void;
    const queued = new Promise<void>((r) => (q = r));
    const p = fm().acquire({ onQueued: () => q(), ...(i === 2 ? { signal: ac.signal } : {}) })
      .then(async (l) => { order.push(i); await l.release(); });
    ps.push(i === 2 ? p.catch(() => order.push(-2)) : p);
    await queued;
  }
  ac.abort(); // waiter 2 gives up
  await sleep(100);
  await first.release();
  await withTimeout(Promise.all(ps), 5000, "all served");
  assert.equal(order, [-2, 1, 3, 4]);
  assert.is((await c.get("/lk/f")).node.nodes, undefined, "the queue is empty");
});

test("election: campaign, observe, resign, deletion noticed", async () => {
  const e = (): Election => new Election(c, "e", { ttl: 2, prefix: "/el" });
  const seen: (string | null)[] = [];
  const ac = new AbortController();
  const obs = (async () => { for await (const v of e().observe({ signal: ac.signal })) seen.push(v); })();
  await sleep(50);
  const a = await e().campaign("a");
  const pb = e().campaign("b");
  await sleep(50);
  await a.resign();
  const b = await withTimeout(pb, 3000, "b wins");
  assert.is(await e().leader(), "b");
  await c.delete(e().key);
  assert.match(await withTimeout(b.lost, 2000, "b learns"), /deleted/);
  await until("observer saw it", () => seen.length >= 5);
  ac.abort();
  await obs;
  assert.equal(seen, [null, "a", null, "b", null]);
});

test("queue: each item exactly once across consumers; barrier releases waiting workers", async () => {
  const q = new Queue(c, "/q");
  const taken: string[] = [];
  const ac = new AbortController();
  const consumers = [0, 1, 2].map(async () => {
    const qq = new Queue(c, "/q");
    try {
      for (;;) {
        taken.push((await qq.dequeue({ signal: ac.signal })).value);
        if (taken.length === 30) ac.abort();
      }
    } catch (e) {
      if (!ac.signal.aborted) throw e;
    }
  });
  for (let i = 0; i < 30; i++) await q.enqueue(`i${i}`);
  await withTimeout(Promise.all(consumers), 10_000, "consumed");
  assert.is(new Set(taken).size, 30);
  assert.is(taken.length, 30);
  assert.equal(await q.items(), []);
  assert.is(await q.tryDequeue(), null);

  const bar = new Barrier(c, "/barrier/go");
  let started = 0;
  const workers = [0, 1, 2].map(async () => { await bar.wait(); started++; });
  await sleep(100);
  assert.is(started, 0, "nobody starts before the condition is set");
  await bar.release("now");
  await withTimeout(Promise.all(workers), 3000, "workers start");
  assert.is(started, 3);
  assert.is(await bar.wait(), "now", "already set: no waiting");
});

test("heartbeats: present, arrivals, a clean departure and an expiry", async () => {
  const h0 = await startHeartbeat(c, "/hb", "n0", { ttl: 1 });
  const events: HeartbeatEvent[] = [];
  const ac = new AbortController();
  const mon = (async () => { for await (const ev of monitorHeartbeats(c, "/hb", { signal: ac.signal })) events.push(ev); })();
  await until("present", () => events.length === 1);
  const h1 = await startHeartbeat(c, "/hb", "n1", { ttl: 1, value: "v1" });
  const h2 = await startHeartbeat(c, "/hb", "n2", { ttl: 1 });
  await sleep(1300); // beats keep them without events
  await h1.stop();
  await h2.stop({ remove: false });
  await until("n2 expires", () => events.some((e) => e.type === "expired"));
  await h0.stop();
  await until("n0 left", () => events.length === 6);
  ac.abort();
  await mon;
  assert.equal(events.map((e) => `${e.type} ${e.id}`), ["present n0", "arrived n1", "arrived n2", "left n1", "expired n2", "left n0"]);
  assert.is(events[1]!.value, "v1");
});

s.run();
