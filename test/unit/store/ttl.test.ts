import { test } from "uvu";
import * as assert from "uvu/assert";
import { ErrorCode } from "../../../core/errors.ts";
import { eventJSON } from "../../../core/store/json.ts";
import { Store } from "../../../core/store/store.ts";
import { T0, cas, create, del, mkdir, set, sync, throwsEtcd, update } from "./helpers.ts";

test("a TTL key shows expiration and ttl; hasTTL follows the keys with a TTL", () => {
  const s = new Store();
  assert.not.ok(s.hasTTL());
  const e = s.apply(set("/1/t1", "v", { expireAt: T0 + 5000 }));
  assert.is(eventJSON(e, T0), '{"action":"set","node":{"key":"/t1","value":"v","expiration":"2026-01-01T00:00:05Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}');
  assert.ok(s.hasTTL());
  // The ttl counts down with the reader's clock.
  assert.match(eventJSON(s.get("/1/t1", false, false), T0 + 1200), /"ttl":4,/);
  assert.match(eventJSON(s.get("/1/t1", false, false), T0 + 4999), /"ttl":1,/);
  assert.not.match(eventJSON(s.get("/1/t1", false, false), T0 + 5000), /"ttl"/);
  assert.match(eventJSON(s.get("/1/t1", false, false), T0 + 7000), /"ttl":-2,/);
  s.apply(del("/1/t1"));
  assert.not.ok(s.hasTTL());
});

test("set, update and compareAndSwap without a TTL remove it", () => {
  const s = new Store();
  s.apply(set("/1/a", "1", { expireAt: T0 + 1000 }));
  s.apply(set("/1/a", "2"));
  assert.not.ok(s.hasTTL());
  assert.is(s.get("/1/a", false, false).node.expireAt, undefined);

  s.apply(set("/1/u", "b", { expireAt: T0 + 50000 }));
  const u = s.apply(update("/1/u", "c"));
  assert.is(
    eventJSON(u, T0),
    '{"action":"update","node":{"key":"/u","value":"c","modifiedIndex":4,"createdIndex":3},"prevNode":{"key":"/u","value":"b","expiration":"2026-01-01T00:00:50Z","ttl":50,"modifiedIndex":3,"createdIndex":3}}',
  );
  assert.not.ok(s.hasTTL());

  s.apply(update("/1/u", "c", { expireAt: T0 + 9000 }));
  assert.ok(s.hasTTL());
  const c = s.apply(cas("/1/u", "d", "c", 0));
  assert.is(c.node.expireAt, undefined);
  assert.not.ok(s.hasTTL());
  // Nothing left to expire.
  s.apply(sync(T0 + 100000));
  assert.is(s.get("/1/u", false, false).node.value, "d");
});

test("update and CAS with a TTL add, move and keep the expiry", () => {
  const s = new Store();
  s.apply(set("/1/a", "1"));
  const e = s.apply(update("/1/a", "2", { expireAt: T0 + 3000 }));
  assert.is(e.node.expireAt, T0 + 3000);
  s.apply(cas("/1/a", "3", "2", 0, { expireAt: T0 + 10000 }));
  s.apply(sync(T0 + 5000));
  assert.is(s.get("/1/a", false, false).node.value, "3");
  const ex = s.apply(sync(T0 + 10000));
  assert.is(ex.etcdIndex, 4);
  throwsEtcd(() => s.get("/1/a", false, false), ErrorCode.KeyNotFound, "/1/a", 4);
});

test("expiry times before 2000 make set and create permanent, but not update", () => {
  const s = new Store();
  s.apply(set("/1/a", "1", { expireAt: Date.UTC(1999, 11, 31) }));
  s.apply(create("/1/b", "1", { expireAt: 1000 }));
  assert.not.ok(s.hasTTL());
  s.apply(update("/1/a", "2", { expireAt: 1000 }));
  assert.ok(s.hasTTL());
  s.apply(sync(T0));
  throwsEtcd(() => s.get("/1/a", false, false), ErrorCode.KeyNotFound, "/1/a", 4);
  // expireAt 0 is "no TTL" everywhere (etcd: Expiration 0)
  s.apply(set("/1/z", "1", { expireAt: T0 }));
  s.apply(update("/1/z", "1", { expireAt: 0 }));
  assert.not.ok(s.hasTTL());
});

