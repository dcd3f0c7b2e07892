import { test } from "uvu";
import * as assert from "uvu/assert";
import { ErrorCode } from "../../../core/errors.ts";
import { eventJSON } from "../../../core/store/json.ts";
import { Store } from "../../../core/store/store.ts";
import type { StoreEvent, Watcher } from "../../../core/store/types.ts";
import { isHiddenBelow } from "../../../core/watch/hub.ts";
import { T0, cad, cas, create, del, mkdir, set, sync, throwsEtcd, update } from "../store/helpers.ts";

/** Whether p settles within a macrotask (a live watch with nothing to say stays pending). */
async function settled<T>(p: Promise<T>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

/** Reads a watcher without losing events: a next() left pending is reused by the next take(). */
class Reader {
  private pending: Promise<StoreEvent | null> | null = null;
  ended = false;
  constructor(private readonly w: Watcher) {}

  /** Everything available now, stopping when next() would block or the watcher ends. */
  async take(): Promise<StoreEvent[]> {
    const events: StoreEvent[] = [];
    while (!this.ended) {
      const p = this.pending ?? this.w.next();
      this.pending = p;
      if (!(await settled(p))) break;
      this.pending = null;
      const e = await p;
      if (e === null) this.ended = true;
      else events.push(e);
    }
    return events;
  }
}

async function drain(w: Watcher): Promise<{ events: StoreEvent[]; ended: boolean }> {
  const r = new Reader(w);
  const events = await r.take();
  return { events, ended: r.ended };
}

const keys = (es: StoreEvent[]): string[] => es.map((e) => `${e.action} ${e.node.key} ${e.node.modifiedIndex}`);

test("a one-shot watch gets the next event on its key, then ends and is unregistered", async () => {
  const s = new Store();
  s.apply(set("/1/w/a", "1"));
  const w = s.watch("/1/w/a", false, false, 0);
  assert.is(w.startIndex, 1);
  assert.is(s.stats().watchers, 1);
  const p = w.next();
  assert.not.ok(await settled(p));
  s.apply(set("/1/w/other", "x"));
  s.apply(set("/1/w/a", "2"));
  const e = await p;
  assert.is(
    eventJSON(e!, T0),
    '{"action":"set","node":{"key":"/w/a","value":"2","modifiedIndex":3,"createdIndex":3},"prevNode":{"key":"/w/a","value":"1","modifiedIndex":1,"createdIndex":1}}',
  );
  assert.is(e!.etcdIndex, 3);
  assert.is(s.stats().watchers, 0);
  assert.is(await w.next(), null);
  s.apply(set("/1/w/a", "3"));
  assert.is(await w.next(), null);
});

test("events that arrive before next() is called are buffered in order", async () => {
  const s = new Store();
  const w = s.watch("/1", true, true, 0);
  s.apply(set("/1/a", "1"));
  s.apply(set("/1/b", "2"));
  s.apply(update("/1/a", "3"));
  const r = new Reader(w);
  assert.equal(keys(await r.take()), ["set /1/a 1", "set /1/b 2", "update /1/a 3"]);
  assert.not.ok(r.ended);
  w.remove();
  assert.equal(await r.take(), []);
  assert.ok(r.ended);
  assert.is(s.stats().watchers, 0);
});

test("watch on a directory without recursive fires only for the directory's own events", async () => {
  const s = new Store();
  s.apply(mkdir("/1/foo"));
  const w = s.watch("/1/foo", false, true, 0);
  s.apply(set("/1/foo/child", "1"));
  s.apply(update("/1/foo", "", { expireAt: T0 + 1000 }));
  s.apply(set("/1/foo/child", "2"));
  s.apply(del("/1/foo", { recursive: true }));
  const got = await drain(w);
  // the directory's own update, then its delete (twice: see the next test)
  assert.equal(keys(got.events), ["update /1/foo 3", "delete /1/foo 5", "delete /1/foo 5"]);
  w.remove();
});

test("a stream watch on a deleted key gets the delete twice, as etcd 3.4 does (observed)", async () => {
  const s = new Store();
  s.apply(set("/1/k", "1"));
  const exact = s.watch("/1/k", false, true, 0);
  const parent = s.watch("/1", true, true, 0);
  const once = s.watch("/1/k", false, false, 0);
  s.apply(del("/1/k"));
  const ex = new Reader(exact);
  assert.equal(keys(await ex.take()), ["delete /1/k 2", "delete /1/k 2"]);
  assert.equal(keys((await drain(parent)).events), ["delete /1/k 2"]);
  const one = await drain(once);
  assert.equal(keys(one.events), ["delete /1/k 2"]);
  assert.ok(one.ended);
  // compareAndDelete and expire go the same way
  s.apply(set("/1/k", "2"));
  s.apply(cad("/1/k", "2"));
  s.apply(set("/1/k", "3", { expireAt: T0 }));
  s.apply(sync(T0));
  assert.equal(keys(await ex.take()), ["set /1/k 3", "compareAndDelete /1/k 4", "compareAndDelete /1/k 4", "set /1/k 5", "expire /1/k 6", "expire /1/k 6"]);
  exact.remove();
  parent.remove();
});

test("recursive watches see the subtree; a sibling with a common prefix is not in it", async () => {
  const s = new Store();
  const w = s.watch("/1/foo", true, true, 0);
  s.apply(set("/1/foo", "self"));
  s.apply(set("/1/foobar", "no"));
  s.apply(set("/1/bar/foo", "no"));
  s.apply(create("/1/fo", "no"));
  s.apply(del("/1/foo"));
  s.apply(set("/1/foo/a/b", "deep"));
  s.apply(cas("/1/foo/a/b", "deeper", "deep", 0));
  const got = await drain(w);
  assert.equal(keys(got.events), ["set /1/foo 1", "delete /1/foo 5", "delete /1/foo 5", "set /1/foo/a/b 6", "compareAndSwap /1/foo/a/b 7"]);
  w.remove();
});

test("hidden keys: not delivered below the watched path, delivered to watches on or inside them", async () => {
  const s = new Store();
  const onDir = s.watch("/1/s", true, true, 0);
  const onRoot = s.watch("/1", true, true, 0);
  const onHidden = s.watch("/1/s/_hid", false, true, 0);
  const inHiddenDir = s.watch("/1/_hd", true, true, 0);
  s.apply(set("/1/s/a", "1"));
  s.apply(set("/1/s/_hid", "h"));
  s.apply(set("/1/s/b", "2"));
  s.apply(set("/1/_hd/x/y", "h"));
  s.apply(set("/1/s/_hd2/z", "h"));
  assert.equal(keys((await drain(onDir)).events), ["set /1/s/a 1", "set /1/s/b 3"]);
  assert.equal(keys((await drain(onRoot)).events), ["set /1/s/a 1", "set /1/s/b 3"]);
  assert.equal(keys((await drain(onHidden)).events), ["set /1/s/_hid 2"]);
  assert.equal(keys((await drain(inHiddenDir)).events), ["set /1/_hd/x/y 4"]);
  // A history scan does not filter hidden keys.
  const hist = s.watch("/1/s", true, false, 2);
  assert.equal(keys((await drain(hist)).events), ["set /1/s/_hid 2"]);
  for (const w of [onDir, onRoot, onHidden, inHiddenDir]) w.remove();
});

test("isHiddenBelow mirrors etcd's isHidden", () => {
  assert.ok(isHiddenBelow("/1", "/1/_a"));
  assert.ok(isHiddenBelow("/", "/1/_a"));
  assert.ok(isHiddenBelow("/", "/_a"));
  assert.ok(isHiddenBelow("/1/s", "/1/s/_h/x"));
  assert.not.ok(isHiddenBelow("/1/_h", "/1/_h/x"));
  assert.not.ok(isHiddenBelow("/1/s", "/1/s/a_b"));
  assert.not.ok(isHiddenBelow("/1/d/_x", "/1/d")); // a removed descendant's watch
});

test("a child watcher receives the parent's delete; only watchers on removed nodes, live", async () => {
  const s = new Store();
  s.apply(set("/1/d/child", "c"));
  s.apply(set("/1/d/sub/deep", "x"));
  const child = s.watch("/1/d/child", false, false, 0);
  const deep = s.watch("/1/d/sub/deep", false, true, 0);
  const hiddenChild = s.watch("/1/d/_h", false, false, 0);
  const ghost = s.watch("/1/d/nothere", false, false, 0);
  const sibling = s.watch("/1/dx", false, false, 0);
  s.apply(set("/1/d/_h", "h")); // hiddenChild fires here, exact key
  const hid = await hiddenChild.next();
  assert.is(hid!.node.key, "/1/d/_h");
  const hiddenAgain = s.watch("/1/d/_h", false, false, 0);
  s.apply(del("/1/d", { recursive: true }));
  const e = await child.next();
  assert.is(
    eventJSON(e!, T0),
    '{"action":"delete","node":{"key":"/d","dir":true,"modifiedIndex":4,"createdIndex":1},"prevNode":{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(keys((await drain(deep)).events), ["delete /1/d 4"]);
  assert.is((await hiddenAgain.next())!.node.key, "/1/d");
  assert.not.ok(await settled(ghost.next()));
  assert.not.ok(await settled(sibling.next()));
  assert.is(s.stats().watchers, 3); // deep (stream), ghost, sibling
  // History scans use a raw prefix: the ghost path and even /1/dx match the directory delete.
  assert.is((await s.watch("/1/d/nothere", false, false, 4).next())!.node.key, "/1/d");
  assert.is((await s.watch("/1/dx", false, false, 4).next())!.node.key, "/1/d");
  deep.remove();
  ghost.remove();
  sibling.remove();
  assert.is(s.stats().watchers, 0);
});

test("a child watcher receives the parent directory's expire event", async () => {
  const s = new Store();
  s.apply(mkdir("/1/ex/d", T0 + 2000));
  s.apply(set("/1/ex/d/child", "c"));
  const w = s.watch("/1/ex/d/child", false, false, 0);
  const parent = s.watch("/1/ex", true, false, 0);
  s.apply(sync(T0 + 2000));
  const e = await w.next();
  assert.is(
    eventJSON(e!, T0),
    '{"action":"expire","node":{"key":"/ex/d","dir":true,"modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/ex/d","dir":true,"expiration":"2026-01-01T00:00:02Z","ttl":2,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.is((await parent.next())!.action, "expire");
});

test("refreshes are never delivered and history scans skip them", async () => {
  const s = new Store();
  s.apply(set("/1/t", "v", { expireAt: T0 + 5000 }));
  const w = s.watch("/1/t", false, false, 0);
  s.apply(set("/1/t", "", { refresh: true, expireAt: T0 + 9000 }));
  s.apply(update("/1/t", "", { refresh: true, expireAt: T0 + 9000 }));
  s.apply(cas("/1/t", "", "v", 0, { refresh: true, expireAt: T0 + 9000 }));
  const p = w.next();
  assert.not.ok(await settled(p));
  s.apply(update("/1/t", "w", { expireAt: T0 + 9000 }));
  assert.is((await p)!.node.modifiedIndex, 5);
  // From history: index 2..4 are refreshes, the scan lands on 5.
  assert.is((await s.watch("/1/t", false, false, 2).next())!.node.modifiedIndex, 5);
  // A scan that finds only refreshes registers for live events.
  s.apply(set("/1/t", "", { refresh: true, expireAt: T0 + 9000 }));
  const live = s.watch("/1/t", false, false, 6);
  assert.is(s.stats().watchers, 1);
  s.apply(set("/1/t", "x"));
  assert.is((await live.next())!.node.modifiedIndex, 7);
});

test("history watch: an event at or after waitIndex is served at once with the current etcdIndex", async () => {
  const s = new Store();
  s.apply(set("/1/w/a", "1"));
  s.apply(set("/1/w/b", "x"));
  s.apply(set("/1/w/a", "2"));
  const w = s.watch("/1/w/a", false, false, 1);
  assert.is(w.startIndex, 3);
  assert.is(s.stats().watchers, 0);
  const e = await w.next();
  assert.is(eventJSON(e!, T0), '{"action":"set","node":{"key":"/w/a","value":"1","modifiedIndex":1,"createdIndex":1}}');
  assert.is(e!.etcdIndex, 3);
  assert.is(await w.next(), null);
  // inclusive bound
  assert.is((await s.watch("/1/w/a", false, false, 3).next())!.node.value, "2");
  assert.is((await s.watch("/1/w/a", false, false, 2).next())!.node.value, "2");
});

test("a stream watch served from history gets that one event, is never registered, then stays silent", async () => {
  const s = new Store();
  s.apply(set("/1/s/a", "1"));
  const w = s.watch("/1/s", true, true, 1);
  assert.is(s.stats().watchers, 0);
  assert.is((await w.next())!.node.key, "/1/s/a");
  const p = w.next();
  s.apply(set("/1/s/b", "2"));
  assert.not.ok(await settled(p));
  w.remove();
  assert.is(await p, null);
  assert.is(await w.next(), null);
});

test("a future waitIndex registers the watcher and skips earlier events", async () => {
  const s = new Store();
  const w = s.watch("/1/k", false, false, 3);
  assert.is(w.startIndex, 0);
  s.apply(set("/1/k", "1"));
  s.apply(set("/1/k", "2"));
  s.apply(set("/1/k", "3"));
  assert.is((await w.next())!.node.modifiedIndex, 3);
});

test("401 when waitIndex has left the 1000-event window; index is the current store index", () => {
  const s = new Store();
  for (let i = 0; i < 1037; i++) s.apply(set("/1/w/a", String(i)));
  throwsEtcd(() => s.watch("/1/w/a", false, false, 5), ErrorCode.EventIndexCleared, "the requested history has been cleared [38/5]", 1037);
  throwsEtcd(() => s.watch("/1/w/a", false, true, 37), ErrorCode.EventIndexCleared, "the requested history has been cleared [38/37]", 1037);
  assert.is(s.watch("/1/w/a", false, false, 38).startIndex, 1037);
  assert.is(s.stats().watchers, 0);
  // waitIndex 0 is always fine
  assert.is(s.watch("/1/w/a", false, false, 0).startIndex, 1037);
});

test("a watcher whose buffer overflows is dropped: buffered events, then null", async () => {
  const s = new Store({ watcherBuffer: 100 });
  const w = s.watch("/1", true, true, 0);
  const keep = s.watch("/1/k", false, true, 0); // overflows the same way
  for (let i = 1; i <= 99; i++) s.apply(set("/1/k", String(i)));
  assert.is(s.stats().watchers, 2);
  for (let i = 100; i <= 105; i++) s.apply(set("/1/k", String(i)));
  assert.is(s.stats().watchers, 0); // both overflowed at the 101st event
  const got = await drain(w);
  assert.ok(got.ended);
  assert.is(got.events.length, 100);
  assert.is(got.events[99]!.node.modifiedIndex, 100);
  const k = await drain(keep);
  assert.ok(k.ended);
  assert.is(k.events.length, 100);
});

test("a reader that keeps up never overflows; a small buffer overflows early", async () => {
  const s = new Store({ watcherBuffer: 3 });
  const fast = s.watch("/1", true, true, 0);
  const slow = s.watch("/1", true, true, 0);
  const seen: number[] = [];
  for (let i = 1; i <= 10; i++) {
    const p = fast.next();
    s.apply(set("/1/k", String(i)));
    seen.push((await p)!.node.modifiedIndex);
  }
  assert.equal(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.is(s.stats().watchers, 1);
  const got = await drain(slow);
  assert.equal(
    got.events.map((e) => e.node.modifiedIndex),
    [1, 2, 3],
  );
  assert.ok(got.ended);
  fast.remove();
  fast.remove(); // idempotent
  assert.is(s.stats().watchers, 0);
});

test("a reader that lags by a steady amount keeps every event in order", async () => {
  const s = new Store();
  const w = s.watch("/1", true, true, 0);
  for (let i = 1; i <= 50; i++) s.apply(set("/1/k", String(i)));
  let want = 1;
  for (let i = 51; i <= 600; i++) {
    s.apply(set("/1/k", String(i)));
    assert.is((await w.next())!.node.modifiedIndex, want++);
  }
  const rest = await drain(w);
  assert.equal(
    rest.events.map((e) => e.node.modifiedIndex),
    Array.from({ length: 50 }, (_, i) => 551 + i),
  );
  assert.is(s.stats().watchers, 1);
  w.remove();
});

test("remove() wakes a pending next() with null and unregisters", async () => {
  const s = new Store();
  const w = s.watch("/1/x", false, false, 0);
  const p1 = w.next();
  const p2 = w.next();
  assert.is(s.stats().watchers, 1);
  w.remove();
  assert.is(await p1, null);
  assert.is(await p2, null);
  assert.is(s.stats().watchers, 0);
  s.apply(set("/1/x", "1"));
  assert.is(await w.next(), null);
});

test("watchers on /0 and /1 are independent; a root watch sees both namespaces", async () => {
  const s = new Store();
  const users = s.watch("/1", true, true, 0);
  const meta = s.watch("/0", true, true, 0);
  const all = s.watch("/", true, true, 0);
  s.apply(set("/0/version", "3.4.0"));
  s.apply(set("/1/k", "v"));
  assert.equal(keys((await drain(users)).events), ["set /1/k 2"]);
  assert.equal(keys((await drain(meta)).events), ["set /0/version 1"]);
  assert.equal(keys((await drain(all)).events), ["set /0/version 1", "set /1/k 2"]);
});

test("watch paths are cleaned", async () => {
  const s = new Store();
  const w = s.watch("/1/a/", false, false, 0);
  s.apply(set("/1/a", "1"));
  assert.is((await w.next())!.node.key, "/1/a");
});

test.run();
