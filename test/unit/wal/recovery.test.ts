// Torn tails, corruption, crashes and full disks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode } from "../../../core/fs/errors.ts";
import { MemoryFileSystem } from "../../../core/fs/memory.ts";
import { Wal, WalCorruptError, WalError } from "../../../core/wal/wal.ts";
import { describe, entries, entry, HeldSyncFs, recordingLogger } from "./helpers.ts";

const DIR = "/wal";
const SEG0 = `${DIR}/0000000000000000-0000000000000000.wal`;
const META = new Uint8Array([9, 9, 9]);
const ZERO = { index: 0, term: 0 };

async function corruptErr(p: Promise<unknown>): Promise<WalCorruptError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, WalCorruptError);
    return err as WalCorruptError;
  }
  throw new Error("expected WalCorruptError");
}

/** A log of entries 1..3 (one save each) and the offset where the last record starts. */
async function threeSaves(): Promise<{ fs: MemoryFileSystem; lastStart: number; end: number }> {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  await wal.save({ term: 1, vote: "a", commit: 0 }, [entry(1, 1)]);
  await wal.save(null, [entry(2, 1)]);
  const lastStart = await fs.size(SEG0);
  await wal.save(null, [entry(3, 1, "the last one")]);
  await wal.close();
  return { fs, lastStart, end: await fs.size(SEG0) };
}

test("a torn last record, cut at every byte, is truncated with a warning; the log goes on", async () => {
  const { fs, lastStart, end } = await threeSaves();
  for (let cut = lastStart; cut <= end; cut++) {
    const copy = fs.crash(); // everything was synced: an identical copy
    await copy.truncate(SEG0, cut);
    const log = recordingLogger();
    const r = await Wal.open(copy, DIR, ZERO, log);
    const expect = cut === end ? [1, 2, 3] : [1, 2];
    assert.equal(r.entries.map((e) => e.index), expect, `cut at ${cut}`);
    assert.is(r.tornBytes, cut === end ? 0 : cut - lastStart);
    if (cut > lastStart && cut < end) {
      assert.is(log.lines.length, 1);
      const line = log.lines[0]!;
      assert.is(line.level, "warn");
      assert.ok(line.msg.includes(SEG0) && line.msg.includes(`offset ${lastStart}`), line.msg);
      assert.is(line.fields?.bytes, cut - lastStart);
    } else {
      assert.equal(log.lines, []);
    }
    assert.is(await copy.size(SEG0), cut === end ? end : lastStart);
    // Later appends land after the cut and survive another reopen (and a crash).
    await r.wal.save({ term: 2, vote: "b", commit: 2 }, [entry(3, 2), entry(4, 2)]);
    const again = await Wal.open(copy.crash(), DIR, ZERO, recordingLogger());
    assert.equal(describe(again.entries).slice(2), ["3/2/v3.2", "4/2/v4.2"]);
    assert.equal(again.hardState, { term: 2, vote: "b", commit: 2 });
    assert.is(again.tornBytes, 0);
  }
});

test("a checksum mismatch in the last record is a torn tail", async () => {
  const { fs, end } = await threeSaves();
  const bytes = await fs.readFile(SEG0);
  bytes[end - 2]! ^= 0xff;
  await fs.writeFile(SEG0, bytes);
  const log = recordingLogger();
  const r = await Wal.open(fs, DIR, ZERO, log);
  assert.equal(r.entries.map((e) => e.index), [1, 2]);
  assert.match(log.lines[0]!.msg, /checksum mismatch/);
});

test("a zero-filled (preallocated) tail is dropped", async () => {
  const { fs, end } = await threeSaves();
  const h = await fs.openAppend(SEG0);
  await h.append(new Uint8Array(4096));
  await h.sync();
  const log = recordingLogger();
  const r = await Wal.open(fs, DIR, ZERO, log);
  assert.equal(r.entries.map((e) => e.index), [1, 2, 3]);
  assert.is(r.tornBytes, 4096);
  assert.match(log.lines[0]!.msg, new RegExp(`offset ${end} \\(4096 bytes\\)`));
  assert.is(await fs.size(SEG0), end);
});

