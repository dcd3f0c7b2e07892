import { test } from "uvu";
import * as assert from "uvu/assert";
import { ErrorCode } from "../../../core/errors.ts";
import { eventJSON } from "../../../core/store/json.ts";
import { Store } from "../../../core/store/store.ts";
import { T0, cad, cas, create, del, mkdir, set, throwsEtcd, update } from "./helpers.ts";

const json = (s: Store, path: string, recursive = false, sorted = false): string => eventJSON(s.get(path, recursive, sorted), T0);

test("a new store is empty at index 0; the user root has no key and no indexes", () => {
  const s = new Store();
  assert.is(s.index, 0);
  const e = s.get("/1", false, false);
  assert.is(e.action, "get");
  assert.is(e.etcdIndex, 0);
  assert.equal(e.node, { key: "/1", dir: true, nodes: [], modifiedIndex: 0, createdIndex: 0 });
  assert.is(eventJSON(e, T0), '{"action":"get","node":{"dir":true}}');
  assert.ok(s.get("/0", false, false).node.dir);
});

test("set creates a file at the next index; get reads it with the current index", () => {
  const s = new Store();
  const e = s.apply(set("/1/foo", "bar"));
  assert.equal(e, { action: "set", node: { key: "/1/foo", value: "bar", modifiedIndex: 1, createdIndex: 1 }, etcdIndex: 1 });
  assert.is(s.index, 1);
  s.apply(set("/1/other", "x"));
  const g = s.get("/1/foo", false, false);
  assert.is(g.etcdIndex, 2);
  assert.is(eventJSON(g, T0), '{"action":"get","node":{"key":"/foo","value":"bar","modifiedIndex":1,"createdIndex":1}}');
});

test("set over a file replaces it: createdIndex resets, prevNode is the old file", () => {
  const s = new Store();
  s.apply(set("/1/foo", "bar"));
  const e = s.apply(set("/1/foo", "baz"));
  assert.is(
    eventJSON(e, T0),
    '{"action":"set","node":{"key":"/foo","value":"baz","modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/foo","value":"bar","modifiedIndex":1,"createdIndex":1}}',
  );
});

test("set creates missing parents at the same index; they are permanent directories", () => {
  const s = new Store();
  s.apply(set("/1/x", "0"));
  s.apply(set("/1/a/b/c", "v"));
  assert.equal(s.get("/1/a", false, false).node, {
    key: "/1/a",
    dir: true,
    nodes: [{ key: "/1/a/b", dir: true, modifiedIndex: 2, createdIndex: 2 }],
    modifiedIndex: 2,
    createdIndex: 2,
  });
  assert.is(s.get("/1/a/b/c", false, false).node.createdIndex, 2);
  assert.not.ok(s.hasTTL());
});

test("set with dir creates a directory (value ignored) and may replace a file", () => {
  const s = new Store();
  const e = s.apply(set("/1/d", "ignored", { dir: true }));
  assert.equal(e.node, { key: "/1/d", dir: true, modifiedIndex: 1, createdIndex: 1 });
  s.apply(set("/1/f", "v"));
  const r = s.apply(set("/1/f", "", { dir: true }));
  assert.is(eventJSON(r, T0), '{"action":"set","node":{"key":"/f","dir":true,"modifiedIndex":3,"createdIndex":3},"prevNode":{"key":"/f","value":"v","modifiedIndex":2,"createdIndex":2}}');
});

test("set errors: 102 over a directory (even with dir), 104 through a file, 107 on the roots", () => {
  const s = new Store();
  s.apply(mkdir("/1/d"));
  s.apply(set("/1/f", "v"));
  throwsEtcd(() => s.apply(set("/1/d", "x")), ErrorCode.NotFile, "/1/d", 2);
  throwsEtcd(() => s.apply(mkdir("/1/d")), ErrorCode.NotFile, "/1/d", 2);
  throwsEtcd(() => s.apply(set("/1/f/g", "x")), ErrorCode.NotDir, "/1/f", 2);
  throwsEtcd(() => s.apply(set("/1/f/g/h", "x")), ErrorCode.NotDir, "/1/f", 2);
  throwsEtcd(() => s.apply(set("/1", "x")), ErrorCode.RootReadOnly, "/", 2);
  throwsEtcd(() => s.apply(set("/0", "x")), ErrorCode.RootReadOnly, "/", 2);
  throwsEtcd(() => s.apply(set("/", "x")), ErrorCode.RootReadOnly, "/", 2);
  assert.is(s.index, 2);
});

