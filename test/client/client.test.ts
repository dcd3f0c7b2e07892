// Unit tests of the fetch-only client (client/), against a real member running inside this
// process (test/client/in-process.ts: Raft, store, watch hub, TTL expiry, the client Hono
// app) and against fake fetches for failover, timeouts and broken connections. No sockets, no
// node:* imports: the same file runs on the three runtimes.
//
//   npx tsc -p tsconfig.json && node dist/test/client/client.test.js
//   node_modules/.bin/bun test/client/client.test.ts          (not `bun test`: that is Bun's runner)
//   node_modules/.bin/deno run -A test/client/client.test.ts
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  EtcdClient, EtcdConnectionError, EtcdError, EtcdIndeterminateError, EtcdTimeoutError, type EtcdResponse, type ResyncEvent,
} from "../../client/index.ts";
import { type InProcessMember, abortable, sleep, startInProcess, withTimeout } from "./in-process.ts";

const E = "http://member.test:2379";

let m: InProcessMember;
let c: EtcdClient;


const s = suite("client");
const test = (name: string, fn: () => Promise<void> | void, ms = 15_000): void =>
  s(name, () => withTimeout(Promise.resolve().then(fn), ms, name));

s.before(async () => {
  m = await startInProcess();
  c = new EtcdClient({ endpoints: [E], fetch: m.fetch });
});
s.after(async () => {
  await m.stop();
});

async function rejects(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error(`${what}: expected a rejection`);
}

function throwsSync(fn: () => unknown, re: RegExp, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, TypeError, what);
    assert.match((e as Error).message, re, what);
    return;
  }
  throw new Error(`${what}: expected a TypeError`);
}

/** A rejection that happens synchronously or asynchronously; must be a TypeError. */
async function invalid(fn: () => Promise<unknown> | unknown, re: RegExp, what: string): Promise<void> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== null, `${what}: expected an error`);
  assert.instance(err, TypeError, `${what}: ${String(err)}`);
  assert.match((err as Error).message, re, what);
}

// ---------------------------------------------------------------- keys

test("set, get, update, create, delete: nodes, actions and headers as etcd sends them", async () => {
  const r1 = await c.set("/t1/a", "1");
  assert.is(r1.action, "set");
  assert.is(r1.node.key, "/t1/a");
  assert.is(r1.node.value, "1");
  assert.is(r1.node.createdIndex, r1.node.modifiedIndex);
  assert.is(r1.etcdIndex, r1.node.modifiedIndex);
  assert.ok(r1.raftIndex > 0 && r1.raftTerm > 0, "X-Raft-* headers are read");
  assert.is(r1.clusterId, m.member.clusterId);
  assert.is(r1.prevNode, undefined);

  const r2 = await c.set("/t1/a", "2");
  assert.is(r2.prevNode?.value, "1");
  assert.ok(r2.node.createdIndex > r1.node.createdIndex, "a plain set re-creates the node");

  const g = await c.get("/t1/a");
  assert.is(g.action, "get");
  assert.is(g.node.value, "2");

  const u = await c.update("/t1/a", "3", { ttl: 100 });
  assert.is(u.action, "update");
  assert.is(u.node.createdIndex, r2.node.createdIndex, "update keeps createdIndex");
  assert.is(u.node.ttl, 100);
  assert.type(u.node.expiration, "string");

  const cr = await c.create("/t1/b", "x");
  assert.is(cr.action, "create");

  const cas = await c.set("/t1/b", "y", { prevValue: "x" });
  assert.is(cas.action, "compareAndSwap");
  const cas2 = await c.set("/t1/b", "z", { prevIndex: cas.node.modifiedIndex });
  assert.is(cas2.action, "compareAndSwap");

  const d = await c.delete("/t1/b", { prevIndex: cas2.node.modifiedIndex });
  assert.is(d.action, "compareAndDelete");
  assert.is(d.prevNode?.value, "z");
  const d2 = await c.delete("/t1/a");
  assert.is(d2.action, "delete");
});