test("a flipped byte in a middle record throws WalCorruptError naming file and offset", async () => {
  const { fs, lastStart } = await threeSaves();
  const pristine = await fs.readFile(SEG0);
  // The record of entry 2 starts right after the save of entry 1; find it by re-reading sizes.
  const probe = new MemoryFileSystem();
  const w = await Wal.create(probe, DIR, META);
  await w.save({ term: 1, vote: "a", commit: 0 }, [entry(1, 1)]);
  const secondStart = await probe.size(SEG0);
  for (const at of [secondStart, secondStart + 5, secondStart + 13, lastStart - 1]) {
    const bytes = pristine.slice();
    bytes[at]! ^= 0x01;
    await fs.writeFile(SEG0, bytes);
    const err = await corruptErr(Wal.open(fs, DIR, ZERO, recordingLogger()));
    assert.is(err.file, SEG0);
    assert.is(err.offset, secondStart, `flip at ${at}`);
    assert.ok(err.message.includes(SEG0) && err.message.includes(`offset ${secondStart}`), err.message);
  }
});

test("a damaged header of the last record is corruption, not a tear (its length cannot be trusted)", async () => {
  const { fs, lastStart } = await threeSaves();
  const bytes = await fs.readFile(SEG0);
  bytes[lastStart + 1]! ^= 0x40; // the length field
  await fs.writeFile(SEG0, bytes);
  const err = await corruptErr(Wal.open(fs, DIR, ZERO, recordingLogger()));
  assert.is(err.offset, lastStart);
});

test("damage at the end of an earlier segment is corruption, not a tear", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META, { segmentBytes: 150 });
  for (let i = 1; i <= 10; i++) await wal.save(null, [entry(i, 1, "p".repeat(30))]);
  await wal.close();
  const names = (await fs.list(DIR)).filter((n) => n.endsWith(".wal"));
  assert.ok(names.length >= 3);
  const first = `${DIR}/${names[0]}`;
  const size = await fs.size(first);
  await fs.truncate(first, size - 3);
  const err = await corruptErr(Wal.open(fs, DIR, ZERO, recordingLogger()));
  assert.is(err.file, first);

  // A missing segment in the middle is caught too.
  const fs2 = new MemoryFileSystem();
  const wal2 = await Wal.create(fs2, DIR, META, { segmentBytes: 150 });
  for (let i = 1; i <= 10; i++) await wal2.save(null, [entry(i, 1, "p".repeat(30))]);
  await wal2.close();
  await fs2.remove(`${DIR}/${names[1]}`);
  const err2 = await corruptErr(Wal.open(fs2, DIR, ZERO, recordingLogger()));
  assert.match(err2.message, /sequence/);
});

test("crash after save keeps everything saved", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META, { segmentBytes: 400 });
  for (let i = 1; i <= 20; i++) await wal.save({ term: 1, vote: "a", commit: i - 1 }, [entry(i, 1)]);
  await wal.saveSnapshot({ index: 10, term: 1 });
  for (const tear of [false, true]) {
    const r = await Wal.open(fs.crash({ tearLastWrite: tear }), DIR, { index: 10, term: 1 }, recordingLogger());
    assert.equal(r.entries.map((e) => e.index), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    assert.equal(r.hardState, { term: 1, vote: "a", commit: 19 });
    assert.is(r.tornBytes, 0);
  }
});

