// The client and its recipes against a real 3-member cluster (processes on loopback; members
// of ours on Node by default, CLUSTER_TARGETS=etcd for real etcd, or e.g. node,bun,deno):
// locks under contention (fencing windows never overlap, tokens strictly increase), the fair
// lock's arrival order, an election surviving the death of its leader process and of the
// cluster's Raft leader, a queue consumed exactly once by several consumers, a registry
// following instances that come and go, and member add/remove through the client.
//
//   npx tsc -p tsconfig.json && node dist/test/client/cluster.test.js
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  EtcdClient, EtcdIndeterminateError, Election, FairMutex, FencedResource, Mutex, Queue, ServiceRegistry, type Leadership, type ServiceChange,
} from "../../client/index.ts";
import { Cluster, parseClusterTargets } from "../support/cluster.ts";
import { sleep } from "../support/processes.ts";
import { withTimeout } from "./in-process.ts";

let cluster: Cluster;
let endpoints: string[];

/** A client whose endpoints start at member i (so that clients spread over the members). */
function clientAt(i: number, o: { fetch?: typeof fetch; timeoutMs?: number } = {}): EtcdClient {
  const eps = endpoints.slice(i % endpoints.length).concat(endpoints.slice(0, i % endpoints.length));
  return new EtcdClient({ endpoints: eps, timeoutMs: o.timeoutMs ?? 3000, ...(o.fetch ? { fetch: o.fetch } : {}) });
}

/** A fetch that can be "killed": every request (and every open one) fails, as for a dead process. */
function killableFetch(): { fetch: typeof fetch; kill(): void } {
  let dead = false;
  const open = new Set<AbortController>();
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    if (dead) throw new TypeError("fetch failed: this process is dead");
    const ctl = new AbortController();
    open.add(ctl);
    init?.signal?.addEventListener("abort", () => ctl.abort(init.signal!.reason), { once: true });
    try {
      return await fetch(input, { ...init, signal: ctl.signal });
    } finally {
      open.delete(ctl);
    }
  }) as typeof fetch;
  return { fetch: f, kill() { dead = true; for (const c of open) c.abort(new TypeError("process died")); } };
}

test.before(async () => {
  cluster = await Cluster.start({ targets: parseClusterTargets(process.env.CLUSTER_TARGETS, 3, "node"), label: "client" });
  endpoints = cluster.members.map((m) => m.clientURL);
  await cluster.waitLeader();
});

test.after(async () => {
  await cluster?.stop();
});

test("members through the client: list, leader, add an (unstarted) member, update it, remove it", () => cluster.check(async () => {
  const c = clientAt(0);
  const before = await c.members();
  assert.is(before.length, 3);
  const leader = await c.leader();
  assert.ok(before.some((m) => m.id === leader.id));
  for (const m of cluster.members) assert.equal(await c.health(m.clientURL), { health: "true" });
  // etcd refuses a member change (500) for 5 s after members connect: try again for a while.
  let added: Awaited<ReturnType<EtcdClient["addMember"]>> | null = null;
  for (let i = 0; added === null; i++) {
    try {
      added = await c.addMember(["http://127.0.0.1:1"]);
    } catch (e) {
      if (!(e instanceof EtcdIndeterminateError) || i > 30) throw e;
      await sleep(500);
    }
  }
  assert.is(added.name, "");
  assert.equal(added.clientURLs, []);
  assert.is((await c.members()).length, 4);
  await c.updateMember(added.id, ["http://127.0.0.1:2"]);
  assert.equal((await c.members()).find((m) => m.id === added.id)?.peerURLs, ["http://127.0.0.1:2"]);
  await c.removeMember(added.id);
  assert.is((await c.members()).length, 3);
}));