test("directories: mkdir, setdir, updatedir, listing sorted and recursive, delete dir/recursive, the root", async () => {
  const mk = await c.mkdir("/t2/d");
  assert.is(mk.action, "create");
  assert.is(mk.node.dir, true);
  const e105 = await rejects(c.mkdir("/t2/d"), "mkdir twice");
  assert.ok(EtcdError.is(e105, 105));
  const sd = await c.setdir("/t2/e");
  assert.is(sd.node.dir, true);
  const ud = await c.updatedir("/t2/e", { ttl: 50 });
  assert.is(ud.action, "update");
  assert.is(ud.node.ttl, 50);
  for (const k of ["c", "a", "b"]) await c.set(`/t2/d/${k}`, k);
  await c.set("/t2/d/sub/x", "deep");
  const flat = await c.get("/t2/d", { sorted: true });
  assert.equal(flat.node.nodes?.map((n) => n.key), ["/t2/d/a", "/t2/d/b", "/t2/d/c", "/t2/d/sub"]);
  assert.is(flat.node.nodes?.[3]?.nodes, undefined, "not recursive: no grandchildren");
  const deep = await c.get("/t2/d", { sorted: true, recursive: true });
  assert.is(deep.node.nodes?.[3]?.nodes?.[0]?.value, "deep");
  const e108 = await rejects(c.delete("/t2/d", { dir: true }), "delete non-empty dir");
  assert.ok(EtcdError.is(e108, 108));
  assert.is((e108 as EtcdError).status, 403);
  const e102 = await rejects(c.delete("/t2/d"), "delete a dir without dir");
  assert.ok(EtcdError.is(e102, 102));
  await c.delete("/t2/d", { recursive: true });
  await c.delete("/t2/e", { dir: true });
  const root = await c.get("/");
  assert.is(root.node.key, "/", "the root node gets key /");
  assert.is(root.node.dir, true);
  assert.is(root.node.createdIndex, 0);
});

test("refresh keeps the value and createdIndex and wakes no watcher; TTL keys expire", async () => {
  const r = await c.set("/t3/k", "v", { ttl: 1 });
  const ac = new AbortController();
  const events: EtcdResponse[] = [];
  const watching = (async () => {
    for await (const ev of c.watch("/t3/k", { afterIndex: r.node.modifiedIndex, signal: ac.signal })) {
      events.push(ev);
      if (ev.action === "expire") return;
    }
  })();
  const f = await c.refresh("/t3/k", 1);
  assert.is(f.action, "update");
  assert.is(f.node.value, "v");
  assert.is(f.node.createdIndex, r.node.createdIndex);
  const f2 = await c.refresh("/t3/k", 1, { prevValue: "v" });
  assert.is(f2.action, "compareAndSwap");
  await withTimeout(watching, 5000, "the key expires");
  assert.equal(events.map((e) => e.action), ["expire"], "refreshes are not reported to watchers");
  assert.is(events[0]!.prevNode?.value, "v");
  const e100 = await rejects(c.refresh("/t3/k", 5), "refresh a missing key");
  assert.ok(EtcdError.is(e100, 100));
});

test("createInOrder: keys sort in creation order", async () => {
  const a = await c.createInOrder("/t4/q", "first");
  const b = await c.createInOrder("/t4/q", "second", { ttl: 100 });
  assert.is(a.action, "create");
  assert.match(a.node.key, /^\/t4\/q\/\d{20}$/);
  assert.ok(a.node.key < b.node.key);
  const l = await c.get("/t4/q", { sorted: true });
  assert.equal(l.node.nodes?.map((n) => n.value), ["first", "second"]);
});

test("keys with spaces, %, ?, #, + and unicode: each segment is encoded", async () => {
  const keys = ["/t5/a b", "/t5/100%", "/t5/what?", "/t5/#hash", "/t5/1+1", "/t5/ключ", "/t5/a&b=c"];
  for (const k of keys) {
    const r = await c.set(k, `value of ${k} & more=1+1`);
    assert.is(r.node.key, k);
    const g = await c.get(k);
    assert.is(g.node.value, `value of ${k} & more=1+1`);
  }
  const list = await c.get("/t5", { sorted: true });
  assert.equal(list.node.nodes?.map((n) => n.key).sort(), [...keys].sort());
  const n0 = m.requests.length;
  await c.get("t5//a b/");
  assert.is(m.requests[n0]!.url, `${E}/v2/keys/t5/a%20b?quorum=true`, "leading slash added, empty segments and the trailing slash dropped");
});