test("crash before a save's sync loses only that save (or leaves a prefix of it)", async () => {
  const mem = new MemoryFileSystem();
  const held = new HeldSyncFs(mem);
  const wal = await Wal.create(held, DIR, META);
  await wal.save({ term: 1, vote: "a", commit: 0 }, entries(1, 3, 1));
  held.hold = true;
  let settled = false;
  const pending = wal.save({ term: 2, vote: "b", commit: 3 }, entries(4, 8, 2)).finally(() => (settled = true));
  await held.syncing;
  assert.is(settled, false, "save has not reported success before its sync");

  const plain = await Wal.open(mem.crash(), DIR, ZERO, recordingLogger());
  assert.equal(plain.entries.map((e) => e.index), [1, 2, 3]);
  assert.equal(plain.hardState, { term: 1, vote: "a", commit: 0 });

  for (const x of [0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999]) {
    const log = recordingLogger();
    const crashed = mem.crash({ tearLastWrite: true, random: () => x });
    const r = await Wal.open(crashed, DIR, ZERO, log);
    const idx = r.entries.map((e) => e.index);
    // The synced entries, then a prefix of the unsynced save, nothing else.
    assert.equal(idx, [1, 2, 3, 4, 5, 6, 7, 8].slice(0, idx.length), `random ${x}`);
    assert.ok(idx.length >= 3);
    assert.ok(r.entries.slice(3).every((e) => e.term === 2));
    // The hard state is written after the entries: it only survives with all of them.
    if (r.hardState?.term === 2) assert.is(idx.length, 8);
    assert.is(log.lines.length, r.tornBytes > 0 ? 1 : 0);
    await r.wal.save(null, [entry(idx.length + 1, 3)]);
    const again = await Wal.open(crashed.crash(), DIR, ZERO, recordingLogger());
    assert.equal(again.entries.map((e) => e.index), [...idx, idx.length + 1]);
  }

  held.release();
  await pending;
  const after = await Wal.open(mem.crash(), DIR, ZERO, recordingLogger());
  assert.equal(after.entries.map((e) => e.index), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(after.hardState, { term: 2, vote: "b", commit: 3 });
});

test("ENOSPC during save rejects, poisons the WAL, and keeps what was saved before", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META);
  await wal.save({ term: 1, vote: "a", commit: 0 }, entries(1, 2, 1));
  fs.failWith("ENOSPC");
  let err: unknown = null;
  await wal.save(null, [entry(3, 1)]).catch((e) => (err = e));
  assert.is(errorCode(err), "ENOSPC");
  fs.failWith(null);
  // The tail is unknown now: no later call may report success.
  let later: unknown = null;
  await wal.save(null, [entry(3, 1)]).catch((e) => (later = e));
  assert.instance(later, WalError);
  assert.match((later as Error).message, /earlier write failure/);
  await wal.close();

  const r = await Wal.open(fs, DIR, ZERO, recordingLogger());
  assert.equal(r.entries.map((e) => e.index), [1, 2]);
  await r.wal.save(null, [entry(3, 1)]);
  assert.equal((await Wal.open(fs.crash(), DIR, ZERO, recordingLogger())).entries.map((e) => e.index), [1, 2, 3]);
});

test("EIO on sync rejects the save", async () => {
  const mem = new MemoryFileSystem();
  const held = new HeldSyncFs(mem);
  const wal = await Wal.create(held, DIR, META);
  await wal.save(null, entries(1, 2, 1));
  held.hold = true;
  const pending = wal.save(null, [entry(3, 1)]);
  await held.syncing;
  mem.failWith("EIO"); // the append went through; its sync fails
  held.release();
  let err: unknown = null;
  await pending.catch((e) => (err = e));
  assert.is(errorCode(err), "EIO");
  mem.failWith(null);
  const r = await Wal.open(mem.crash(), DIR, ZERO, recordingLogger());
  assert.equal(r.entries.map((e) => e.index), [1, 2]);
});

test("a failed segment cut rejects the save; the saved records are still there", async () => {
  const fs = new MemoryFileSystem();
  const wal = await Wal.create(fs, DIR, META, { segmentBytes: 100 });
  await wal.save(null, [entry(1, 1, "q".repeat(40))]);
  const inner = fs.writeFile.bind(fs);
  fs.writeFile = async (p, d) => {
    if (p.endsWith(".tmp")) throw Object.assign(new Error("ENOSPC"), { code: "ENOSPC" });
    return inner(p, d);
  };
  let err: unknown = null;
  await wal.save(null, [entry(2, 1, "q".repeat(40))]).catch((e) => (err = e));
  assert.is(errorCode(err), "ENOSPC");
  await wal.save(null, [entry(3, 1)]).catch((e) => (err = e));
  assert.instance(err, WalError);
  const r = await Wal.open(fs.crash(), DIR, ZERO, recordingLogger());
  assert.equal(r.entries.map((e) => e.index), [1, 2]);
});

test.run();