test("exclusive lock under contention: no two holders at once, fencing tokens strictly increase", () => cluster.check(async () => {
  const WORKERS = 8;
  const ROUNDS = 4;
  const resource = new FencedResource<string>();
  const windows: { who: string; token: number; from: number; to: number }[] = [];
  let inside = 0;
  let maxInside = 0;
  await withTimeout(Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
    const mutex = new Mutex(clientAt(w), "contended", { ttl: 2, prefix: "/test-locks" });
    for (let r = 0; r < ROUNDS; r++) {
      const lease = await mutex.acquire();
      const from = performance.now();
      inside++;
      maxInside = Math.max(maxInside, inside);
      resource.write(lease.token, `w${w}r${r}`); // throws StaleTokenError if a newer holder already wrote
      await sleep(5 + Math.floor(Math.random() * 20));
      assert.not.ok(lease.signal.aborted, "still held");
      inside--;
      const to = performance.now();
      windows.push({ who: `w${w}`, token: lease.token, from, to });
      await lease.release();
    }
  })), 60_000, "every worker got the lock 4 times");
  assert.is(maxInside, 1, "never two holders at once");
  assert.is(windows.length, WORKERS * ROUNDS);
  const byToken = [...windows].sort((a, b) => a.token - b.token);
  for (let i = 1; i < byToken.length; i++) {
    assert.ok(byToken[i]!.token > byToken[i - 1]!.token, "tokens are unique and increase");
    assert.ok(byToken[i]!.from >= byToken[i - 1]!.to, `holder ${byToken[i]!.token} started before ${byToken[i - 1]!.token} ended`);
  }
  assert.equal(resource.log.map((e) => e.token), byToken.map((w) => w.token), "the resource saw the tokens in order");
}));

test("fair lock: granted in arrival order, with increasing tokens", () => cluster.check(async () => {
  const fair = (i: number): FairMutex => new FairMutex(clientAt(i), "fair", { ttl: 2, prefix: "/test-locks" });
  const first = await fair(0).acquire();
  const granted: { i: number; token: number }[] = [];
  const all: Promise<void>[] = [];
  for (let i = 1; i <= 6; i++) {
    let queued!: () => void;
    const q = new Promise<void>((r) => (queued = r));
    all.push(fair(i).acquire({ onQueued: () => queued() }).then(async (l) => {
      granted.push({ i, token: l.token });
      await sleep(10);
      await l.release();
    }));
    await q;
  }
  await sleep(300); // everyone waits on its predecessor
  assert.is(granted.length, 0, "nobody gets the lock while it is held");
  await first.release();
  await withTimeout(Promise.all(all), 20_000, "all waiters served");
  assert.equal(granted.map((g) => g.i), [1, 2, 3, 4, 5, 6]);
  for (let k = 1; k < granted.length; k++) assert.ok(granted[k]!.token > granted[k - 1]!.token);
  assert.ok(granted[0]!.token > first.token);
}));

test("queue: every item consumed exactly once by several consumers", () => cluster.check(async () => {
  const ITEMS = 60;
  const producers = [0, 1, 2].map(async (p) => {
    const q = new Queue(clientAt(p), "/test-queue");
    for (let i = 0; i < ITEMS / 3; i++) await q.enqueue(`p${p}-${i}`);
  });
  const taken: string[] = [];
  const ac = new AbortController();
  const consumers = [0, 1, 2, 3].map(async (k) => {
    const q = new Queue(clientAt(k + 1), "/test-queue");
    try {
      for (;;) {
        const item = await q.dequeue({ signal: ac.signal });
        taken.push(item.value);
        if (taken.length === ITEMS) ac.abort();
      }
    } catch (e) {
      if (!ac.signal.aborted) throw e;
    }
  });
  await withTimeout(Promise.all([...producers, ...consumers]), 40_000, "all items consumed");
  assert.is(taken.length, ITEMS, "no item consumed twice");
  assert.is(new Set(taken).size, ITEMS, "every item consumed");
  assert.equal(await new Queue(clientAt(0), "/test-queue").items(), []);
}));