test("errors carry etcd's errorCode, message, cause, index and the HTTP status", async () => {
  await c.set("/t6/x", "1");
  const e = await rejects(c.get("/t6/missing/deeper"), "get missing");
  assert.instance(e, EtcdError);
  const err = e as EtcdError;
  assert.is(err.errorCode, 100);
  assert.is(err.message, "Key not found");
  assert.is(err.cause, "/t6/missing");
  assert.is(err.status, 404);
  assert.ok(err.index > 0);
  assert.is(err.endpoint, E);
  const cf = (await rejects(c.set("/t6/x", "2", { prevValue: "nope" }), "cas")) as EtcdError;
  assert.is(cf.errorCode, 101);
  assert.is(cf.status, 412);
  assert.is(cf.cause, "[nope != 1]");
  const ex = (await rejects(c.create("/t6/x", "2"), "create existing")) as EtcdError;
  assert.is(ex.errorCode, 105);
  assert.is(ex.message, "Key already exists");
  const nd = (await rejects(c.set("/t6/x/y", "2"), "below a file")) as EtcdError;
  assert.is(nd.errorCode, 104);
  const ro = (await rejects(c.set("/", "x"), "root")) as EtcdError;
  assert.is(ro.errorCode, 107);
});

test("validation: bad arguments throw TypeError and send nothing", async () => {
  const n0 = m.requests.length;
  await invalid(() => c.get(""), /must not be empty/, "empty key");
  await invalid(() => c.set("", "v"), /must not be empty/, "empty key on set");
  await invalid(() => c.get("/a/../b"), /"\." and "\.\." segments/, "dot-dot");
  await invalid(() => c.set("/k", "v", { ttl: -1 }), /ttl must be a whole number/, "negative ttl");
  await invalid(() => c.set("/k", "v", { ttl: 1.5 }), /ttl must be a whole number/, "fractional ttl");
  await invalid(() => c.set("/k", "v", { ttl: "5" as unknown as number }), /ttl must be a whole number/, "string ttl");
  await invalid(() => c.set("/k", "v", { ttl: Number.NaN }), /ttl/, "NaN ttl");
  await invalid(() => c.create("/k", "v", { ttl: Infinity }), /ttl/, "infinite ttl");
  await invalid(() => c.refresh("/k", -5), /ttl/, "refresh ttl");
  await invalid(() => c.set("/k", "v", { prevIndex: 0 }), /prevIndex must be a whole number ≥ 1/, "prevIndex 0");
  await invalid(() => c.delete("/k", { prevIndex: -2 }), /prevIndex/, "negative prevIndex");
  await invalid(() => c.set("/k", "v", { prevValue: "" }), /prevValue must not be empty/, "empty prevValue");
  await invalid(() => c.set("/k", "v", { refresh: true }), /refresh needs a ttl/, "refresh without ttl");
  await invalid(() => c.set("/k", "v", { refresh: true, ttl: 5 }), /refresh keeps the value/, "refresh with a value");
  await invalid(() => c.set("/k", 5 as unknown as string), /value must be a string/, "number value");
  await invalid(() => c.waitNext("/k", { waitIndex: -1 }), /waitIndex/, "negative waitIndex");
  await invalid(() => c.watch("/k", { afterIndex: 1.5 }), /afterIndex/, "fractional afterIndex");
  await invalid(() => c.watch("/k", { onOutdated: "ignore" as "throw" }), /onOutdated/, "bad onOutdated");
  await invalid(() => c.createInOrder("", "v"), /dir must not be empty/, "empty dir");
  await invalid(() => c.removeMember("not-hex!"), /member id/, "bad member id");
  await invalid(() => c.addMember([]), /peerURLs/, "no peer URLs");
  await invalid(() => c.updateMember("abc", ["localhost:2380"]), /scheme|not a URL/, "peer URL without scheme");
  await invalid(() => c.health("not a url"), /invalid endpoint/, "bad endpoint");
  await invalid(() => c.get("/k", { recursive: "yes" as unknown as boolean }), /recursive must be a boolean/, "string bool");
  assert.is(m.requests.length, n0, "no request was sent");
  throwsSync(() => new EtcdClient({ endpoints: [] }), /at least one endpoint/, "no endpoints");
  throwsSync(() => new EtcdClient({ endpoints: ["ftp://x:1"] }), /scheme must be http/, "bad scheme");
  throwsSync(() => new EtcdClient({ endpoints: ["http://x:1/v2"] }), /no path/, "endpoint with a path");
  throwsSync(() => new EtcdClient({ timeoutMs: -1 }), /timeoutMs/, "bad timeout");
});

