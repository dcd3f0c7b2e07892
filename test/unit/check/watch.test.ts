import { test } from "uvu";
import * as assert from "uvu/assert";
import { EtcdError } from "../../../core/errors.ts";
import { Store } from "../../../core/store/store.ts";
import type { StoreCommand, StoreEvent, Watcher } from "../../../core/store/types.ts";
import { checkWatches, type CommittedEvent, type ReceivedEvent, type WatchCheckOptions, type WatchRecord } from "../../check/watch.ts";
import { seededRandom } from "../../support/random.ts";

const VERBOSE = process.env.CHECK_VERBOSE === "1";

const ev = (index: number, key: string, action: CommittedEvent["action"], o: { dir?: boolean; refresh?: boolean } = {}): CommittedEvent => ({ index, key, action, ...o });
const rx = (e: CommittedEvent): ReceivedEvent => ({ index: e.index, key: e.key, action: e.action });

// A small log: /a (file), /d/x and /d/y under directory /d, a hidden /d/_h, then deletes.
const log: CommittedEvent[] = [
  ev(1, "/a", "create"),
  ev(2, "/d/x", "set"),
  ev(3, "/d/_h", "set"),
  ev(4, "/a", "update"),
  ev(5, "/d/x", "set", { refresh: true }),
  ev(6, "/a", "delete"),
  ev(7, "/d/y", "set"),
  ev(8, "/d", "delete", { dir: true }),
  ev(9, "/foo", "set"),
  ev(10, "/foo", "expire", { dir: true }),
];
const at = (i: number) => rx(log.find((e) => e.index === i)!);

function ok(ws: WatchRecord[], opts: WatchCheckOptions = {}): void {
  const r = checkWatches(log, ws, opts);
  if (!r.ok) assert.unreachable(r.explanation);
}

function bad(ws: WatchRecord[], kind: string, opts: WatchCheckOptions = {}): void {
  const r = checkWatches(log, ws, opts);
  if (r.ok) {
    assert.unreachable(`expected ${kind}`);
    return;
  }
  if (VERBOSE) console.log(`--- ${kind}\n${r.explanation}\n`);
  assert.is(r.kind, kind, r.explanation);
}

const w = (path: string, o: Partial<WatchRecord> & { events: ReceivedEvent[] }): WatchRecord => ({
  path,
  recursive: false,
  stream: true,
  start: 1,
  registeredAt: 0,
  ...o,
});

test("live stream watchers: exact, recursive, hidden keys, refresh, removed descendants", () => {
  ok([
    // /a: its create, update and delete (twice: the exact key of a removed node).
    w("/a", { events: [at(1), at(4), at(6), at(6)], upTo: 10 }),
    // recursive /d: /d/x, not the hidden /d/_h, not the refresh, /d/y, the delete of /d itself (twice).
    w("/d", { recursive: true, events: [at(2), at(7), at(8), at(8)], upTo: 10 }),
    // /d/x existed when /d was deleted: it gets the delete once; /d/_h likewise; /d/z never existed.
    w("/d/x", { events: [at(2), at(8)], upTo: 10 }),
    w("/d/_h", { events: [at(3), at(8)], upTo: 10 }),
    w("/d/z", { events: [], upTo: 10 }),
    // recursive root sees everything not hidden below it.
    w("/", { recursive: true, events: [1, 2, 4, 6, 7, 8, 9, 10].map(at), upTo: 10 }),
    // a one-shot watch gets the first match only.
    w("/d", { recursive: true, stream: false, events: [at(2)], upTo: 10 }),
  ]);
});

test("the duplicate on removal is configurable", () => {
  const once = [w("/a", { events: [at(1), at(4), at(6)], upTo: 10 })];
  const twice = [w("/a", { events: [at(1), at(4), at(6), at(6)], upTo: 10 })];
  ok(once);
  ok(twice);
  ok(twice, { duplicateOnRemoval: "expect" });
  bad(once, "duplicate", { duplicateOnRemoval: "expect" });
  bad(twice, "duplicate", { duplicateOnRemoval: "forbid" });
  ok(once, { duplicateOnRemoval: "forbid" });
});

