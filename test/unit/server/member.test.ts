// The member in one process, over MemoryRuntime: bootstrap and publish, durability across
// crashes (with and without a torn last write), batching of proposals into one fsync,
// snapshots and segment release, TTL expiry through sync entries, a full disk, a corrupt
// WAL, restart identity, and quorum reads.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/server/member.test.js
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseConfig } from "../../../core/config.ts";
import type { Config } from "../../../core/config.ts";
import { EtcdError } from "../../../core/errors.ts";
import type { MemoryFileSystem } from "../../../core/fs/memory.ts";
import { Member } from "../../../core/server/member.ts";
import type { StoreCommand, StoreEvent } from "../../../core/store/types.ts";
import { snapshotName } from "../../../core/wal/snapshotter.ts";
import { MemoryRuntime, settle } from "../../support/memory-runtime.ts";

const DATA = "/data/n1";
const WAL_DIR = `${DATA}/member/wal`;
const SNAP_DIR = `${DATA}/member/snap`;

function config(extra: string[] = []): Config {
  const r = parseConfig(["--name", "n1", "--data-dir", DATA, ...extra], {});
  if (r.kind !== "ok") throw new Error(`parseConfig: ${JSON.stringify(r)}`);
  return r.config;
}

/** Opens and publishes, as startMember does. */
async function started(rt: MemoryRuntime, cfg: Config): Promise<Member> {
  const m = await Member.open(rt, cfg);
  await m.publish();
  return m;
}

const setCmd = (key: string, value: string, expireAt: number | null = null): StoreCommand => ({
  op: "set", path: "/1" + key, value, dir: false, expireAt, refresh: false,
});

function put(m: Member, key: string, value: string, expireAt: number | null = null): Promise<StoreEvent> {
  return m.propose(setCmd(key, value, expireAt));
}

/** The node at a user key, or undefined. */
function read(m: Member, key: string): { value: string | undefined; modifiedIndex: number } | undefined {
  try {
    const n = m.store.peek("/1" + key, false, false).node;
    return { value: n.value, modifiedIndex: n.modifiedIndex };
  } catch (e) {
    if (e instanceof EtcdError && e.errorCode === 100) return undefined;
    throw e;
  }
}

async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error(`${what}: expected a rejection`);
}

/** Whether p has settled (after letting ready work run), without waiting for it. */
async function state(p: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  let s: "pending" | "resolved" | "rejected" = "pending";
  p.then(() => (s = "resolved"), () => (s = "rejected"));
  await settle();
  return s;
}

async function segments(disk: MemoryFileSystem): Promise<string[]> {
  return (await disk.list(WAL_DIR)).filter((n) => n.endsWith(".wal"));
}

/** Every acknowledged write must read back with its value and index. */
function assertAcked(m: Member, acked: Map<string, StoreEvent>, label: string): void {
  for (const [key, ev] of acked) {
    const got = read(m, key);
    assert.ok(got !== undefined, `${label}: acknowledged ${key} is lost`);
    assert.is(got!.value, ev.node.value, `${label}: ${key}`);
    assert.is(got!.modifiedIndex, ev.node.modifiedIndex, `${label}: ${key} index`);
  }
}

test("bootstrap: store index 3 after publish (raftAttributes, attributes, cluster version), like etcd", async () => {
  const rt = new MemoryRuntime();
  const m = await Member.open(rt, config());
  // The bootstrap conf change wrote raftAttributes; then term 2's empty entry.
  assert.is(m.store.index, 1);
  assert.is(m.raftIndex(), 2);
  assert.is(m.raftTerm(), 2);
  assert.is(m.clusterVersion(), "not_decided");
  await m.publish();
  assert.is(m.store.index, 3);
  assert.is(m.raftIndex(), 4);
  assert.is(m.clusterVersion(), "3.4.0");
  const members = m.members();
  assert.equal(members, [{ id: m.memberId, name: "n1", peerURLs: ["http://localhost:2380"], clientURLs: ["http://localhost:2379"] }]);
  const raftAttrs = m.store.peek(`/0/members/${m.memberId}/raftAttributes`, false, false).node;
  const attrs = m.store.peek(`/0/members/${m.memberId}/attributes`, false, false).node;
  const version = m.store.peek("/0/version", false, false).node;
  assert.equal([raftAttrs.modifiedIndex, attrs.modifiedIndex, version.modifiedIndex], [1, 2, 3]);
  assert.is(version.value, "3.4.0");
  assert.is((await segments(rt.disk)).length, 1);
  assert.is(rt.log.find("info", "starting a new cluster").length, 1);
  await m.stop();
});