// ---------------------------------------------------------------- watches

test("waitNext: the next change, and from history with waitIndex", async () => {
  const base = await c.set("/t7/k", "0");
  const next = c.waitNext("/t7/k");
  await sleep(30);
  await c.set("/t7/k", "1");
  const ev = await next;
  assert.is(ev.action, "set");
  assert.is(ev.node.value, "1");
  const hist = await c.waitNext("/t7/k", { waitIndex: base.node.modifiedIndex });
  assert.is(hist.node.value, "0", "waitIndex reaches back into the history");
  const rec = c.waitNext("/t7", { recursive: true });
  await sleep(30);
  await c.set("/t7/deep/er", "x");
  assert.is((await rec).node.key, "/t7/deep/er");
});

test("watch: every event in order, starting after afterIndex; a break stops it", async () => {
  const start = await c.set("/t8/k", "start");
  const writes = (async () => {
    for (let i = 0; i < 20; i++) await c.set(`/t8/k${i % 3}`, String(i));
    await c.delete("/t8/k0");
  })();
  const seen: EtcdResponse[] = [];
  for await (const ev of c.watch("/t8", { recursive: true, afterIndex: start.node.modifiedIndex })) {
    seen.push(ev);
    if (ev.action === "delete") break;
  }
  await writes;
  assert.is(seen.length, 21);
  for (let i = 1; i < seen.length; i++) assert.is(seen[i]!.node.modifiedIndex, seen[i - 1]!.node.modifiedIndex + 1, "consecutive indexes");
  assert.equal(seen.slice(0, 20).map((e) => e.node.value), Array.from({ length: 20 }, (_, i) => String(i)));
});

test("watch: aborting the signal ends the iteration quietly and the request", async () => {
  const ac = new AbortController();
  const it = c.watch("/t9/k", { signal: ac.signal });
  const got: EtcdResponse[] = [];
  const loop = (async () => {
    for await (const ev of it) got.push(ev);
  })();
  await sleep(50);
  ac.abort();
  await withTimeout(loop, 2000, "loop ends after abort");
  assert.is(got.length, 0);
});

/**
 * The member's fetch, except that the body of the chosen watch requests breaks (as a reset
 * connection would) or ends empty (as etcd ends a dropped watcher) after `afterMs`.
 */
function flakyWatches(mode: (n: number) => "ok" | "break" | "empty", afterMs = 40): { fetch: InProcessMember["fetch"]; waits: string[] } {
  let n = 0;
  const waits: string[] = [];
  return {
    waits,
    fetch: async (input, init) => {
      if (!input.includes("wait=true")) return m.fetch(input, init);
      waits.push(input);
      const what = mode(n++);
      if (what === "ok") return m.fetch(input, init);
      const inner = new AbortController();
      const res = await m.handle(new Request(input, { ...init, signal: inner.signal }));
      const body = new ReadableStream<Uint8Array>({
        start(ctl) {
          setTimeout(() => {
            inner.abort();
            if (what === "break") ctl.error(new TypeError("connection reset by peer"));
            else ctl.close();
          }, afterMs);
        },
      });
      return abortable(new Response(body, { status: res.status, headers: res.headers }), init.signal);
    },
  };
}