test("watches served from history get one event, with etcd's prefix quirk", () => {
  ok([
    // registered at 8 with waitIndex 2: the first match in history (set /d/x at 2), nothing else.
    w("/d/x", { start: 2, registeredAt: 8, events: [at(2)], upTo: 10 }),
    // the history scan matches a directory delete by raw prefix: /d deleted at 8 matches /dx.
    w("/dx", { start: 5, registeredAt: 9, events: [at(8)], upTo: 10 }),
    // and sees hidden keys (recursive /d from 3: /d/_h).
    w("/d", { recursive: true, start: 3, registeredAt: 9, events: [at(3)], upTo: 10 }),
    // nothing in history from 9 for /a: registered live, nothing more happens to /a.
    w("/a", { start: 9, registeredAt: 10, events: [], upTo: 10 }),
  ]);
  bad([w("/d/x", { start: 2, registeredAt: 8, events: [at(2), at(8)], upTo: 10 })], "unexpected");
});

test("rejects gaps, disorder, duplicates, foreign and invented events", () => {
  bad([w("/a", { events: [at(1), at(6)] })], "gap");
  bad([w("/a", { events: [at(1), at(4), at(1)] })], "out-of-order");
  bad([w("/a", { events: [at(1), at(1), at(4)] })], "duplicate");
  bad([w("/a", { events: [at(1), at(2)] })], "unexpected");
  bad([w("/a", { events: [at(1), { index: 4, key: "/a", action: "set" }] })], "not-committed");
  bad([w("/a", { events: [at(1), { index: 11, key: "/a", action: "set" }] })], "not-committed");
  bad([w("/a", { start: 2, events: [at(1)] })], "before-start");
  bad([w("/d", { recursive: true, events: [at(2), at(3)] })], "unexpected"); // hidden below the watch
  bad([w("/d", { recursive: true, events: [at(2), { index: 5, key: "/d/x", action: "set" }] })], "unexpected"); // a refresh
  bad([w("/d/z", { events: [at(8)] })], "unexpected"); // /d/z did not exist
  bad([w("/d", { recursive: true, stream: false, events: [at(7)], upTo: 10 })], "unexpected"); // should have fired on 2
});

test("missing events at the end count only up to upTo; truncation can be allowed", () => {
  ok([w("/a", { events: [at(1)] })]);
  bad([w("/a", { events: [at(1)], upTo: 5 })], "missing");
  ok([w("/a", { events: [at(1)], upTo: 3 })]);
  ok([w("/a", { events: [at(1)], upTo: 10 })], { allowTruncation: true });
});

// ---------------------------------------------------------------------------------------------
// Against the real store and watcher hub

const user = (k: string) => (k === "/1" ? "/" : k.slice(2));

function toCommitted(e: StoreEvent): CommittedEvent {
  const c: CommittedEvent = { index: e.node.modifiedIndex, key: user(e.node.key), action: e.action as CommittedEvent["action"] };
  if (e.node.dir || e.prevNode?.dir) c.dir = true;
  if (e.refresh) c.refresh = true;
  return c;
}

async function drain(wt: Watcher): Promise<ReceivedEvent[]> {
  const out: ReceivedEvent[] = [];
  for (;;) {
    let done = false;
    let value: StoreEvent | null = null;
    const p = wt.next().then((v) => {
      done = true;
      value = v;
    });
    // Queued events resolve at once; a few microtask turns tell "queued" from "waiting".
    for (let k = 0; k < 4 && !done; k++) await Promise.resolve();
    if (!done) {
      wt.remove();
      await p;
      break;
    }
    const e = value as StoreEvent | null;
    if (e === null) break;
    out.push({ index: e.node.modifiedIndex, key: user(e.node.key), action: e.action });
  }
  return out;
}

const PATHS = ["/a", "/a/b", "/a/c", "/a/b/x", "/d", "/d/_h", "/d/e", "/d/_h/i", "/foo", "/foobar", "/foo/z"];

