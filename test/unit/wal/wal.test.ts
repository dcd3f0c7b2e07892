import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryFileSystem } from "../../../core/fs/memory.ts";
import { parseSegmentName } from "../../../core/wal/segments.ts";
import { Wal, WalError } from "../../../core/wal/wal.ts";
import { describe, entries, entry, recordingLogger } from "./helpers.ts";

const DIR = "/data/member/wal";
const META = new TextEncoder().encode("cluster=abc member=1");
const ZERO = { index: 0, term: 0 };

async function reopen(fs: MemoryFileSystem, from = ZERO, opts = {}) {
  const log = recordingLogger();
  const r = await Wal.open(fs, DIR, from, log, opts);
  return { ...r, log };
}

async function rejects(p: Promise<unknown>, cls: Function, match?: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, cls);
    if (match) assert.match((err as Error).message, match);
    return err as Error;
  }
  throw new assert.Assertion({ message: "expected a rejection" } as never);
}

async function segmentsOf(fs: MemoryFileSystem): Promise<string[]> {
  return (await fs.list(DIR)).filter((n) => n.endsWith(".wal"));
}

test("create, exists, and an empty log reopens empty", async () => {
  const fs = new MemoryFileSystem();
  assert.is(await Wal.exists(fs, DIR), false);
  const wal = await Wal.create(fs, DIR, META);
  assert.is(await Wal.exists(fs, DIR), true);
  assert.equal(await segmentsOf(fs), ["0000000000000000-0000000000000000.wal"]);
  await wal.close();
  const r = await reopen(fs);
  assert.equal(r.metadata, META);
  assert.is(r.hardState, null);
  assert.equal(r.entries, []);
  assert.is(r.tornBytes, 0);
  assert.equal(r.log.lines, []);
  await rejects(Wal.create(fs, DIR, META), WalError, /already/);
});

test("entries and hard state round-trip across reopen, and a closed WAL refuses work", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  await wal.save({ term: 1, vote: "8e9e05c52164694d", commit: 0 }, [entry(1, 1), entry(2, 1, "conf!", "conf")]);
  await wal.save(null, [entry(3, 1, "")]);
  await wal.save({ term: 2, vote: "", commit: 3 }, []);
  await wal.save(null, []); // nothing to do
  await wal.close();
  await wal.close(); // again: fine
  await rejects(wal.save(null, [entry(4, 2)]), WalError, /closed/);

  const r = await reopen(fs);
  assert.equal(describe(r.entries), ["1/1/v1.1", "2/1/conf:conf!", "3/1/"]);
  assert.equal(r.hardState, { term: 2, vote: "", commit: 3 });
  // Appending after reopen continues the same log.
  await r.wal.save(null, [entry(4, 2)]);
  await r.wal.close();
  assert.equal(describe((await reopen(fs)).entries), ["1/1/v1.1", "2/1/conf:conf!", "3/1/", "4/2/v4.2"]);
});

test("large and binary entry data round-trips", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  const big = new Uint8Array(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  await wal.save(null, [{ index: 1, term: 1, type: "normal", data: big }]);
  await wal.close();
  const r = await reopen(fs);
  assert.is(r.entries.length, 1);
  assert.equal(r.entries[0]!.data, big);
});

test("each save is one append and one sync", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  const before = { ...fs.counters };
  await wal.save({ term: 1, vote: "a", commit: 0 }, entries(1, 100, 1));
  assert.is(fs.counters.appends - before.appends, 1);
  assert.is(fs.counters.syncs - before.syncs, 1);
  assert.is(fs.counters.dirSyncs - before.dirSyncs, 0);
});

test("concurrent saves are written in call order", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  await Promise.all([1, 2, 3, 4, 5].map((i) => wal.save(null, [entry(i, 1)])));
  await wal.close();
  assert.equal((await reopen(fs)).entries.map((e) => e.index), [1, 2, 3, 4, 5]);
});

test("an entry at an index already written replaces it and everything after (Raft overwrite)", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  await wal.save({ term: 1, vote: "a", commit: 2 }, entries(1, 5, 1));
  await wal.save({ term: 2, vote: "b", commit: 2 }, entries(3, 4, 2));
  await wal.close();
  let r = await reopen(fs);
  assert.equal(describe(r.entries), ["1/1/v1.1", "2/1/v2.1", "3/2/v3.2", "4/2/v4.2"]);
  // Overwrite again after reopen, then append.
  await r.wal.save(null, [entry(2, 3), entry(3, 3)]);
  await r.wal.save(null, [entry(4, 3)]);
  await r.wal.close();
  r = await reopen(fs);
  assert.equal(describe(r.entries), ["1/1/v1.1", "2/3/v2.3", "3/3/v3.3", "4/3/v4.3"]);
});

test("open from a snapshot returns the entries after it and checks the marker", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  await wal.save({ term: 1, vote: "a", commit: 5 }, entries(1, 5, 1));
  await wal.saveSnapshot({ index: 3, term: 1 });
  await wal.save(null, entries(6, 7, 1));
  await wal.close();
  const r = await reopen(fs, { index: 3, term: 1 });
  assert.equal(r.entries.map((e) => e.index), [4, 5, 6, 7]);
  assert.equal(r.hardState, { term: 1, vote: "a", commit: 5 });
  await r.wal.close();
  await rejects(reopen(fs, { index: 3, term: 2 }), WalError, /another term/);
  await rejects(reopen(fs, { index: 4, term: 1 }), WalError, /no snapshot marker/);
});