test("acknowledged writes survive crash() of the file system; the unsynced batch is lost cleanly", async () => {
  const rt = new MemoryRuntime({ seed: 11 });
  const m = await started(rt, config());
  const acked = new Map<string, StoreEvent>();
  const evs = await Promise.all(Array.from({ length: 30 }, (_, i) => put(m, `/k${i % 12}`, `v${i}`)));
  evs.forEach((ev, i) => acked.set(`/k${i % 12}`, ev)); // in proposal order = index order
  assert.is(acked.get("/k0")!.node.value, "v24");
  const ackedIndex = m.store.index;
  // A batch appended but not synced when the power goes.
  rt.fs.holdSyncs();
  const pending = Array.from({ length: 5 }, (_, i) => put(m, `/unacked${i}`, "x"));
  pending.forEach((p) => p.catch(() => {}));
  await rt.fs.syncHeld();
  for (const p of pending) assert.is(await state(p), "pending");

  const rt2 = rt.restart(rt.disk.crash());
  const m2 = await Member.open(rt2, config());
  assertAcked(m2, acked, "after crash");
  for (let i = 0; i < 5; i++) assert.is(read(m2, `/unacked${i}`), undefined, "an unsynced write came back");
  assert.is(m2.store.index, ackedIndex);
  assert.equal(rt2.log.find("warn", "torn"), [], "no torn tail expected without tearing");
  await m2.publish();
  const after = await put(m2, "/after", "1");
  assert.ok(after.node.modifiedIndex > ackedIndex);
  await m2.stop();
});

test("a torn last write (crash with tearLastWrite) is cut off with a warning naming file and offset; acknowledged writes survive", async () => {
  for (const fraction of [0, 0.1, 0.5, 0.9, 0.999]) {
    const rt = new MemoryRuntime({ seed: 21 });
    const m = await started(rt, config());
    const acked = new Map<string, StoreEvent>();
    for (let i = 0; i < 10; i++) acked.set(`/a${i}`, await put(m, `/a${i}`, `v${i}`));
    const segBefore = await segments(rt.disk);
    // Six writes in one append: hold the sync of a write in flight, queue six behind it,
    // let the first through and hold the second batch's sync.
    rt.fs.holdSyncs();
    const first = put(m, "/first", "f");
    await rt.fs.syncHeld();
    const pending = Array.from({ length: 6 }, (_, i) => put(m, `/torn${i}`, "y".repeat(50)));
    pending.forEach((p) => p.catch(() => {}));
    await settle();
    rt.fs.releaseSyncs();
    rt.fs.holdSyncs();
    acked.set("/first", await first);
    await rt.fs.syncHeld();
    const ackedIndex = m.store.index;
    for (const p of pending) assert.is(await state(p), "pending");

    const rt2 = rt.restart(rt.disk.crash({ tearLastWrite: true, random: () => fraction }));
    const m2 = await Member.open(rt2, config());
    const label = `tear at ${fraction}`;
    assertAcked(m2, acked, label);
    // Unacknowledged writes may survive when their records were whole, but only as a prefix.
    const survived = Array.from({ length: 6 }, (_, i) => read(m2, `/torn${i}`) !== undefined);
    const firstLost = survived.indexOf(false);
    assert.ok(firstLost === -1 || survived.slice(firstLost).every((s) => !s), `${label}: survivors ${survived}`);
    assert.is(m2.store.index, ackedIndex + survived.filter(Boolean).length, label);
    const warns = rt2.log.find("warn", /torn tail/);
    if (fraction === 0 || fraction === 0.999) {
      // Nothing of the append kept, or all of it: no torn record.
      assert.equal(warns, [], label);
      assert.equal(survived, Array(6).fill(fraction !== 0), label);
    } else {
      assert.is(warns.length, 1, `${label}: ${rt2.log.dump()}`);
      const seg = `${WAL_DIR}/${segBefore.at(-1)}`;
      assert.ok(warns[0]!.msg.includes(seg) && /offset \d+/.test(warns[0]!.msg), warns[0]!.msg);
      assert.ok(!survived[5], `${label}: the last write of a torn batch cannot be whole`);
    }
    // The log goes on after the cut, and survives another crash.
    await m2.publish();
    const ev = await put(m2, "/after", "z");
    const m3 = await Member.open(rt2.restart(rt2.disk.crash()), config());
    assert.is(read(m3, "/after")?.modifiedIndex, ev.node.modifiedIndex, label);
    assertAcked(m3, acked, label + " (second crash)");
    await m2.stop();
    await m3.stop();
  }
});

