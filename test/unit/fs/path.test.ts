import { test } from "uvu";
import * as assert from "uvu/assert";
import { basename, dirname, join } from "../../../core/fs/path.ts";

test("join collapses slashes and keeps absolute roots", () => {
  assert.is(join("/data", "member", "wal"), "/data/member/wal");
  assert.is(join("/data/", "/wal/"), "/data/wal");
  assert.is(join("data", "x.wal"), "data/x.wal");
  assert.is(join("/", "a"), "/a");
  assert.is(join(""), ".");
});

test("dirname", () => {
  assert.is(dirname("/a/b"), "/a");
  assert.is(dirname("/a/b/"), "/a");
  assert.is(dirname("/a"), "/");
  assert.is(dirname("/"), "/");
  assert.is(dirname("a"), ".");
  assert.is(dirname("a/b"), "a");
});

test("basename", () => {
  assert.is(basename("/a/b.wal"), "b.wal");
  assert.is(basename("/a/b/"), "b");
  assert.is(basename("b"), "b");
  assert.is(basename("/"), "/");
});

test.run();