test("watch resumes after a broken connection and an empty answer without missing an event", async () => {
  const start = await c.set("/t10/k", "start");
  // Requests 1 and 3 break, 2 ends empty; writes keep coming meanwhile.
  const flaky = flakyWatches((n) => (n === 1 ? "break" : n === 2 ? "empty" : n === 3 ? "break" : "ok"), 30);
  const wc = new EtcdClient({ endpoints: [E], fetch: flaky.fetch });
  const writes = (async () => {
    for (let i = 0; i < 15; i++) {
      await c.set("/t10/k", String(i));
      await sleep(15);
    }
  })();
  const seen: string[] = [];
  let last = start.node.modifiedIndex;
  for await (const ev of wc.watch("/t10/k", { afterIndex: start.node.modifiedIndex })) {
    assert.is(ev.node.modifiedIndex, last + 1, "no gap");
    last = ev.node.modifiedIndex;
    seen.push(ev.node.value!);
    if (seen.length === 15) break;
  }
  await writes;
  assert.equal(seen, Array.from({ length: 15 }, (_, i) => String(i)));
  // After each failure the same waitIndex was asked for again.
  const idx = flaky.waits.map((u) => Number(new URL(u).searchParams.get("waitIndex")));
  assert.is(idx[1], idx[2], "re-asked after the break");
  assert.is(idx[2], idx[3], "re-asked after the empty answer");
});

test("watch without afterIndex resumes from the index it registered at", async () => {
  await c.set("/t11/k", "before");
  const flaky = flakyWatches((n) => (n === 0 ? "break" : "ok"), 60);
  const wc = new EtcdClient({ endpoints: [E], fetch: flaky.fetch });
  const it = wc.watch("/t11/k")[Symbol.asyncIterator]();
  const first = it.next();
  await sleep(20); // registered, not yet broken
  const w = await c.set("/t11/k", "during the break");
  const ev = await first;
  assert.is((ev.value as EtcdResponse).node.value, "during the break");
  assert.is((ev.value as EtcdResponse).node.modifiedIndex, w.node.modifiedIndex);
  assert.ok(flaky.waits.length >= 2);
  assert.ok(new URL(flaky.waits[1]!).searchParams.get("waitIndex") !== null, "the retry asks for a waitIndex");
  await it.return?.();
});

async function churn(n: number): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => c.set("/churn/x", String(i + j))));
  }
}

test("error 401 (history cleared): thrown by default, or a resync event and the watch goes on", async () => {
  const a = await c.set("/t12/a", "1");
  await c.set("/t12/b", "2");
  await churn(1010);
  const e = await rejects((async () => {
    for await (const _ of c.watch("/t12", { recursive: true, afterIndex: a.node.modifiedIndex - 1 })) { /* none */ }
  })(), "outdated watch");
  assert.ok(EtcdError.is(e, 401), String(e));
  assert.is((e as EtcdError).status, 400);
  assert.match((e as EtcdError).cause, /the requested history has been cleared/);

  const it = c.watch("/t12", { recursive: true, afterIndex: a.node.modifiedIndex - 1, onOutdated: "resync" })[Symbol.asyncIterator]();
  const r = (await it.next()).value as ResyncEvent;
  assert.is(r.action, "resync");
  assert.is(r.exists, true);
  assert.equal(r.node.nodes?.map((n) => `${n.key}=${n.value}`), ["/t12/a=1", "/t12/b=2"]);
  const next = it.next();
  await sleep(20);
  const w = await c.set("/t12/c", "3");
  const ev = (await next).value as EtcdResponse;
  assert.is(ev.node.key, "/t12/c");
  assert.is(ev.node.modifiedIndex, w.node.modifiedIndex);
  await it.return?.();

  // A key that does not exist any more: exists false.
  const it2 = c.watch("/t12-missing", { afterIndex: 1, onOutdated: "resync" })[Symbol.asyncIterator]();
  const r2 = (await it2.next()).value as ResyncEvent;
  assert.is(r2.action, "resync");
  assert.is(r2.exists, false);
  assert.is(r2.node.key, "/t12-missing");
  assert.ok(r2.etcdIndex > 1000);
  await it2.return?.();
}, 40_000);

// ---------------------------------------------------------------- cluster endpoints