test("proposals arriving while a save is in flight ride in one WAL save: one fsync for the batch", async () => {
  const rt = new MemoryRuntime();
  const m = await started(rt, config());
  const c0 = { ...rt.disk.counters };
  const raft0 = m.raftIndex();
  rt.fs.holdSyncs();
  const first = put(m, "/first", "1");
  await rt.fs.syncHeld();
  const rest = Array.from({ length: 10 }, (_, i) => put(m, `/r${i}`, String(i)));
  await settle();
  // Still one save in flight: the ten wait in the queue, nothing more written.
  assert.is(rt.disk.counters.appends - c0.appends, 1);
  assert.is(rt.fs.heldCount, 1);
  rt.fs.releaseSyncs();
  const evs = await Promise.all([first, ...rest]);
  const c1 = rt.disk.counters;
  assert.is(c1.appends - c0.appends, 2, "appends: one per batch");
  assert.is(c1.syncs - c0.syncs, 2, "syncs: one per batch");
  assert.is(c1.writeFiles - c0.writeFiles, 0);
  assert.is(m.raftIndex(), raft0 + 11);
  assert.equal(evs.map((e) => e.node.modifiedIndex), Array.from({ length: 11 }, (_, i) => evs[0]!.node.modifiedIndex + i));
  await m.stop();
});

test("a snapshot every --snapshot-count entries releases old segments; restart from snapshot + WAL rebuilds the same store", async () => {
  const rt = new MemoryRuntime({ seed: 5 });
  const cfg = config(["--snapshot-count", "100"]);
  const m = await started(rt, cfg); // raft index 4
  // Fill the first 64 MiB segment with quorum reads of long (missing) keys: log entries
  // that change nothing in the store.
  const long = "/1/" + "x".repeat(1 << 20);
  for (let i = 0; i < 66; i++) {
    const e = await rejection(m.propose({ op: "get", path: long + i, recursive: false, sorted: false }), "get");
    assert.is((e as EtcdError).errorCode, 100);
  }
  const segs = await segments(rt.disk);
  assert.is(segs.length, 2, `segments: ${segs}`);
  assert.equal(await rt.disk.list(SNAP_DIR), []);
  // Small writes up to raft index 100: the snapshot, and segment 0 goes.
  let i = 0;
  while (m.raftIndex() < 99) await put(m, `/s${i % 7}`, `v${i++}`);
  assert.equal(await rt.disk.list(SNAP_DIR), []);
  assert.equal(await segments(rt.disk), segs);
  await put(m, "/ttl", "t", rt.now() + 3600_000);
  assert.is(m.raftIndex(), 100);
  await settle(); // the snapshot is written after entry 100 is applied (and acknowledged)
  assert.equal(await rt.disk.list(SNAP_DIR), [snapshotName(m.raftTerm(), 100)]);
  assert.equal(await segments(rt.disk), segs.slice(1), "the segment below the snapshot is released");
  assert.is(rt.log.find("info", "saved snapshot at index 100").length, 1);
  // Entries after the snapshot, to replay from the WAL.
  await m.propose({ op: "delete", path: "/1/s3", dir: false, recursive: false });
  for (let j = 0; j < 15; j++) await put(m, `/w${j % 4}`, `after${j}`);
  await m.propose({ op: "create", path: "/1/queue", value: "q", dir: false, expireAt: null, unique: true });
  const before = m.store.save();
  const raftBefore = m.raftIndex();

  const rt2 = rt.restart(rt.disk.crash());
  const m2 = await Member.open(rt2, cfg);
  assert.is(rt2.log.find("info", "recovered store from snapshot at index 100").length, 1, rt2.log.dump());
  assert.is(rt2.log.find("info", /recovered 17 entries from the WAL/).length, 1, rt2.log.dump());
  assert.equal(m2.store.save(), before);
  assert.is(m2.raftIndex(), raftBefore + 1); // the new term's empty entry
  await m.stop();
  await m2.stop();
});