test("paths are cleaned: trailing slash, doubled slashes and dots", () => {
  const s = new Store();
  s.apply(set("/1/a//b/", "v"));
  assert.is(s.get("/1/a/b", false, false).node.value, "v");
  assert.is(s.get("/1/a/./b/../b/", false, false).node.key, "/1/a/b");
  throwsEtcd(() => s.apply(set("/1/x/..", "x")), ErrorCode.RootReadOnly, "/", 1);
});

test("cluster metadata under /0 is an ordinary subtree and raises the index", () => {
  const s = new Store();
  s.apply(set("/0/members/8e9e05c52164694d/attributes", '{"name":"t"}'));
  s.apply(set("/0/version", "3.4.0"));
  assert.is(s.index, 2);
  assert.equal(s.get("/1", true, false).node.nodes, []);
  assert.is(s.get("/0/members", true, true).node.nodes![0]!.nodes![0]!.value, '{"name":"t"}');
});

test("get: 100 with the first missing component, 104 through a file", () => {
  const s = new Store();
  s.apply(set("/1/f", "v"));
  throwsEtcd(() => s.get("/1/missing", false, false), ErrorCode.KeyNotFound, "/1/missing", 1);
  throwsEtcd(() => s.get("/1/a/b/c", false, false), ErrorCode.KeyNotFound, "/1/a", 1);
  throwsEtcd(() => s.get("/1/f/x/y", false, false), ErrorCode.NotDir, "/1/f", 1);
});

test("listing: direct children only without recursive; hidden children left out", () => {
  const s = new Store();
  s.apply(set("/1/d/b", "2"));
  s.apply(set("/1/d/a/x", "1"));
  s.apply(set("/1/d/_h", "h"));
  s.apply(set("/1/d/_hd/y", "h"));
  s.apply(set("/1/d/a/_z", "z"));
  assert.is(
    json(s, "/1/d"),
    '{"action":"get","node":{"key":"/d","dir":true,"nodes":[{"key":"/d/b","value":"2","modifiedIndex":1,"createdIndex":1},{"key":"/d/a","dir":true,"modifiedIndex":2,"createdIndex":2}],"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.is(
    json(s, "/1/d", true, true),
    '{"action":"get","node":{"key":"/d","dir":true,"nodes":[{"key":"/d/a","dir":true,"nodes":[{"key":"/d/a/x","value":"1","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2},{"key":"/d/b","value":"2","modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}}',
  );
  // Hidden nodes can be read directly, and a hidden directory lists its visible children.
  assert.is(s.get("/1/d/_h", false, false).node.value, "h");
  assert.equal(s.get("/1/d/_hd", false, false).node.nodes!.map((n) => n.key), ["/1/d/_hd/y"]);
  // recursive and sorted change nothing on a file
  assert.is(json(s, "/1/d/b", true, true), json(s, "/1/d/b"));
});

test("unsorted listings keep insertion order; a replaced file moves to the end; sorted is by key", () => {
  const s = new Store();
  for (const k of ["c", "a", "b"]) s.apply(set("/1/" + k, k));
  assert.equal(s.get("/1", false, false).node.nodes!.map((n) => n.key), ["/1/c", "/1/a", "/1/b"]);
  s.apply(set("/1/c", "again"));
  assert.equal(s.get("/1", false, false).node.nodes!.map((n) => n.key), ["/1/a", "/1/b", "/1/c"]);
  s.apply(set("/1/B", "upper"));
  s.apply(set("/1/é", "accent"));
  s.apply(set("/1/\uff21", "fullwidth"));
  s.apply(set("/1/\u{1F600}", "emoji"));
  // Byte order of the UTF-8 keys: "B" < "a" < "é" < U+FF21 < U+1F600
  assert.equal(s.get("/1", false, true).node.nodes!.map((n) => n.key), ["/1/B", "/1/a", "/1/b", "/1/c", "/1/é", "/1/\uff21", "/1/\u{1F600}"]);
});