test("members, leader, health, version, selfStats of the member in process", async () => {
  const ms = await c.members();
  assert.is(ms.length, 1);
  assert.is(ms[0]!.id, m.member.memberId);
  assert.is(ms[0]!.name, "n1");
  const l = await c.leader();
  assert.is(l.id, m.member.memberId);
  assert.equal(await c.health(), { health: "true" });
  assert.equal(await c.health(E), { health: "true" });
  const v = await c.version();
  assert.is(v.etcdcluster, "3.4.0");
  assert.type(v.etcdserver, "string");
  const st = await c.selfStats();
  assert.is(st.state, "StateLeader");
});

// ---------------------------------------------------------------- fakes: failover, timeouts

type Handler = (url: string, init: RequestInit) => Promise<Response> | Response;
function fake(routes: Record<string, Handler>): { fetch: (u: string, i: RequestInit) => Promise<Response>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const host = new URL(url).host;
      calls.push(`${init.method ?? "GET"} ${url}`);
      const h = routes[host];
      if (!h) throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
      return h(url, init);
    },
  };
}
const refused: Handler = () => {
  throw new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:2379"), { code: "ECONNREFUSED" }) });
};
const reset: Handler = () => {
  throw new TypeError("fetch failed", { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) });
};
const unavailable: Handler = () => new Response('{"errorCode":300,"message":"Raft Internal Error","cause":"etcdserver: request timed out","index":0}\n', { status: 500 });
const hang: Handler = (_u, init) => new Promise((_, reject) => {
  init.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true });
});
const ok = (body: object, status = 200): Handler => () => new Response(JSON.stringify(body) + "\n", { status, headers: { "X-Etcd-Index": "9" } });

test("failover: a refused connection, then a 500, then an answer; the answering endpoint is tried first next time", async () => {
  const f = fake({ "a:1": refused, "b:1": unavailable, "c:1": ok({ action: "get", node: { key: "/k", value: "v", modifiedIndex: 3, createdIndex: 3 } }) });
  const fc = new EtcdClient({ endpoints: ["http://a:1", "http://b:1", "http://c:1"], fetch: f.fetch });
  const r = await fc.get("/k");
  assert.is(r.node.value, "v");
  assert.is(r.etcdIndex, 9);
  assert.equal(f.calls.map((x) => new URL(x.split(" ")[1]!).host), ["a:1", "b:1", "c:1"]);
  assert.equal(fc.endpoints, ["http://c:1", "http://a:1", "http://b:1"]);
  f.calls.length = 0;
  await fc.get("/k");
  assert.equal(f.calls.length, 1, "the pinned endpoint answers at once");
});

test("failover: every endpoint failing gives EtcdConnectionError with each endpoint's error", async () => {
  const f = fake({ "a:1": refused, "b:1": unavailable });
  const fc = new EtcdClient({ endpoints: ["http://a:1", "http://b:1"], fetch: f.fetch });
  const e = await rejects(fc.get("/k"), "all down");
  assert.instance(e, EtcdConnectionError);
  const ce = e as EtcdConnectionError;
  assert.equal(ce.endpoints, ["http://a:1", "http://b:1"]);
  assert.is(ce.errors.length, 2);
  assert.ok(EtcdError.is(ce.errors[1], 300), "the 500 answer is kept as an EtcdError");
  assert.match(ce.message, /ECONNREFUSED/);
  assert.match(ce.message, /request timed out/);
});