test("TTL keys expire through sync entries as the clock advances; the expiry is in the WAL", async () => {
  const rt = new MemoryRuntime();
  const m = await started(rt, config());
  const t0 = rt.now();
  await put(m, "/short", "s", t0 + 2000);
  await put(m, "/long", "l", t0 + 4000);
  await put(m, "/perm", "p");
  const idx = m.store.index;
  const raft = m.raftIndex();
  await rt.advance(1500); // syncs at 500, 1000, 1500: nothing due
  assert.is(read(m, "/short")?.value, "s");
  assert.is(m.store.index, idx);
  assert.is(m.raftIndex(), raft + 3);
  await rt.advance(600); // the sync at 2000 expires /short
  assert.is(read(m, "/short"), undefined);
  assert.is(m.store.index, idx + 1);
  assert.is(m.raftIndex(), raft + 4);
  const last = m.store.save().history.at(-1) as StoreEvent;
  assert.is(last.action, "expire");
  assert.is(last.node.key, "/1/short");
  assert.is(read(m, "/long")?.value, "l");

  // Crash now: the expiry is in the log, so replay does not bring /short back, even before
  // any sync runs on the restarted member.
  const rt2 = rt.restart(rt.disk.crash());
  const m2 = await Member.open(rt2, config());
  assert.is(read(m2, "/short"), undefined);
  assert.is(read(m2, "/long")?.value, "l");
  assert.is(m2.store.index, idx + 1);
  await m2.publish();
  const afterPublish = m2.store.index;
  await rt2.advance(2000); // /long's time passes on the restarted member
  assert.is(read(m2, "/long"), undefined);
  assert.is(m2.store.index, afterPublish + 1);
  // No TTL keys left: no more sync entries.
  const r = m2.raftIndex();
  await rt2.advance(5000);
  assert.is(m2.raftIndex(), r);
  assert.is(read(m2, "/perm")?.value, "p");
  await m.stop();
  await m2.stop();
});

for (const code of ["ENOSPC", "EIO"] as const) {
  test(`${code} while writing: the waiting proposal rejects with 300, done rejects, nothing acknowledged is lost`, async () => {
    const rt = new MemoryRuntime();
    const m = await started(rt, config());
    const acked = new Map<string, StoreEvent>();
    for (let i = 0; i < 10; i++) acked.set(`/k${i}`, await put(m, `/k${i}`, `v${i}`));
    let doneError: unknown = null;
    m.done.catch((e) => (doneError = e));

    let failing: Promise<StoreEvent>;
    if (code === "ENOSPC") {
      rt.disk.failWith(code); // the append itself fails
      failing = put(m, "/failed", "x");
    } else {
      rt.fs.holdSyncs(); // appended, then the sync fails
      failing = put(m, "/failed", "x");
      await rt.fs.syncHeld();
      rt.disk.failWith(code);
      rt.fs.releaseSyncs();
    }
    const err = await rejection(failing, "the failed write");
    assert.instance(err, EtcdError);
    assert.is((err as EtcdError).errorCode, 300);
    assert.ok((err as EtcdError).cause.includes(code), (err as EtcdError).cause);
    assert.is(await state(m.done), "rejected");
    assert.ok(String((doneError as Error)?.message).includes(code), String(doneError));
    const later = await rejection(put(m, "/later", "y"), "a write after the failure");
    assert.is((later as EtcdError).errorCode, 300);
    assert.is(await m.health(), false);
    assert.is(rt.log.find("error", "failed to persist").length, 1);

    rt.disk.failWith(null);
    const rt2 = rt.restart(rt.disk.crash());
    const m2 = await started(rt2, config());
    assertAcked(m2, acked, code);
    assert.is(read(m2, "/failed"), undefined);
    assert.is(read(m2, "/later"), undefined);
    await put(m2, "/works", "again");
    assert.is(read(m2, "/works")?.value, "again");
    await m.stop();
    await m2.stop();
  });
}

