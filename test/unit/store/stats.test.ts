import { test } from "uvu";
import * as assert from "uvu/assert";
import { Store } from "../../../core/store/store.ts";
import type { StoreStats } from "../../../core/store/types.ts";
import { T0, cad, cas, create, del, mkdir, set, sync, update } from "./helpers.ts";

const FIELDS = [
  "getsSuccess",
  "getsFail",
  "setsSuccess",
  "setsFail",
  "deleteSuccess",
  "deleteFail",
  "updateSuccess",
  "updateFail",
  "createSuccess",
  "createFail",
  "compareAndSwapSuccess",
  "compareAndSwapFail",
  "compareAndDeleteSuccess",
  "compareAndDeleteFail",
  "expireCount",
  "watchers",
];

function delta(s: Store, fn: () => unknown): Partial<StoreStats> {
  const before = s.stats();
  try {
    fn();
  } catch {
    // counted either way
  }
  const after = s.stats();
  const out: Record<string, number> = {};
  for (const k of FIELDS) {
    const d = after[k as keyof StoreStats] - before[k as keyof StoreStats];
    if (d !== 0) out[k] = d;
  }
  return out;
}

test("stats: every field, in etcd's order, zero at start", () => {
  const st = new Store().stats();
  assert.equal(Object.keys(st), FIELDS);
  assert.equal(JSON.stringify(st), '{"getsSuccess":0,"getsFail":0,"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":0,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}');
});

test("ordinary successes and failures", () => {
  const s = new Store();
  assert.equal(delta(s, () => s.apply(set("/1/a", "1"))), { setsSuccess: 1 });
  assert.equal(delta(s, () => s.apply(set("/1/a/b", "1"))), { setsFail: 1 });
  assert.equal(delta(s, () => s.apply(set("/1", "1"))), { setsFail: 1 });
  assert.equal(delta(s, () => s.get("/1/a", false, false)), { getsSuccess: 1 });
  assert.equal(delta(s, () => s.get("/1/none", false, false)), { getsFail: 1 });
  assert.equal(delta(s, () => s.apply(create("/1/c", "1"))), { createSuccess: 1 });
  assert.equal(delta(s, () => s.apply(create("/1/c", "1"))), { createFail: 1 });
  assert.equal(delta(s, () => s.apply(create("/1", "1"))), { createFail: 1 });
  assert.equal(delta(s, () => s.apply(update("/1/c", "2"))), { updateSuccess: 1 });
  assert.equal(delta(s, () => s.apply(update("/1/none", "2"))), { updateFail: 1 });
  assert.equal(delta(s, () => s.apply(cas("/1/c", "3", "2", 0))), { compareAndSwapSuccess: 1 });
  assert.equal(delta(s, () => s.apply(cas("/1/c", "3", "x", 0))), { compareAndSwapFail: 1 });
  assert.equal(delta(s, () => s.apply(cas("/1/none", "3", "x", 0))), { compareAndSwapFail: 1 });
  assert.equal(delta(s, () => s.apply(del("/1/none"))), { deleteFail: 1 });
  assert.equal(delta(s, () => s.apply(del("/1/c"))), { deleteSuccess: 1 });
  assert.equal(delta(s, () => s.apply(cad("/1/none", "x"))), { compareAndDeleteFail: 1 });
  assert.equal(delta(s, () => s.apply(cad("/1/a", "1"))), { compareAndDeleteSuccess: 1 });
  assert.equal(delta(s, () => s.apply({ op: "get", path: "/1", recursive: true, sorted: false })), { getsSuccess: 1 });
  assert.equal(delta(s, () => s.peek("/1", true, false)), {});
  assert.equal(delta(s, () => s.watch("/1", true, false, 0)), { watchers: 1 });
});

test("refused operations that etcd 3.4 counts as successes (observed on a real etcd)", () => {
  const s = new Store();
  s.apply(mkdir("/1/d"));
  s.apply(set("/1/c", "1"));
  assert.equal(delta(s, () => s.apply(update("/1", "x"))), { updateSuccess: 1 });
  assert.equal(delta(s, () => s.apply(update("/1/d", "x"))), { updateSuccess: 1 });
  assert.equal(delta(s, () => s.apply(cas("/1", "x", "a", 0))), { compareAndSwapSuccess: 1 });
  assert.equal(delta(s, () => s.apply(del("/1"))), { deleteSuccess: 1 });
  assert.equal(delta(s, () => s.apply(cad("/1/c", "zz"))), { compareAndDeleteSuccess: 1 });
  assert.equal(delta(s, () => s.apply(cad("/1/d", "zz"))), { compareAndDeleteSuccess: 1 });
  // ...while these count as failures
  assert.equal(delta(s, () => s.apply(cas("/1/d", "x", "a", 0))), { compareAndSwapFail: 1 });
  assert.equal(delta(s, () => s.apply(del("/1/d/"))), { deleteFail: 1 });
  assert.equal(s.index, 2);
});

test("a create whose parent walk hits a file also counts a failed set (observed)", () => {
  const s = new Store();
  s.apply(set("/1/c", "1"));
  assert.equal(delta(s, () => s.apply(create("/1/c/x", "v"))), { setsFail: 1, createFail: 1 });
  assert.equal(delta(s, () => s.apply(create("/1/c", "v", { unique: true }))), { setsFail: 1, createFail: 1 });
  // A set meets the file in its first lookup, and counts once.
  assert.equal(delta(s, () => s.apply(set("/1/c/x", "v"))), { setsFail: 1 });
});

test("each expired node counts once; refreshes count as their operation", () => {
  const s = new Store();
  s.apply(mkdir("/1/d", T0));
  s.apply(set("/1/d/x", "1", { expireAt: T0 }));
  s.apply(set("/1/y", "1", { expireAt: T0 }));
  assert.equal(delta(s, () => s.apply(set("/1/y", "", { refresh: true, expireAt: T0 }))), { setsSuccess: 1 });
  assert.equal(delta(s, () => s.apply(sync(T0))), { expireCount: 2 });
});

test("stats survive save and restore (watchers do not)", () => {
  const s = new Store();
  s.apply(set("/1/a", "1"));
  delta(s, () => s.get("/1/b", false, true));
  s.watch("/1/a", false, false, 0);
  const r = Store.restore(s.save());
  assert.equal(r.stats(), { ...s.stats(), watchers: 0 });
  assert.is(r.stats().getsFail, 1);
});

test.run();