test("unsafe writes: not repeated on another endpoint after an unclear failure, repeated after a refused connection", async () => {
  const created = ok({ action: "create", node: { key: "/k", value: "v", modifiedIndex: 4, createdIndex: 4 } }, 201);
  // A reset after sending: the create may have been applied.
  let f = fake({ "a:1": reset, "b:1": created });
  let fc = new EtcdClient({ endpoints: ["http://a:1", "http://b:1"], fetch: f.fetch });
  const e = await rejects(fc.create("/k", "v"), "create after a reset");
  assert.instance(e, EtcdIndeterminateError);
  assert.instance(e, EtcdConnectionError);
  assert.is(f.calls.length, 1, "b was not asked");
  // The same for POST, CAS and CAD, and for a 500 answer.
  f = fake({ "a:1": unavailable, "b:1": created });
  const fresh = (): EtcdClient => new EtcdClient({ endpoints: ["http://a:1", "http://b:1"], fetch: f.fetch });
  assert.instance(await rejects(fresh().createInOrder("/q", "v"), "post"), EtcdIndeterminateError);
  assert.instance(await rejects(fresh().set("/k", "v", { prevValue: "x" }), "cas"), EtcdIndeterminateError);
  assert.instance(await rejects(fresh().delete("/k", { prevIndex: 3 }), "cad"), EtcdIndeterminateError);
  assert.instance(await rejects(fresh().mkdir("/d"), "mkdir"), EtcdIndeterminateError);
  assert.instance(await rejects(fresh().addMember(["http://h:1"]), "member add"), EtcdIndeterminateError);
  assert.is(f.calls.length, 5);
  // Idempotent writes fail over.
  fc = fresh();
  await fc.set("/k", "v");
  await fc.delete("/k");
  assert.is(f.calls.length, 8);
  // The failed endpoint was demoted: the next request starts at b.
  assert.is(fc.endpoints[0], "http://b:1");
  // A refused connection proves the request was not sent: the create goes to the next endpoint.
  f = fake({ "a:1": refused, "b:1": created });
  fc = new EtcdClient({ endpoints: ["http://a:1", "http://b:1"], fetch: f.fetch });
  const r = await fc.create("/k", "v");
  assert.is(r.action, "create");
  assert.is(f.calls.length, 2);
  // retryUnsafe: as etcd's Go client, everything fails over.
  f = fake({ "a:1": reset, "b:1": created });
  fc = new EtcdClient({ endpoints: ["http://a:1", "http://b:1"], fetch: f.fetch, retryUnsafe: true });
  assert.is((await fc.createInOrder("/q", "v")).action, "create");
});

test("timeouts: a silent endpoint is given up after timeoutMs and the next one answers", async () => {
  const f = fake({ "a:1": hang, "b:1": ok({ action: "get", node: { key: "/k", value: "b", modifiedIndex: 3, createdIndex: 3 } }) });
  const fc = new EtcdClient({ endpoints: ["http://a:1", "http://b:1"], fetch: f.fetch, timeoutMs: 150 });
  const t0 = Date.now();
  const r = await fc.get("/k");
  const took = Date.now() - t0;
  assert.is(r.node.value, "b");
  assert.ok(took >= 140 && took < 1500, `took ${took} ms`);
  // Alone, the silent endpoint gives a timeout error; an unsafe write an indeterminate one.
  const solo = new EtcdClient({ endpoints: ["http://a:1"], fetch: f.fetch, timeoutMs: 100 });
  const e = (await rejects(solo.get("/k"), "timeout")) as EtcdConnectionError;
  assert.instance(e, EtcdConnectionError);
  assert.instance(e.errors[0], EtcdTimeoutError);
  assert.instance(await rejects(solo.create("/k", "v"), "create timeout"), EtcdIndeterminateError);
});

test("the caller's signal aborts at once, with its reason, and no other endpoint is tried", async () => {
  const f = fake({ "a:1": hang, "b:1": ok({ action: "get", node: { key: "/k", modifiedIndex: 1, createdIndex: 1 } }) });
  const fc = new EtcdClient({ endpoints: ["http://a:1", "http://b:1"], fetch: f.fetch, timeoutMs: 5000 });
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(new Error("user gave up")), 50);
  const e = await rejects(fc.get("/k", { signal: ac.signal }), "aborted");
  assert.is((e as Error).message, "user gave up");
  assert.ok(Date.now() - t0 < 1000);
  assert.is(f.calls.length, 1);
  const pre = new AbortController();
  pre.abort();
  await rejects(fc.get("/k", { signal: pre.signal }), "aborted before");
  assert.is(f.calls.length, 1, "an aborted signal sends nothing");
  // A watch waits longer than timeoutMs for its event: the timeout covers only the headers.
  const wc = new EtcdClient({ endpoints: [E], fetch: m.fetch, timeoutMs: 100 });
  const w = wc.waitNext("/t13/k");
  await sleep(300);
  await c.set("/t13/k", "late");
  assert.is((await w).node.value, "late");
});

