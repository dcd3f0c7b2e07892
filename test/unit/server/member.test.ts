// The member in one process, over MemoryRuntime: bootstrap and publish, durability across
// crashes (with and without a torn last write), batching of proposals into one fsync,
// snapshots and segment release, TTL expiry through sync entries, a full disk, a corrupt
// WAL, restart identity, proposals held until there is a leader, and linearizable (ReadIndex)
// reads.
//
// Raft index arithmetic of a new one-member cluster, as in etcd: 1 the bootstrap conf entry
// (term 1, writes raftAttributes: store index 1); 2 the empty entry the member appends when it
// elects itself (term 2, no store change); 3 publish (attributes: store index 2); 4 the cluster
// version, set by the leader's periodic duties once published (store index 3).
//
//   npx tsc -p tsconfig.json && node dist/test/unit/server/member.test.js
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseConfig } from "../../../core/config.ts";
import type { Config } from "../../../core/config.ts";
import { EtcdError } from "../../../core/errors.ts";
import type { MemoryFileSystem } from "../../../core/fs/memory.ts";
import { Member } from "../../../core/server/member.ts";
import { openMemberData } from "../../../core/server/open.ts";
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

/**
 * Opens and publishes, as startMember does, then lets the leader's periodic duties (every
 * 500 ms) set the cluster version if the store has none yet. A new member ends at raft
 * index 4, store index 3.
 */
async function started(rt: MemoryRuntime, cfg: Config): Promise<Member> {
  const m = await Member.open(rt, cfg);
  await m.publish();
  for (let i = 0; i < 10 && m.clusterVersion() === "not_decided"; i++) await rt.advance(100);
  assert.is(m.clusterVersion(), "3.4.0", "the leader sets the cluster version after publishing");
  return m;
}

/**
 * Member.open returns once the log is replayed and the lone voter has campaigned; the Ready
 * that persists its new term and empty entry is still being written. Let it land.
 */
async function elected(m: Member): Promise<void> {
  await settle();
  assert.is(m.leaderId(), m.memberId, "a lone voter elects itself at once");
}