test("registry: a watcher follows instances registering, deregistering and expiring", () => cluster.check(async () => {
  const reg = (i: number): ServiceRegistry => new ServiceRegistry(clientAt(i), { prefix: "/test-services", ttl: 1 });
  const a = await reg(0).register("web", "a", "10.0.0.1:80");
  const w = await reg(1).watch("web");
  assert.equal([...w.instances.keys()], ["a"]);
  const changes: ServiceChange[] = [];
  w.onChange((cs) => changes.push(...cs));
  const b = await reg(2).register("web", "b", "10.0.0.2:80");
  const cInst = await reg(0).register("web", "c", "10.0.0.3:80");
  await sleep(1500); // longer than the TTL: refreshes keep them
  assert.equal([...w.instances.keys()].sort(), ["a", "b", "c"]);
  const picks = new Set(Array.from({ length: 6 }, () => w.pick()));
  assert.equal([...picks].sort(), ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
  await b.deregister();
  cInst.abandon();
  const t0 = Date.now();
  while (w.instances.has("c") && Date.now() - t0 < 5000) await sleep(50);
  assert.equal([...w.instances.keys()], ["a"]);
  assert.equal(changes.map((x) => `${x.kind} ${x.key} ${x.action}`), ["up b set", "up c set", "down b delete", "down c expire"]);
  await a.deregister();
  w.close();
}));

test("election: survives the death of the elected process and of the cluster leader", () => cluster.check(async () => {
  const observed: (string | null)[] = [];
  const ac = new AbortController();
  const observing = (async () => {
    for await (const v of new Election(clientAt(2), "svc", { ttl: 2, prefix: "/test-elections" }).observe({ signal: ac.signal })) observed.push(v);
  })().catch((e) => {
    observed.push(`observer failed: ${String((e as Error)?.message ?? e)}`);
  });
  const procs = ["p0", "p1", "p2"].map((name, i) => {
    const k = killableFetch();
    const election = new Election(clientAt(i, { fetch: k.fetch, timeoutMs: 1000 }), "svc", { ttl: 2, prefix: "/test-elections", refreshMs: 300 });
    const leadership = election.campaign(name);
    leadership.catch((e) => console.error(`campaign of ${name} failed: ${String((e as Error)?.message ?? e)}`));
    return { name, k, leadership };
  });
  const first = await withTimeout(Promise.race(procs.map((p) => p.leadership)), 10_000, "someone is elected");
  const firstProc = procs.find((p) => p.name === first.value)!;
  // The elected process dies: its key is no longer refreshed and expires; it learns it lost
  // (by its own deadline: it cannot reach anyone), and another candidate wins.
  const t0 = Date.now();
  firstProc.k.kill();
  const reason = await withTimeout(first.lost, 5000, "the dead leader learns it lost");
  assert.match(reason, /no refresh succeeded within the 2 s TTL/);
  const rest = procs.filter((p) => p !== firstProc);
  const second = await withTimeout(Promise.race(rest.map((p) => p.leadership)), 10_000, "a new leader after the TTL");
  const tookOver = Date.now() - t0;
  assert.ok(tookOver >= 1000, `the new leader waited for the old key to expire (${tookOver} ms)`);
  assert.ok(second.token > first.token);
  // The Raft leader of the cluster dies: the election goes on (the holder keeps or loses its
  // key by its TTL, and someone holds it again).
  const raftLeader = await cluster.leader();
  await raftLeader.kill9();
  await cluster.waitLeader(20_000, cluster.live);
  await sleep(2500); // more than a TTL: the holder has had to refresh through the new Raft leader
  const holder = await withTimeout((async () => {
    for (;;) {
      const v = await new Election(clientAt(1), "svc", { prefix: "/test-elections" }).leader().catch(() => null);
      if (v !== null) return v;
      await sleep(100);
    }
  })(), 15_000, "someone leads after the Raft leader died");
  assert.ok(holder === "p1" || holder === "p2" || holder === "p0", holder);
  assert.not.equal(holder, first.value, "not the dead process");
  const current = (await Promise.all(rest.map((p) => Promise.race([p.leadership, sleep(10).then(() => null)]))))
    .filter((l): l is Leadership => l !== null && !l.signal.aborted);
  assert.is(current.length, 1, "exactly one live leadership");
  assert.is(current[0]!.value, holder);
  await current[0]!.resign();
  let expected: string[];
  if (holder === second.value) {
    const last = rest.find((p) => p.name !== holder)!;
    const third = await withTimeout(last.leadership, 10_000, "the last candidate wins after a resign");
    assert.is(third.value, last.name);
    await third.resign();
    expected = [first.value, second.value, third.value];
  } else {
    // The second leader could not refresh during the Raft failover and lost its key (and knows).
    assert.ok(second.signal.aborted, "the second leader knows it lost");
    expected = [first.value, second.value, holder];
  }
  await sleep(200);
  ac.abort();
  await observing;
  // The observer saw the leaders in turn, with gaps (null) between them.
  assert.equal(observed.filter((v): v is string => v !== null), expected);
  assert.is(observed[observed.length - 1], null);
}));

test.run();