test("sync expires every node due, in expiry order, one event and one index each", () => {
  const s = new Store();
  s.apply(set("/1/late", "l", { expireAt: T0 + 3000 }));
  s.apply(set("/1/early", "e", { expireAt: T0 + 1000 }));
  s.apply(set("/1/never", "n"));
  s.apply(set("/1/later", "x", { expireAt: T0 + 9000 }));
  const events = s.deleteExpired(T0 + 3000);
  assert.equal(
    events.map((e) => [e.action, e.node.key, e.etcdIndex]),
    [
      ["expire", "/1/early", 5],
      ["expire", "/1/late", 6],
    ],
  );
  assert.is(
    eventJSON(events[0]!, T0),
    '{"action":"expire","node":{"key":"/early","modifiedIndex":5,"createdIndex":2},"prevNode":{"key":"/early","value":"e","expiration":"2026-01-01T00:00:01Z","ttl":1,"modifiedIndex":2,"createdIndex":2}}',
  );
  assert.is(s.index, 6);
  assert.is(s.stats().expireCount, 2);
  // Nothing due: nothing happens.
  s.apply(sync(T0 + 8999));
  assert.is(s.index, 6);
  assert.ok(s.hasTTL());
  assert.equal(s.get("/1", false, true).node.nodes!.map((n) => n.key), ["/1/later", "/1/never"]);
});

test("a key is still readable after its expiry until a sync removes it", () => {
  const s = new Store();
  s.apply(set("/1/t", "v", { expireAt: T0 }));
  assert.is(s.get("/1/t", false, false).node.value, "v");
  s.apply(sync(T0 - 1));
  assert.is(s.get("/1/t", false, false).node.value, "v");
  s.apply(sync(T0)); // expireAt <= time
  throwsEtcd(() => s.get("/1/t", false, false), ErrorCode.KeyNotFound, "/1/t", 2);
});

test("replacing or deleting a TTL node takes it out of the heap", () => {
  const s = new Store();
  s.apply(set("/1/a", "1", { expireAt: T0 + 1000 }));
  s.apply(set("/1/a", "2", { expireAt: T0 + 5000 }));
  s.apply(set("/1/b", "1", { expireAt: T0 + 1000 }));
  s.apply(del("/1/b"));
  assert.equal(s.deleteExpired(T0 + 2000), []);
  assert.is(s.deleteExpired(T0 + 5000).length, 1);
  assert.not.ok(s.hasTTL());
});