const getCmd = (key: string): StoreCommand => ({ op: "get", path: "/1" + key, recursive: false, sorted: false });

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
  // Replayed: the bootstrap conf entry (index 1, term 1) wrote raftAttributes.
  assert.is(m.store.index, 1);
  assert.is(m.raftIndex(), 1);
  assert.is(m.raftTerm(), 1);
  await elected(m);
  // The lone voter elected itself at term 2 and appended its empty entry (index 2).
  assert.is(m.store.index, 1);
  assert.is(m.raftIndex(), 2);
  assert.is(m.raftTerm(), 2);
  assert.is(m.clusterVersion(), "not_decided");
  await m.publish();
  assert.is(m.store.index, 2);
  assert.is(m.raftIndex(), 3);
  assert.is(m.clusterVersion(), "not_decided", "the version waits for the leader's periodic duties");
  await rt.advance(500);
  assert.is(m.store.index, 3);
  assert.is(m.raftIndex(), 4);
  assert.is(m.raftTerm(), 2);
  assert.is(m.clusterVersion(), "3.4.0");
  const members = m.members();
  assert.equal(members, [{ id: m.memberId, name: "n1", peerURLs: ["http://localhost:2380"], clientURLs: ["http://localhost:2379"] }]);
  const raftAttrs = m.store.peek(`/0/members/${m.memberId}/raftAttributes`, false, false).node;
  const attrs = m.store.peek(`/0/members/${m.memberId}/attributes`, false, false).node;
  const version = m.store.peek("/0/version", false, false).node;
  assert.equal([raftAttrs.modifiedIndex, attrs.modifiedIndex, version.modifiedIndex], [1, 2, 3]);
  assert.is(version.value, "3.4.0");
  // Nothing else happens while idle: no entries from ticks alone.
  await rt.advance(3000);
  assert.is(m.raftIndex(), 4);
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
  // 0.999999: the whole append kept (the tear keeps floor(fraction × (bytes + 1)) of it).
  for (const fraction of [0, 0.1, 0.5, 0.9, 0.999999]) {
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
    if (fraction === 0 || fraction === 0.999999) {
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
  const m = await started(rt, cfg); // raft index 4, store index 3
  // Fill the first 64 MiB segment with compare-and-swaps of 1 MiB values on a missing key:
  // log entries (raft index 5..70) that fail on apply and change nothing in the store.
  const long = "x".repeat(1 << 20);
  for (let i = 0; i < 66; i++) {
    const cas: StoreCommand = { op: "compareAndSwap", path: "/1/missing", value: long + i, prevValue: "p", prevIndex: 0, expireAt: null, refresh: false };
    const e = await rejection(m.propose(cas), "compareAndSwap");
    assert.is((e as EtcdError).errorCode, 100);
  }
  assert.is(m.raftIndex(), 70);
  assert.is(m.store.index, 3);
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
  assert.is(m.raftTerm(), 2);
  assert.equal(await rt.disk.list(SNAP_DIR), [snapshotName(2, 100)]);
  assert.equal(await segments(rt.disk), segs.slice(1), "the segment below the snapshot is released");
  assert.is(rt.log.find("info", "saved snapshot at index 100").length, 1);
  // Entries after the snapshot (raft index 101..117), to replay from the WAL.
  await m.propose({ op: "delete", path: "/1/s3", dir: false, recursive: false });
  for (let j = 0; j < 15; j++) await put(m, `/w${j % 4}`, `after${j}`);
  await m.propose({ op: "create", path: "/1/queue", value: "q", dir: false, expireAt: null, unique: true });
  const before = m.store.save();
  const raftBefore = m.raftIndex();
  assert.is(raftBefore, 117);

  const rt2 = rt.restart(rt.disk.crash());
  const m2 = await Member.open(rt2, cfg);
  await elected(m2);
  assert.is(rt2.log.find("info", "recovered store from snapshot at index 100").length, 1, rt2.log.dump());
  assert.is(rt2.log.find("info", /recovered 17 entries from the WAL/).length, 1, rt2.log.dump());
  assert.equal(m2.store.save(), before);
  assert.is(m2.raftIndex(), raftBefore + 1); // the new term's empty entry
  assert.is(m2.raftTerm(), 3);
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
  // started() left the clock at 500 (the sync timer's first run, which set the version):
  // /short is due at 2500, /long at 4500.
  await rt.advance(1500); // syncs at 1000, 1500, 2000: nothing due
  assert.is(read(m, "/short")?.value, "s");
  assert.is(m.store.index, idx);
  assert.is(m.raftIndex(), raft + 3);
  await rt.advance(600); // the sync at 2500 expires /short
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
  await m2.publish(); // the version is already in the store: only attributes
  const afterPublish = m2.store.index;
  assert.is(afterPublish, idx + 2);
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
  test(`${code} while writing: the waiting proposal and quorum read reject with 300, done rejects, nothing acknowledged is lost`, async () => {
    const rt = new MemoryRuntime();
    const m = await started(rt, config());
    const acked = new Map<string, StoreEvent>();
    for (let i = 0; i < 10; i++) acked.set(`/k${i}`, await put(m, `/k${i}`, `v${i}`));
    let doneError: unknown = null;
    m.done.catch((e) => (doneError = e));

    let failing: Promise<StoreEvent>;
    let reading: Promise<StoreEvent>;
    // Let the Ready loop go idle: a write made while it is busy waits for its next batch, and
    // this test needs the failing write in Raft (its read index) before the read below.
    await new Promise((r) => setTimeout(r, 0));
    if (code === "ENOSPC") {
      rt.disk.failWith(code); // the append itself fails
      failing = put(m, "/failed", "x");
      // A quorum read whose read index covers the failing write waits for its apply.
      reading = m.propose(getCmd("/failed"));
      reading.catch(() => {});
    } else {
      rt.fs.holdSyncs(); // appended, then the sync fails
      failing = put(m, "/failed", "x");
      await rt.fs.syncHeld();
      reading = m.propose(getCmd("/failed"));
      reading.catch(() => {});
      assert.is(await state(reading), "pending");
      rt.disk.failWith(code);
      rt.fs.releaseSyncs();
    }
    const err = await rejection(failing, "the failed write");
    assert.instance(err, EtcdError);
    assert.is((err as EtcdError).errorCode, 300);
    assert.ok((err as EtcdError).cause.includes(code), (err as EtcdError).cause);
    // The waiting read is a waiting request too: it fails now, not at its timeout.
    assert.is(await state(reading), "rejected", "the waiting quorum read must fail with the member");
    const readErr = await rejection(reading, "the waiting read");
    assert.is((readErr as EtcdError).errorCode, 300);
    assert.ok((readErr as EtcdError).cause.includes(code), (readErr as EtcdError).cause);
    assert.is(await state(m.done), "rejected");
    assert.ok(String((doneError as Error)?.message).includes(code), String(doneError));
    const later = await rejection(put(m, "/later", "y"), "a write after the failure");
    assert.is((later as EtcdError).errorCode, 300);
    const laterRead = await rejection(m.propose(getCmd("/k0")), "a quorum read after the failure");
    assert.is((laterRead as EtcdError).errorCode, 300);
    assert.is(await m.health(), false);
    const errors = rt.log.lines.filter((l) => l.level === "error");
    assert.is(errors.length, 1, rt.log.dump());
    assert.ok(errors[0]!.msg.includes(code) && errors[0]!.msg.includes(WAL_DIR), errors[0]!.msg);

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
  const storeIndex = m.store.index;
  const raftIndex = m.raftIndex();
  const term = m.raftTerm();
  // conf 1, empty 2 (term 2), attributes 3, version 4, puts 5..7; store: 1, 2, 3, then 4..6.
  assert.equal([storeIndex, raftIndex, term], [6, 7, 2]);
  await m.stop();

  for (const [label, disk] of [["graceful stop", rt.disk], ["crash", rt.disk.crash()]] as const) {
    const rt2 = rt.restart(disk);
    const m2 = await Member.open(rt2, cfg);
    assert.is(m2.raftIndex(), raftIndex, `${label}: the replayed log`);
    await elected(m2);
    assert.is(m2.memberId, memberId, label);
    assert.is(m2.clusterId, clusterId, label);
    assert.is(m2.raftTerm(), term + 1, label);
    assert.is(m2.store.index, storeIndex, label);
    // etcd: a leader starts its term with an empty entry (a single member restarted
    // from raft index 5 serves X-Raft-Index 7 after publishing). Restarted from 7: the
    // empty entry 8 (term 3), the attributes 9.
    assert.is(m2.raftIndex(), raftIndex + 1, `${label}: raft index after open`);
    await m2.publish();
    assert.is(m2.store.index, storeIndex + 1, `${label}: only the attributes are written again`);
    assert.is(m2.raftIndex(), raftIndex + 2, label);
    assert.is(m2.clusterVersion(), "3.4.0");
    assert.equal(m2.members().map((x) => [x.id, x.name]), [[memberId, "n1"]]);
    await m2.stop();
  }
});

test("a quorum get through propose({op:'get'}) uses ReadIndex: no log entry, no WAL write, store index unchanged", async () => {
  const rt = new MemoryRuntime();
  const m = await started(rt, config());
  const w = await put(m, "/a", "1");
  const idx = m.store.index;
  const raft = m.raftIndex();
  const appends = rt.disk.counters.appends;
  const ev = await m.propose(getCmd("/a"));
  assert.is(ev.action, "get");
  assert.is(ev.node.value, "1");
  assert.is(ev.node.modifiedIndex, w.node.modifiedIndex);
  assert.is(ev.etcdIndex, idx);
  assert.is(m.store.index, idx);
  assert.is(m.raftIndex(), raft);
  const miss = await rejection(m.propose(getCmd("/missing")), "get of a missing key");
  assert.is((miss as EtcdError).errorCode, 100);
  assert.is((miss as EtcdError).index, idx);
  // Many reads at once share rounds and still write nothing.
  const many = await Promise.all(Array.from({ length: 20 }, () => m.propose(getCmd("/a"))));
  assert.ok(many.every((e) => e.node.value === "1"));
  assert.is(m.store.index, idx);
  assert.is(m.raftIndex(), raft);
  assert.is(rt.disk.counters.appends, appends, "a read is not persisted");
  await m.stop();
});

test("a linearizable read waits until its ReadIndex is applied and sees every write acknowledged before it", async () => {
  const rt = new MemoryRuntime({ seed: 3 });
  const m = await started(rt, config());
  const acked = new Map<string, StoreEvent>();
  for (let i = 0; i < 20; i++) acked.set(`/k${i % 6}`, await put(m, `/k${i % 6}`, `v${i}`));
  // Every acknowledged write reads back through a quorum read.
  for (const [key, ev] of acked) {
    const got = await m.propose(getCmd(key));
    assert.is(got.node.value, ev.node.value, key);
    assert.is(got.node.modifiedIndex, ev.node.modifiedIndex, key);
  }
  const raft = m.raftIndex();
  // A write in flight: the lone voter has appended (and so committed) it, but its sync is
  // held, so it is neither durable nor applied. A read arriving now gets a read index that
  // covers it and must wait for its apply, not answer from the store as it is.
  rt.fs.holdSyncs();
  const w = put(m, "/k0", "newest");
  await rt.fs.syncHeld();
  const r = m.propose(getCmd("/k0"));
  assert.is(await state(r), "pending", "the read must wait for apply to reach its read index");
  assert.is(await state(w), "pending");
  assert.is(read(m, "/k0")?.value, acked.get("/k0")!.node.value, "not applied yet");
  rt.fs.releaseSyncs();
  const [wev, rev] = await Promise.all([w, r]);
  assert.is(rev.node.value, "newest");
  assert.is(rev.node.modifiedIndex, wev.node.modifiedIndex);
  assert.is(rev.etcdIndex, wev.node.modifiedIndex);
  assert.is(m.raftIndex(), raft + 1, "only the write is in the log");
  // A read after stop fails at once instead of waiting for its timeout.
  await m.stop();
  const afterStop = m.propose(getCmd("/k0"));
  afterStop.catch(() => {});
  assert.is(await state(afterStop), "rejected");
  assert.is(((await rejection(afterStop, "a read after stop")) as EtcdError).errorCode, 300);
});

test("a proposal made before the member has a leader is held, and commits once the member elects itself", async () => {
  const rt = new MemoryRuntime();
  const cfg = config();
  // As startMember does: the member exists (peer listeners could feed it) before start().
  const m = new Member(rt, cfg, await openMemberData(rt, cfg));
  assert.is(m.leaderId(), "");
  // One held proposal whose request times out first: it must not be proposed later.
  const early = put(m, "/timedout", "1");
  early.catch(() => {});
  assert.is(await state(early), "pending");
  await rt.advance(5000 + 2 * cfg.electionTimeout);
  const timedOut = await rejection(early, "a held proposal past its timeout");
  assert.is((timedOut as EtcdError).errorCode, 300);
  assert.ok((timedOut as EtcdError).cause.includes("timed out"), (timedOut as EtcdError).cause);
  // And one that waits for the election, with a quorum read behind it.
  const held = put(m, "/held", "2");
  const heldRead = m.propose({ op: "get", path: "/", recursive: false, sorted: false });
  assert.is(await state(held), "pending");
  assert.is(await state(heldRead), "pending");
  // Only the bootstrap conf entry (committed on disk) is in the log; no leader, no term 2.
  assert.is(m.raftIndex(), 1);
  assert.is(m.raftTerm(), 1);
  assert.is(m.leaderId(), "");
  await m.start();
  const ev = await held;
  // conf entry 1 (raftAttributes, store index 1), empty entry 2 (term 2), then the held write.
  assert.is(ev.node.modifiedIndex, 2);
  assert.is(m.raftIndex(), 3);
  assert.is(m.raftTerm(), 2);
  assert.is((await heldRead).action, "get");
  assert.is(read(m, "/timedout"), undefined, "a timed-out proposal was proposed after all");
  await m.publish();
  assert.is(m.raftIndex(), 4);
  assert.is(m.store.index, 3);
  await rt.advance(2000);
  assert.is(read(m, "/timedout"), undefined);
  assert.is(read(m, "/held")?.value, "2");
  await m.stop();
});

test.run();
