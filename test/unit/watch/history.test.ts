import { test } from "uvu";
import * as assert from "uvu/assert";
import { EtcdError, ErrorCode } from "../../../core/errors.ts";
import type { Action, StoreEvent } from "../../../core/store/types.ts";
import { EventHistory } from "../../../core/watch/history.ts";

function ev(index: number, action: Action, key: string, o: { dir?: boolean; refresh?: boolean } = {}): StoreEvent {
  const e: StoreEvent = { action, node: { key, modifiedIndex: index, createdIndex: 1 }, etcdIndex: index };
  if (action === "delete" || action === "expire") {
    e.prevNode = { key, modifiedIndex: 1, createdIndex: 1 };
    if (o.dir) {
      e.node.dir = true;
      e.prevNode.dir = true;
    }
  }
  if (o.refresh) e.refresh = true;
  return e;
}

function filled(...events: StoreEvent[]): EventHistory {
  const h = new EventHistory(1000);
  for (const e of events) h.add(e);
  return h;
}

const idx = (e: StoreEvent | null): number | null => (e === null ? null : e.node.modifiedIndex);

test("an empty history has nothing and never reports cleared", () => {
  const h = new EventHistory(10);
  assert.is(h.startIndex, 0);
  assert.is(h.lastIndex, 0);
  assert.is(h.scan("/1/a", false, 1), null);
  assert.is(h.scan("/1/a", true, 5), null);
});

test("scan returns the first match at or after the index, exact key or subtree", () => {
  const h = filled(ev(1, "set", "/1/a"), ev(2, "set", "/1/foo/x"), ev(3, "set", "/1/foobar"), ev(4, "set", "/1/foo"), ev(5, "set", "/1/a"));
  assert.is(idx(h.scan("/1/a", false, 1)), 1);
  assert.is(idx(h.scan("/1/a", false, 2)), 5);
  assert.is(idx(h.scan("/1/foo", false, 1)), 4);
  assert.is(idx(h.scan("/1/foo", true, 1)), 2);
  // The subtree test has a slash boundary.
  assert.is(idx(h.scan("/1/foo", true, 3)), 4);
  assert.is(idx(h.scan("/1", true, 3)), 3);
  assert.is(idx(h.scan("/", true, 1)), 1);
  assert.is(h.scan("/1/zzz", true, 1), null);
  assert.is(h.scan("/1/a", false, 6), null); // beyond the newest
});

test("scan skips refreshes but not hidden keys", () => {
  const h = filled(ev(1, "set", "/1/k", { refresh: true }), ev(2, "set", "/1/s/_hid"), ev(3, "update", "/1/k"));
  assert.is(idx(h.scan("/1/k", false, 1)), 3);
  assert.is(idx(h.scan("/1/s", true, 1)), 2);
});

test("a deleted or expired directory matches watches below it by raw string prefix", () => {
  const h = filled(ev(1, "delete", "/1/foo", { dir: true }), ev(2, "expire", "/1/bar", { dir: true }), ev(3, "delete", "/1/file"));
  assert.is(idx(h.scan("/1/foo/child", false, 1)), 1);
  assert.is(idx(h.scan("/1/foobar", false, 1)), 1); // etcd's quirk: no slash boundary
  assert.is(idx(h.scan("/1/bar/x/y", false, 1)), 2);
  // A deleted file does not match paths that merely start with its key.
  assert.is(h.scan("/1/file/x", false, 3), null);
  assert.is(h.scan("/1/filex", false, 3), null);
});

test("the window slides: 401 with [oldest/requested] below it", () => {
  const h = new EventHistory(1000);
  for (let i = 1; i <= 1037; i++) h.add(ev(i, "set", "/1/w/a"));
  assert.is(h.size, 1000);
  assert.is(h.startIndex, 38);
  assert.is(h.lastIndex, 1037);
  try {
    h.scan("/1/w/a", false, 5);
    assert.unreachable("expected 401");
  } catch (e) {
    assert.ok(e instanceof EtcdError);
    assert.is(e.errorCode, ErrorCode.EventIndexCleared);
    assert.is(e.cause, "the requested history has been cleared [38/5]");
    assert.is(e.status, 400);
  }
  assert.is(idx(h.scan("/1/w/a", false, 38)), 38);
  assert.is(idx(h.scan("/1/w/a", false, 1037)), 1037);
  assert.equal(
    h.events().slice(0, 2).map((e) => e.node.modifiedIndex),
    [38, 39],
  );
});

test("a small ring wraps correctly", () => {
  const h = new EventHistory(3);
  for (let i = 1; i <= 7; i++) h.add(ev(i, "set", i % 2 === 0 ? "/1/even" : "/1/odd"));
  assert.equal(
    h.events().map((e) => e.node.modifiedIndex),
    [5, 6, 7],
  );
  assert.is(idx(h.scan("/1/even", false, 5)), 6);
  assert.is(idx(h.scan("/1/odd", false, 6)), 7);
  assert.is(h.scan("/1/even", false, 7), null);
  assert.throws(() => h.scan("/1/odd", false, 4), (e: unknown) => e instanceof EtcdError && e.cause === "the requested history has been cleared [5/4]");
});

test.run();