test("get on the user root lists everything under it with no key and no indexes", () => {
  const s = new Store();
  s.apply(set("/1/queue/x", "1"));
  s.apply(set("/0/version", "3.4.0"));
  assert.is(
    json(s, "/1", true, true),
    '{"action":"get","node":{"dir":true,"nodes":[{"key":"/queue","dir":true,"nodes":[{"key":"/queue/x","value":"1","modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}]}}',
  );
});

test("create: new node, action create; 105 on any existing node; 104 through a file; 107 on roots", () => {
  const s = new Store();
  const e = s.apply(create("/1/c", "v"));
  assert.equal(e, { action: "create", node: { key: "/1/c", value: "v", modifiedIndex: 1, createdIndex: 1 }, etcdIndex: 1 });
  s.apply(mkdir("/1/d"));
  throwsEtcd(() => s.apply(create("/1/c", "w")), ErrorCode.NodeExist, "/1/c", 2);
  throwsEtcd(() => s.apply(create("/1/d", "w", { dir: true })), ErrorCode.NodeExist, "/1/d", 2);
  throwsEtcd(() => s.apply(create("/1/c/x", "w")), ErrorCode.NotDir, "/1/c", 2);
  throwsEtcd(() => s.apply(create("/1", "w")), ErrorCode.RootReadOnly, "/", 2);
  const d = s.apply(create("/1/p/q", "", { dir: true }));
  assert.equal(d.node, { key: "/1/p/q", dir: true, modifiedIndex: 3, createdIndex: 3 });
  assert.is(s.get("/1/p", false, false).node.createdIndex, 3);
});

test("create unique: the name is the new index padded to 20 digits; works on the root", () => {
  const s = new Store();
  s.apply(set("/1/x", "1"));
  s.apply(set("/1/y", "1"));
  s.apply(set("/1/z", "1"));
  s.apply(set("/1/w", "1"));
  s.apply(set("/1/v", "1"));
  const a = s.apply(create("/1/queue", "job1", { unique: true }));
  assert.is(eventJSON(a, T0), '{"action":"create","node":{"key":"/queue/00000000000000000006","value":"job1","modifiedIndex":6,"createdIndex":6}}');
  s.apply(create("/1/queue", "job2", { unique: true }));
  assert.is(
    json(s, "/1/queue", true, true),
    '{"action":"get","node":{"key":"/queue","dir":true,"nodes":[{"key":"/queue/00000000000000000006","value":"job1","modifiedIndex":6,"createdIndex":6},{"key":"/queue/00000000000000000007","value":"job2","modifiedIndex":7,"createdIndex":7}],"modifiedIndex":6,"createdIndex":6}}',
  );
  const r = s.apply(create("/1", "top", { unique: true }));
  assert.is(r.node.key, "/1/00000000000000000008");
  const dir = s.apply(create("/1/queue", "", { unique: true, dir: true }));
  assert.equal(dir.node, { key: "/1/queue/00000000000000000009", dir: true, modifiedIndex: 9, createdIndex: 9 });
  throwsEtcd(() => s.apply(create("/1/x", "v", { unique: true })), ErrorCode.NotDir, "/1/x", 9);
});