test("refresh through set: key must exist, value kept, node re-created, index raised", () => {
  const s = new Store();
  throwsEtcd(() => s.apply(set("/1/d/t", "", { refresh: true, expireAt: T0 + 1000 })), ErrorCode.KeyNotFound, "/1/d", 0);
  s.apply(set("/1/t", "v", { expireAt: T0 + 5000 }));
  s.apply(set("/1/other", "x"));
  const e = s.apply(set("/1/t", "", { refresh: true, expireAt: T0 + 20000 }));
  assert.is(e.refresh, true);
  assert.is(e.action, "set");
  assert.is(
    eventJSON(e, T0),
    '{"action":"set","node":{"key":"/t","value":"v","expiration":"2026-01-01T00:00:20Z","ttl":20,"modifiedIndex":3,"createdIndex":3},"prevNode":{"key":"/t","value":"v","expiration":"2026-01-01T00:00:05Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.is(s.index, 3);
  assert.equal(s.deleteExpired(T0 + 10000), []);
  assert.is(s.deleteExpired(T0 + 20000).length, 1);
});

test("refresh through update keeps createdIndex and the value", () => {
  const s = new Store();
  s.apply(set("/1/t", "v", { expireAt: T0 + 5000 }));
  const e = s.apply(update("/1/t", "", { refresh: true, expireAt: T0 + 60000 }));
  assert.equal([e.action, e.refresh, e.node.value, e.node.createdIndex, e.node.modifiedIndex, e.node.expireAt], ["update", true, "v", 1, 2, T0 + 60000]);
  throwsEtcd(() => s.apply(update("/1/none", "", { refresh: true, expireAt: T0 })), ErrorCode.KeyNotFound, "/1/none", 2);
});

test("refresh through compareAndSwap compares first, then keeps the value", () => {
  const s = new Store();
  s.apply(set("/1/t", "v", { expireAt: T0 + 5000 }));
  throwsEtcd(() => s.apply(cas("/1/t", "", "w", 0, { refresh: true, expireAt: T0 + 9000 })), ErrorCode.TestFailed, "[w != v]", 1);
  const e = s.apply(cas("/1/t", "", "v", 1, { refresh: true, expireAt: T0 + 9000 }));
  assert.equal([e.action, e.refresh, e.node.value, e.node.createdIndex, e.node.expireAt], ["compareAndSwap", true, "v", 1, T0 + 9000]);
});

test("directory TTL: created, changed by update, made permanent by update without ttl", () => {
  const s = new Store();
  const e = s.apply(mkdir("/1/d", T0 + 30000));
  assert.is(eventJSON(e, T0), '{"action":"set","node":{"key":"/d","dir":true,"expiration":"2026-01-01T00:00:30Z","ttl":30,"modifiedIndex":1,"createdIndex":1}}');
  s.apply(update("/1/d", "", { expireAt: T0 + 60000 }));
  assert.equal(s.deleteExpired(T0 + 30000), []);
  s.apply(update("/1/d", ""));
  assert.not.ok(s.hasTTL());
  assert.equal(s.deleteExpired(T0 + 600000), []);
});

test("an expiring directory takes its subtree, TTL children included, in one event", () => {
  const s = new Store();
  s.apply(mkdir("/1/ex/d", T0 + 2000));
  s.apply(set("/1/ex/d/child", "c", { expireAt: T0 + 5000 }));
  s.apply(set("/1/ex/d/sub/deep", "x", { expireAt: T0 + 2000 }));
  s.apply(set("/1/ex/d/perm", "p"));
  const events = s.deleteExpired(T0 + 2000);
  assert.is(events.length, 1);
  assert.is(
    eventJSON(events[0]!, T0),
    '{"action":"expire","node":{"key":"/ex/d","dir":true,"modifiedIndex":5,"createdIndex":1},"prevNode":{"key":"/ex/d","dir":true,"expiration":"2026-01-01T00:00:02Z","ttl":2,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.not.ok(s.hasTTL());
  throwsEtcd(() => s.get("/1/ex/d/perm", false, false), ErrorCode.KeyNotFound, "/1/ex/d", 5);
  assert.ok(s.get("/1/ex", false, false).node.dir);
});

test("a child due before its directory expires on its own first", () => {
  const s = new Store();
  s.apply(mkdir("/1/d", T0 + 3000));
  s.apply(set("/1/d/c", "c", { expireAt: T0 + 1000 }));
  const events = s.deleteExpired(T0 + 3000);
  assert.equal(
    events.map((e) => [e.node.key, e.etcdIndex]),
    [
      ["/1/d/c", 3],
      ["/1/d", 4],
    ],
  );
});

test("equal expiry times expire in path order, so a directory goes before its children", () => {
  const s = new Store();
  s.apply(set("/1/b", "1", { expireAt: T0 }));
  s.apply(set("/1/a/x", "1", { expireAt: T0 }));
  s.apply(update("/1/a", "", { expireAt: T0 }));
  s.apply(set("/1/c", "1", { expireAt: T0 }));
  assert.equal(
    s.deleteExpired(T0).map((e) => e.node.key),
    ["/1/a", "/1/b", "/1/c"],
  );
});

test("many TTL keys expire in expiry order with consecutive indexes", () => {
  const s = new Store();
  const n = 500;
  for (let i = 0; i < n; i++) s.apply(set(`/1/k${i}`, "v", { expireAt: T0 + ((i * 7919) % n) * 10 }));
  const events = s.deleteExpired(T0 + n * 10);
  assert.is(events.length, n);
  let last = -1;
  events.forEach((e, i) => {
    assert.is(e.etcdIndex, n + 1 + i);
    assert.ok(e.prevNode!.expireAt! >= last);
    last = e.prevNode!.expireAt!;
  });
});

test.run();