test("a snapshot from the leader beyond the last entry: the log continues after it", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  await wal.save({ term: 1, vote: "", commit: 2 }, entries(1, 2, 1));
  await wal.saveSnapshot({ index: 50, term: 3 });
  await wal.save({ term: 3, vote: "", commit: 51 }, [entry(51, 3)]);
  await wal.close();
  const r = await reopen(fs, { index: 50, term: 3 });
  assert.equal(describe(r.entries), ["51/3/v51.3"]);
  await r.wal.close();
  // From zero the log has a hole between 2 and 51: refused, not papered over.
  await rejects(reopen(fs), WalError, /entry 51 does not follow 2/);
});

test("segments are cut past segmentBytes, named by sequence and first index, and replay whole", async () => {
  const fs = new MemoryFileSystem();
  const opts = { segmentBytes: 300 };
  const wal = await Wal.create(fs, DIR, META, opts);
  await wal.save({ term: 1, vote: "a", commit: 0 }, []);
  for (let i = 1; i <= 40; i++) await wal.save(null, [entry(i, 1, "x".repeat(20))]);
  await wal.close();

  const names = await segmentsOf(fs);
  assert.ok(names.length >= 4, `${names.length} segments`);
  const parsed = names.map((n) => parseSegmentName(n)!);
  parsed.forEach((s, i) => assert.is(s.seq, i));
  // Each cut is right after a save, so a segment's first index follows the previous one's entries.
  const r = await reopen(fs, ZERO, opts);
  for (let i = 1; i < parsed.length; i++) {
    const first = parsed[i]!.index;
    assert.ok(first > parsed[i - 1]!.index && first <= 41);
  }
  assert.equal(r.entries.map((e) => e.index), Array.from({ length: 40 }, (_, i) => i + 1));
  assert.equal(r.hardState, { term: 1, vote: "a", commit: 0 });
  for (const n of names) assert.ok((await fs.size(`${DIR}/${n}`)) < 300 + 100, `${n} stays near segmentBytes`);
  await r.wal.close();
});

test("a new segment is durable before it is used", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META, { segmentBytes: 200 });
  for (let i = 1; i <= 12; i++) await wal.save({ term: 1, vote: "", commit: i - 1 }, [entry(i, 1, "y".repeat(30))]);
  // No syncDir of our own: crash right away and everything saved is there.
  const r = await Wal.open(fs.crash(), DIR, ZERO, recordingLogger());
  assert.is(r.entries.length, 12);
  assert.equal(r.hardState, { term: 1, vote: "", commit: 11 });
});

test("release removes segments wholly below the index, keeps the holder, the current one and the hard state", async () => {
  const fs = new MemoryFileSystem();
  const opts = { segmentBytes: 250 };
  const wal = await Wal.create(fs, DIR, META, opts);
  await wal.save({ term: 7, vote: "c", commit: 1 }, []); // only ever saved here, in the first segment
  for (let i = 1; i <= 30; i++) await wal.save(null, [entry(i, 7, "z".repeat(20))]);
  await wal.saveSnapshot({ index: 20, term: 7 });
  const before = (await segmentsOf(fs)).map((n) => parseSegmentName(n)!);
  const holder = [...before].reverse().find((s) => s.index <= 20)!;

  await wal.release(20);
  const after = (await segmentsOf(fs)).map((n) => parseSegmentName(n)!);
  assert.is(after[0]!.seq, holder.seq, "the segment holding 20 is kept");
  assert.is(after[after.length - 1]!.seq, before[before.length - 1]!.seq);
  assert.ok(after.length < before.length);

  // Removal is durable (directory synced).
  const crashed = fs.crash();
  assert.equal(await segmentsOf(crashed), after.map((s) => s.name));

  await wal.release(1000); // never removes the current segment
  assert.is((await segmentsOf(fs)).length, 1);
  await wal.save(null, [entry(31, 7), entry(32, 7)]);
  await wal.saveSnapshot({ index: 31, term: 7 });
  await wal.close();
  const r = await reopen(fs, { index: 31, term: 7 }, opts);
  assert.equal(r.entries.map((e) => e.index), [32]);
  assert.equal(r.hardState, { term: 7, vote: "c", commit: 1 }, "the hard state outlives its segment");
  await r.wal.close();
});

test("after release to the snapshot index the log reopens from that snapshot", async () => {
  const fs = new MemoryFileSystem();
  const opts = { segmentBytes: 250 };
  const wal = await Wal.create(fs, DIR, META, opts);
  await wal.save({ term: 7, vote: "c", commit: 1 }, []);
  for (let i = 1; i <= 30; i++) await wal.save(null, [entry(i, 7, "z".repeat(20))]);
  await wal.saveSnapshot({ index: 20, term: 7 });
  for (let i = 31; i <= 40; i++) await wal.save(null, [entry(i, 7, "z".repeat(20))]);
  await wal.release(20);
  await wal.close();
  const r = await reopen(fs, { index: 20, term: 7 }, opts);
  assert.equal(r.entries.map((e) => e.index), Array.from({ length: 20 }, (_, i) => i + 21));
  assert.equal(r.hardState, { term: 7, vote: "c", commit: 1 }, "restated at the head of every segment");
  assert.equal(r.metadata, META);
  await r.wal.close();
  await rejects(reopen(fs, ZERO, opts), WalError, /no segment/);
});

test("a leftover temporary segment from an interrupted cut is ignored and removed", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  await wal.save(null, entries(1, 3, 1));
  await wal.close();
  await fs.writeFile(`${DIR}/0000000000000001-0000000000000004.wal.tmp`, new Uint8Array([1, 2, 3]));
  const r = await reopen(fs);
  assert.is(r.entries.length, 3);
  assert.equal(await fs.list(DIR), ["0000000000000000-0000000000000000.wal"]);
});

test.run();