test("update keeps createdIndex, sets modifiedIndex, reports prevNode", () => {
  const s = new Store();
  s.apply(set("/1/u", "a"));
  s.apply(set("/1/other", "a"));
  const e = s.apply(update("/1/u", "b"));
  assert.is(
    eventJSON(e, T0),
    '{"action":"update","node":{"key":"/u","value":"b","modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/u","value":"a","modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal(s.get("/1/u", false, false).node, { key: "/1/u", value: "b", modifiedIndex: 3, createdIndex: 1 });
});

test("update errors: 107, 100, 104, 102 for a directory with a value", () => {
  const s = new Store();
  s.apply(mkdir("/1/d"));
  s.apply(set("/1/f", "v"));
  throwsEtcd(() => s.apply(update("/1", "x")), ErrorCode.RootReadOnly, "/", 2);
  throwsEtcd(() => s.apply(update("/1/nope/x", "x")), ErrorCode.KeyNotFound, "/1/nope", 2);
  throwsEtcd(() => s.apply(update("/1/f/x", "x")), ErrorCode.NotDir, "/1/f", 2);
  throwsEtcd(() => s.apply(update("/1/d", "x")), ErrorCode.NotFile, "/1/d", 2);
});

test("update of a directory: the event says the new index, the directory keeps its old one", () => {
  const s = new Store();
  s.apply(mkdir("/1/d"));
  s.apply(set("/1/d/x", "1"));
  const e = s.apply(update("/1/d", "", { expireAt: T0 + 60000 }));
  assert.is(
    eventJSON(e, T0),
    '{"action":"update","node":{"key":"/d","dir":true,"expiration":"2026-01-01T00:01:00Z","ttl":60,"modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}}',
  );
  const g = s.get("/1/d", false, false).node;
  assert.is(g.modifiedIndex, 1);
  assert.is(g.expireAt, T0 + 60000);
  assert.is(s.index, 3);
});

test("compareAndSwap: value, index, both; keeps createdIndex", () => {
  const s = new Store();
  s.apply(set("/1/u", "c"));
  const e = s.apply(cas("/1/u", "d", "c", 0));
  assert.is(
    eventJSON(e, T0),
    '{"action":"compareAndSwap","node":{"key":"/u","value":"d","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/u","value":"c","modifiedIndex":1,"createdIndex":1}}',
  );
  assert.is(s.apply(cas("/1/u", "e", "", 2)).node.value, "e");
  assert.is(s.apply(cas("/1/u", "f", "e", 3)).node.modifiedIndex, 4);
  assert.equal(s.get("/1/u", false, false).node, { key: "/1/u", value: "f", modifiedIndex: 4, createdIndex: 1 });
});

test("compareAndSwap failures: 101 causes in etcd's three forms, 102, 100, 104, 107", () => {
  const s = new Store();
  s.apply(set("/1/u", "d"));
  s.apply(mkdir("/1/dir"));
  throwsEtcd(() => s.apply(cas("/1/u", "x", "zzz", 0)), ErrorCode.TestFailed, "[zzz != d]", 2);
  throwsEtcd(() => s.apply(cas("/1/u", "x", "", 7)), ErrorCode.TestFailed, "[7 != 1]", 2);
  throwsEtcd(() => s.apply(cas("/1/u", "x", "zzz", 7)), ErrorCode.TestFailed, "[zzz != d] [7 != 1]", 2);
  throwsEtcd(() => s.apply(cas("/1/u", "x", "d", 7)), ErrorCode.TestFailed, "[7 != 1]", 2);
  throwsEtcd(() => s.apply(cas("/1/u", "x", "zzz", 1)), ErrorCode.TestFailed, "[zzz != d]", 2);
  throwsEtcd(() => s.apply(cas("/1/dir", "x", "a", 0)), ErrorCode.NotFile, "/1/dir", 2);
  throwsEtcd(() => s.apply(cas("/1/none", "x", "a", 0)), ErrorCode.KeyNotFound, "/1/none", 2);
  throwsEtcd(() => s.apply(cas("/1/u/x", "x", "a", 0)), ErrorCode.NotDir, "/1/u", 2);
  throwsEtcd(() => s.apply(cas("/1", "x", "a", 0)), ErrorCode.RootReadOnly, "/", 2);
  assert.is(s.index, 2);
});

test("delete a file: node has no value, new modifiedIndex, old createdIndex; dir flags do not matter", () => {
  const s = new Store();
  s.apply(set("/1/k", "1"));
  const e = s.apply(del("/1/k"));
  assert.is(eventJSON(e, T0), '{"action":"delete","node":{"key":"/k","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/k","value":"1","modifiedIndex":1,"createdIndex":1}}');
  assert.is(e.etcdIndex, 2);
  s.apply(set("/1/k2", "1"));
  s.apply(del("/1/k2", { dir: true, recursive: true }));
  throwsEtcd(() => s.get("/1/k2", false, false), ErrorCode.KeyNotFound, "/1/k2", 4);
});

test("delete a directory: 102 without dir, 108 when not empty, recursive removes the subtree", () => {
  const s = new Store();
  s.apply(mkdir("/1/d1"));
  s.apply(set("/1/d1/a/b", "x"));
  throwsEtcd(() => s.apply(del("/1/d1")), ErrorCode.NotFile, "/1/d1", 2);
  throwsEtcd(() => s.apply(del("/1/d1", { dir: true })), ErrorCode.DirNotEmpty, "/1/d1", 2);
  const e = s.apply(del("/1/d1", { recursive: true }));
  assert.is(
    eventJSON(e, T0),
    '{"action":"delete","node":{"key":"/d1","dir":true,"modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/d1","dir":true,"modifiedIndex":1,"createdIndex":1}}',
  );
  throwsEtcd(() => s.get("/1/d1/a/b", false, false), ErrorCode.KeyNotFound, "/1/d1", 3);
  s.apply(mkdir("/1/empty"));
  assert.is(s.apply(del("/1/empty", { dir: true })).action, "delete");
});

test("delete errors: 107 on the roots, 100 missing, 104 through a file", () => {
  const s = new Store();
  s.apply(set("/1/f", "v"));
  throwsEtcd(() => s.apply(del("/1", { recursive: true })), ErrorCode.RootReadOnly, "/", 1);
  throwsEtcd(() => s.apply(del("/0", { recursive: true })), ErrorCode.RootReadOnly, "/", 1);
  throwsEtcd(() => s.apply(del("/1/nope")), ErrorCode.KeyNotFound, "/1/nope", 1);
  throwsEtcd(() => s.apply(del("/1/f/g")), ErrorCode.NotDir, "/1/f", 1);
});

test("compareAndDelete: success shape; 101, 102 for directories and for the root (cause /1), 100", () => {
  const s = new Store();
  s.apply(set("/1/cad", "x"));
  throwsEtcd(() => s.apply(cad("/1/cad", "y")), ErrorCode.TestFailed, "[y != x]", 1);
  throwsEtcd(() => s.apply(cad("/1/cad", "", 9)), ErrorCode.TestFailed, "[9 != 1]", 1);
  throwsEtcd(() => s.apply(cad("/1/cad", "y", 9)), ErrorCode.TestFailed, "[y != x] [9 != 1]", 1);
  // No read-only check: the root is found and refused as a directory (HTTP shows no cause).
  throwsEtcd(() => s.apply(cad("/1", "x")), ErrorCode.NotFile, "/1", 1);
  s.apply(mkdir("/1/d"));
  throwsEtcd(() => s.apply(cad("/1/d", "x")), ErrorCode.NotFile, "/1/d", 2);
  throwsEtcd(() => s.apply(cad("/1/none", "x")), ErrorCode.KeyNotFound, "/1/none", 2);
  const e = s.apply(cad("/1/cad", "x", 1));
  assert.is(
    eventJSON(e, T0),
    '{"action":"compareAndDelete","node":{"key":"/cad","modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/cad","value":"x","modifiedIndex":1,"createdIndex":1}}',
  );
  throwsEtcd(() => s.get("/1/cad", false, false), ErrorCode.KeyNotFound, "/1/cad", 3);
});

test("failed operations and reads never raise the index", () => {
  const s = new Store();
  s.apply(set("/1/a", "1"));
  const tries = [() => s.apply(create("/1/a", "")), () => s.apply(update("/1/zz", "")), () => s.apply(del("/1/zz")), () => s.apply(cas("/1/a", "", "q", 0))];
  for (const t of tries) assert.throws(t);
  s.get("/1/a", false, false);
  s.apply({ op: "get", path: "/1/a", recursive: false, sorted: false });
  assert.is(s.index, 1);
});

test("quorum get through apply is a get", () => {
  const s = new Store();
  s.apply(set("/1/a", "1"));
  const e = s.apply({ op: "get", path: "/1/a", recursive: false, sorted: false });
  assert.equal(e, { action: "get", node: { key: "/1/a", value: "1", modifiedIndex: 1, createdIndex: 1 }, etcdIndex: 1 });
  throwsEtcd(() => s.apply({ op: "get", path: "/1/b", recursive: false, sorted: false }), ErrorCode.KeyNotFound, "/1/b", 1);
  assert.is(s.stats().getsSuccess, 1);
  assert.is(s.stats().getsFail, 1);
});

test("views are copies: editing a result changes neither the tree nor the history", () => {
  const s = new Store();
  const e = s.apply(set("/1/a", "1"));
  e.node.value = "changed";
  (e as { node?: unknown }).node = undefined;
  const g = s.get("/1/a", false, false);
  g.node.value = "changed";
  assert.is(s.get("/1/a", false, false).node.value, "1");
  const w = s.watch("/1/a", false, false, 1);
  return w.next().then((ev) => assert.is(ev!.node.value, "1"));
});

test.run();