test("a watch fails over when its endpoint goes away", async () => {
  const start = await c.set("/t14/k", "0");
  let down = false;
  // a:1 is the member until `down`; then it refuses connections and breaks open watches.
  const open = new Set<AbortController>();
  const f = fake({
    "a:1": async (u, init) => {
      if (down) return refused(u, init);
      const inner = new AbortController();
      open.add(inner);
      init.signal?.addEventListener("abort", () => inner.abort(init.signal!.reason), { once: true });
      const res = await m.handle(new Request(u.replace("http://a:1", E), { ...init, signal: inner.signal }));
      const reader = res.body!.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(ctl) {
          const broken = new Promise<never>((_, rej) => inner.signal.addEventListener("abort", () => rej(new TypeError("connection reset")), { once: true }));
          try {
            const r = await Promise.race([reader.read(), broken]);
            if (r.done) ctl.close();
            else ctl.enqueue(r.value);
          } catch (e) {
            ctl.error(e);
          }
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    },
    "b:1": (u, init) => m.fetch(u.replace("http://b:1", E), init),
  });
  const wc = new EtcdClient({ endpoints: ["http://a:1", "http://b:1"], fetch: f.fetch });
  const seen: string[] = [];
  const loop = (async () => {
    for await (const ev of wc.watch("/t14/k", { afterIndex: start.node.modifiedIndex })) {
      seen.push(ev.node.value!);
      if (seen.length === 3) return;
    }
  })();
  await c.set("/t14/k", "1");
  await sleep(50);
  down = true;
  for (const x of open) x.abort();
  await c.set("/t14/k", "2");
  await c.set("/t14/k", "3");
  await withTimeout(loop, 5000, "watch goes on through b");
  assert.equal(seen, ["1", "2", "3"]);
  assert.is(wc.endpoints[0], "http://b:1");
});

test("members API: request shapes and answers (fake), errors as EtcdError with code 0", async () => {
  const seen: { method: string; url: string; body: string; type: string | null }[] = [];
  const f = fake({
    "a:1": async (url, init) => {
      const body = typeof init.body === "string" ? init.body : "";
      seen.push({ method: init.method ?? "GET", url, body, type: new Headers(init.headers).get("content-type") });
      if (init.method === "POST") return new Response('{"id":"17b38cd5b7b1918b","name":"","peerURLs":["http://127.0.0.1:28380"],"clientURLs":[]}\n', { status: 201 });
      if (init.method === "PUT" && url.endsWith("/dead")) return new Response('{"message":"No such member: dead"}', { status: 404 });
      if (init.method === "PUT" || init.method === "DELETE") return new Response(null, { status: 204 });
      return new Response('{"message":"Not found"}', { status: 404 });
    },
  });
  const fc = new EtcdClient({ endpoints: ["http://a:1"], fetch: f.fetch, headers: { Authorization: "Basic eDp5" } });
  const added = await fc.addMember(["http://127.0.0.1:28380"]);
  assert.equal(added, { id: "17b38cd5b7b1918b", name: "", peerURLs: ["http://127.0.0.1:28380"], clientURLs: [] });
  await fc.updateMember("17b38cd5b7b1918b", ["http://127.0.0.1:28380", "http://localhost:28380"]);
  await fc.removeMember("17B38CD5B7B1918B");
  assert.equal(seen.map((x) => `${x.method} ${new URL(x.url).pathname}`), [
    "POST /v2/members", "PUT /v2/members/17b38cd5b7b1918b", "DELETE /v2/members/17b38cd5b7b1918b",
  ]);
  assert.equal(JSON.parse(seen[0]!.body), { peerURLs: ["http://127.0.0.1:28380"] });
  assert.is(seen[0]!.type, "application/json");
  const e = (await rejects(fc.updateMember("dead", ["http://h:1"]), "no such member")) as EtcdError;
  assert.instance(e, EtcdError);
  assert.is(e.errorCode, 0);
  assert.is(e.status, 404);
  assert.is(e.message, "No such member: dead");
});

s.run();