test("a corrupt byte in the middle of a WAL segment: open rejects naming the file and offset, and changes nothing", async () => {
  const rt = new MemoryRuntime();
  const m = await started(rt, config());
  for (let i = 0; i < 40; i++) await put(m, `/k${i}`, `value-${i}`);
  await m.stop();
  const [seg] = await segments(rt.disk);
  const path = `${WAL_DIR}/${seg}`;
  const bytes = await rt.disk.readFile(path);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x5a;
  await rt.disk.writeFile(path, bytes);

  const rt2 = rt.restart(rt.disk);
  const err = await rejection(Member.open(rt2, config()), "open of a corrupt WAL");
  const msg = String((err as Error).message);
  assert.ok(msg.includes(path), msg);
  const m2 = /offset (\d+)/.exec(msg);
  assert.ok(m2, msg);
  assert.ok(Number(m2![1]) <= at && Number(m2![1]) > 0, `offset ${m2![1]} vs flipped byte ${at}`);
  assert.equal(await rt.disk.readFile(path), bytes, "the damaged segment must be left as it is");
});

test("restart re-publishes attributes (store index +1 like etcd), appends the new term's empty entry, keeps member and cluster IDs", async () => {
  const rt = new MemoryRuntime();
  const cfg = config();
  const m = await started(rt, cfg);
  for (let i = 0; i < 3; i++) await put(m, `/k${i}`, "v");
  const { memberId, clusterId } = m;
  const storeIndex = m.store.index; // 6
  const raftIndex = m.raftIndex(); // 7
  const term = m.raftTerm();
  await m.stop();

  for (const [label, disk] of [["graceful stop", rt.disk], ["crash", rt.disk.crash()]] as const) {
    const rt2 = rt.restart(disk);
    const m2 = await Member.open(rt2, cfg);
    assert.is(m2.memberId, memberId, label);
    assert.is(m2.clusterId, clusterId, label);
    assert.is(m2.raftTerm(), term + 1, label);
    assert.is(m2.store.index, storeIndex, label);
    // etcd: a leader starts its term with an empty entry (a single member restarted
    // from raft index 5 serves X-Raft-Index 7 after publishing).
    assert.is(m2.raftIndex(), raftIndex + 1, `${label}: raft index after open`);
    await m2.publish();
    assert.is(m2.store.index, storeIndex + 1, `${label}: only the attributes are written again`);
    assert.is(m2.raftIndex(), raftIndex + 2, label);
    assert.is(m2.clusterVersion(), "3.4.0");
    assert.equal(m2.members().map((x) => [x.id, x.name]), [[memberId, "n1"]]);
    await m2.stop();
  }
});

test("a quorum get through propose({op:'get'}) goes through the log but does not change the store index", async () => {
  const rt = new MemoryRuntime();
  const m = await started(rt, config());
  const w = await put(m, "/a", "1");
  const idx = m.store.index;
  const raft = m.raftIndex();
  const ev = await m.propose({ op: "get", path: "/1/a", recursive: false, sorted: false });
  assert.is(ev.action, "get");
  assert.is(ev.node.value, "1");
  assert.is(ev.node.modifiedIndex, w.node.modifiedIndex);
  assert.is(ev.etcdIndex, idx);
  assert.is(m.store.index, idx);
  assert.is(m.raftIndex(), raft + 1);
  const miss = await rejection(m.propose({ op: "get", path: "/1/missing", recursive: false, sorted: false }), "get of a missing key");
  assert.is((miss as EtcdError).errorCode, 100);
  assert.is(m.store.index, idx);
  assert.is(m.raftIndex(), raft + 2);
  await m.stop();
});

test.run();
