import { decode, encode } from "@msgpack/msgpack";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ErrorCode } from "../../../core/errors.ts";
import { eventJSON } from "../../../core/store/json.ts";
import { Store } from "../../../core/store/store.ts";
import type { StoreSnapshot } from "../../../core/store/store.ts";
import type { StoreCommand } from "../../../core/store/types.ts";
import { T0, cad, cas, create, del, mkdir, set, sync, throwsEtcd, update } from "./helpers.ts";

/** A deterministic mix of every command, with failures and expiries. */
function workload(n: number, seed: number): StoreCommand[] {
  let x = seed;
  const rand = (k: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % k;
  };
  const cmds: StoreCommand[] = [];
  let clock = T0;
  for (let i = 0; i < n; i++) {
    const key = `/1/${["a", "b", "_h", "d"][rand(4)]}/${rand(6)}`;
    const exp = rand(3) === 0 ? clock + rand(5000) + 0.25 : null;
    switch (rand(10)) {
      case 0:
        cmds.push(set(key, "v" + i, { expireAt: exp }));
        break;
      case 1:
        cmds.push(create(key, "c" + i, { expireAt: exp, unique: rand(2) === 0 }));
        break;
      case 2:
        cmds.push(update(key, "u" + i, { expireAt: exp }));
        break;
      case 3:
        cmds.push(cas(key, "s" + i, "v" + rand(i + 1), 0, { expireAt: exp }));
        break;
      case 4:
        cmds.push(del(key, { recursive: rand(2) === 0 }));
        break;
      case 5:
        cmds.push(cad(key, "", rand(i + 1)));
        break;
      case 6:
        cmds.push(mkdir(`/1/d/${rand(4)}`, exp));
        break;
      case 7:
        cmds.push(set(key, "", { refresh: true, expireAt: clock + 3000 }));
        break;
      default:
        clock += rand(2000);
        cmds.push(sync(clock));
    }
  }
  return cmds;
}

function feed(s: Store, cmds: StoreCommand[]): void {
  for (const c of cmds) {
    try {
      s.apply(c);
    } catch (e) {
      if (!(e instanceof Error) || !("errorCode" in e)) throw e;
    }
  }
}

test("two stores fed the same commands save identical snapshots", () => {
  const cmds = workload(1500, 7);
  const a = new Store();
  const b = new Store();
  feed(a, cmds);
  feed(b, cmds);
  assert.ok(a.index > 100);
  assert.equal(a.save(), b.save());
  assert.equal(encode(a.save()), encode(b.save()));
});

test("save/restore roundtrip through msgpack keeps tree, order, indexes, TTLs, history and stats", () => {
  const s = new Store();
  feed(s, workload(800, 11));
  s.apply(set("/1/z", "1"));
  s.apply(set("/1/y", "2", { expireAt: T0 + 999999.5 }));
  s.apply(set("/1/z", "3")); // moves /1/z after /1/y in listing order
  const snap = decode(encode(s.save())) as StoreSnapshot;
  const r = Store.restore(snap);
  assert.is(r.index, s.index);
  assert.equal(r.save(), s.save());
  assert.is(eventJSON(r.get("/1", true, false), T0), eventJSON(s.get("/1", true, false), T0));
  assert.is(eventJSON(r.get("/1", true, true), T0), eventJSON(s.get("/1", true, true), T0));
  assert.equal(r.stats(), s.stats());
  assert.is(r.hasTTL(), s.hasTTL());
});

test("a restored store continues exactly like the original", () => {
  const first = workload(600, 3);
  const rest = workload(600, 5);
  const orig = new Store();
  feed(orig, first);
  const copy = Store.restore(decode(encode(orig.save())) as StoreSnapshot);
  feed(orig, rest);
  feed(copy, rest);
  assert.equal(copy.save(), orig.save());
});

test("the TTL heap is rebuilt on restore", () => {
  const s = new Store();
  s.apply(mkdir("/1/d", T0 + 2000));
  s.apply(set("/1/d/c", "c", { expireAt: T0 + 1000 }));
  s.apply(set("/1/k", "v", { expireAt: T0 + 3000 }));
  const r = Store.restore(s.save());
  assert.ok(r.hasTTL());
  assert.equal(
    r.deleteExpired(T0 + 3000).map((e) => [e.node.key, e.etcdIndex]),
    [
      ["/1/d/c", 4],
      ["/1/d", 5],
      ["/1/k", 6],
    ],
  );
  assert.not.ok(r.hasTTL());
  // The original is untouched by the restored copy.
  assert.is(s.get("/1/k", false, false).node.value, "v");
});

test("the event history is kept: a watch from a past index is answered after restore", async () => {
  const s = new Store();
  s.apply(set("/1/a", "1"));
  s.apply(set("/1/b", "2"));
  s.apply(set("/1/b", "", { refresh: true, expireAt: T0 }));
  const r = Store.restore(decode(encode(s.save())) as StoreSnapshot);
  const w = r.watch("/1/a", false, false, 1);
  const e = await w.next();
  assert.is(eventJSON(e!, T0), '{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}');
  assert.is(e!.etcdIndex, 3);
  // The refresh is still in the history (and still skipped by scans).
  const snap = r.save();
  assert.is(snap.history.length, 3);
  assert.is(snap.history[2]!.refresh, true);
  const w2 = r.watch("/1/b", false, false, 3);
  assert.is(r.stats().watchers, 1);
  w2.remove();
});

test("restore with a smaller history keeps the newest events", () => {
  const s = new Store();
  for (let i = 0; i < 30; i++) s.apply(set("/1/k", String(i)));
  const r = Store.restore(s.save(), { historySize: 10 });
  assert.equal(
    r.save().history.map((e) => e.node.modifiedIndex),
    [21, 22, 23, 24, 25, 26, 27, 28, 29, 30],
  );
  throwsEtcd(() => r.watch("/1/k", false, false, 20), ErrorCode.EventIndexCleared, "the requested history has been cleared [21/20]", 30);
});

test("snapshots hold no undefined values and no Maps", () => {
  const s = new Store();
  feed(s, workload(300, 13));
  const walk = (v: unknown, where: string): void => {
    assert.ok(v !== undefined, `undefined at ${where}`);
    if (v instanceof Map || v instanceof Set) assert.unreachable(`Map/Set at ${where}`);
    if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
  };
  walk(s.save(), "snapshot");
});

test("restore rejects an unknown snapshot version", () => {
  assert.throws(() => Store.restore({ version: 2 } as unknown as StoreSnapshot));
});

test.run();