async function simulate(seed: number): Promise<{ committed: CommittedEvent[]; watchers: WatchRecord[] }> {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const s = new Store({ watcherBuffer: 1_000_000 });
  const committed: CommittedEvent[] = [];
  const open: { wt: Watcher; rec: WatchRecord }[] = [];
  let now = 1_000_000;
  for (let step = 0; step < 250; step++) {
    now += 100;
    const r = rnd();
    if (r < 0.12) {
      const path = pick([...PATHS, "/", "/zz"]);
      const cur = s.index;
      const since = rnd() < 0.5 ? 0 : Math.max(1, cur - Math.floor(rnd() * 15));
      const recursive = rnd() < 0.5;
      const stream = rnd() < 0.75;
      const wt = s.watch("/1" + (path === "/" ? "" : path), recursive, stream, since);
      open.push({ wt, rec: { path, recursive, stream, start: since === 0 ? cur + 1 : since, registeredAt: wt.startIndex, events: [] } });
      continue;
    }
    const p = "/1" + pick(PATHS);
    let cmd: StoreCommand;
    const value = `v${step}`;
    if (r < 0.45) cmd = { op: "set", path: p, value, dir: false, expireAt: rnd() < 0.2 ? now + 300 : null, refresh: false };
    else if (r < 0.5) cmd = { op: "set", path: p, value: "", dir: true, expireAt: rnd() < 0.3 ? now + 300 : null, refresh: false };
    else if (r < 0.55) cmd = { op: "set", path: p, value: "", dir: false, expireAt: now + 500, refresh: true };
    else if (r < 0.62) cmd = { op: "create", path: p, value, dir: false, expireAt: null, unique: false };
    else if (r < 0.68) cmd = { op: "update", path: p, value, expireAt: null, refresh: false };
    else if (r < 0.74) cmd = { op: "compareAndSwap", path: p, value, prevValue: "", prevIndex: Math.max(1, s.index - Math.floor(rnd() * 3)), expireAt: null, refresh: false };
    else if (r < 0.86) cmd = { op: "delete", path: p, dir: rnd() < 0.5, recursive: rnd() < 0.5 };
    else if (r < 0.9) cmd = { op: "compareAndDelete", path: p, prevValue: "", prevIndex: Math.max(1, s.index - Math.floor(rnd() * 3)) };
    else {
      for (const e of s.deleteExpired(now)) committed.push(toCommitted(e));
      continue;
    }
    try {
      committed.push(toCommitted(s.apply(cmd)));
    } catch (e) {
      if (!(e instanceof EtcdError)) throw e;
    }
  }
  for (const o of open) {
    o.rec.events = await drain(o.wt);
    o.rec.upTo = s.index;
  }
  return { committed, watchers: open.map((o) => o.rec) };
}

test("the store's own watcher hub passes, with etcd's duplicate expected", async () => {
  let events = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const { committed, watchers } = await simulate(seed);
    events += watchers.reduce((a, x) => a + x.events.length, 0);
    const r = checkWatches(committed, watchers, { duplicateOnRemoval: "expect" });
    if (!r.ok) assert.unreachable(`seed ${seed}: ${r.explanation}`);
  }
  assert.ok(events > 500, `only ${events} events delivered`);
});

test("one corrupted stream is always caught", async () => {
  let tried = 0;
  const kinds = new Map<string, number>();
  for (let seed = 1; seed <= 40; seed++) {
    const { committed, watchers } = await simulate(seed);
    const rnd = seededRandom(seed * 7);
    const victims = watchers.filter((x) => x.events.length >= 2);
    if (victims.length === 0) continue;
    const v = victims[Math.floor(rnd() * victims.length)]!;
    const es = v.events.slice();
    const i = Math.floor(rnd() * es.length);
    const mode = seed % 4;
    if (mode === 0) es.splice(i, 1); // lose one
    else if (mode === 1) es.splice(i, 0, { ...es[i]!, index: es[i]!.index + 100_000 }); // invent one
    else if (mode === 2) {
      const j = i === 0 ? 1 : i - 1; // swap two distinct
      if (es[i]!.index === es[j]!.index) continue;
      [es[i], es[j]] = [es[j]!, es[i]!];
    } else es.splice(i, 0, { ...es[i]!, key: es[i]!.key + "x" }); // wrong key
    v.events = es;
    tried++;
    const r = checkWatches(committed, watchers, { duplicateOnRemoval: "expect" });
    if (r.ok) {
      assert.unreachable(`seed ${seed} mode ${mode}: corruption not caught`);
      return;
    }
    kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
  }
  if (VERBOSE) console.log(kinds);
  assert.ok(tried >= 20, `only ${tried} corruptions tried`);
});

test.run();
