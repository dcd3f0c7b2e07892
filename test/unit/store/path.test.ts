import { test } from "uvu";
import * as assert from "uvu/assert";
import { baseName, cleanPath, externalKey, joinPath, splitPath } from "../../../core/store/path.ts";

test("cleanPath follows Go path.Clean", () => {
  // Cases from Go's path/path_test.go, rewritten here.
  const cases: [string, string][] = [
    ["", "."],
    ["abc", "abc"],
    ["abc/def", "abc/def"],
    [".", "."],
    ["..", ".."],
    ["../..", "../.."],
    ["../../abc", "../../abc"],
    ["/abc", "/abc"],
    ["/", "/"],
    ["abc/", "abc"],
    ["/abc/", "/abc"],
    ["//abc", "/abc"],
    ["abc//def//ghi", "abc/def/ghi"],
    ["abc/./def", "abc/def"],
    ["/./abc/def", "/abc/def"],
    ["abc/.", "abc"],
    ["abc/def/ghi/../jkl", "abc/def/jkl"],
    ["abc/def/../ghi/../jkl", "abc/jkl"],
    ["abc/def/..", "abc"],
    ["abc/def/../..", "."],
    ["/abc/def/../..", "/"],
    ["abc/def/../../..", ".."],
    ["/abc/def/../../..", "/"],
    ["abc/def/../../../ghi/jkl/../../../mno", "../../mno"],
    ["abc/./../def", "def"],
    ["abc//./../def", "def"],
    ["abc/../../././../def", "../../def"],
    ["/..", "/"],
    ["/1/..", "/"],
    ["/1/foo/", "/1/foo"],
    ["/1/a b/_c", "/1/a b/_c"],
    ["/1/.x/..y", "/1/.x/..y"],
  ];
  for (const [input, want] of cases) assert.is(cleanPath(input), want, JSON.stringify(input));
});

test("already clean paths are returned as the same string", () => {
  const p = "/1/some/long/key";
  assert.is(cleanPath(p), p);
});

test("joinPath is Go path.Join for a rooted first element", () => {
  assert.is(joinPath("/1", "/foo/"), "/1/foo");
  assert.is(joinPath("/1", ""), "/1");
  assert.is(joinPath("/1", "/"), "/1");
  assert.is(joinPath("/", "1"), "/1");
  assert.is(joinPath("/1", "../0/x"), "/0/x");
});

test("externalKey strips the /1 prefix like strings.TrimPrefix", () => {
  assert.is(externalKey("/1/foo"), "/foo");
  assert.is(externalKey("/1"), "");
  assert.is(externalKey("/"), "/");
  assert.is(externalKey("/0/members"), "/0/members");
  assert.is(externalKey("[a != b]"), "[a != b]");
});

test("splitPath and baseName", () => {
  assert.equal(splitPath("/1/a/b"), ["/1/a/", "b"]);
  assert.equal(splitPath("/a"), ["/", "a"]);
  assert.is(baseName("/1/a/_b"), "_b");
  assert.is(baseName("/"), "");
});

test.run();
