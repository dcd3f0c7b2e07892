import { test } from "uvu";
import * as assert from "uvu/assert";
import { Inflights } from "../../../core/raft/inflights.ts";
import { RaftLog } from "../../../core/raft/log.ts";
import { Progress } from "../../../core/raft/progress.ts";
import { CompactedError, MemoryStorage, SnapshotOutOfDateError, UnavailableError } from "../../../core/raft/storage.ts";
import type { Entry } from "../../../core/raft/types.ts";

const e = (index: number, term: number, data = ""): Entry => ({ index, term, type: "normal", data: new TextEncoder().encode(data) });
const terms = (ents: Entry[]) => ents.map((x) => [x.index, x.term]);

function storageWith(...ts: [number, number][]): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot({ data: new Uint8Array(0), metadata: { index: ts[0]![0], term: ts[0]![1], confState: { voters: ["1"] } } });
  s.append(ts.slice(1).map(([i, t]) => e(i, t)));
  return s;
}

test("MemoryStorage: term, first/last index, compaction errors", () => {
  const s = storageWith([3, 3], [4, 4], [5, 5]);
  assert.is(s.firstIndex(), 4);
  assert.is(s.lastIndex(), 5);
  assert.is(s.term(3), 3);
  assert.is(s.term(5), 5);
  assert.throws(() => s.term(2), (x: unknown) => x instanceof CompactedError);
  assert.throws(() => s.term(6), (x: unknown) => x instanceof UnavailableError);
  assert.throws(() => s.entries(3, 5, Infinity), (x: unknown) => x instanceof CompactedError);
  assert.equal(terms(s.entries(4, 6, Infinity)), [[4, 4], [5, 5]]);
});

test("MemoryStorage: entries honour maxSize but return at least one", () => {
  const s = new MemoryStorage();
  s.append([e(1, 1, "aaaa"), e(2, 1, "bbbb"), e(3, 1, "cccc")]);
  assert.is(s.entries(1, 4, 0).length, 1);
  assert.is(s.entries(1, 4, 8).length, 2);
  assert.is(s.entries(1, 4, 11).length, 2);
  assert.is(s.entries(1, 4, 12).length, 3);
});

test("MemoryStorage: append truncates a conflicting suffix and skips compacted entries", () => {
  const s = storageWith([3, 3], [4, 4], [5, 5]);
  s.append([e(4, 6), e(5, 6), e(6, 6)]);
  assert.equal(terms(s.entries(4, 7, Infinity)), [[4, 6], [5, 6], [6, 6]]);
  s.append([e(2, 3), e(3, 3), e(4, 7)]); // 2 and 3 are compacted
  assert.equal(terms(s.entries(4, 5, Infinity)), [[4, 7]]);
  assert.is(s.lastIndex(), 4);
  s.append([e(5, 7)]);
  assert.is(s.lastIndex(), 5);
  assert.throws(() => s.append([e(7, 7)]), /missing log entry/);
});

test("MemoryStorage: createSnapshot, compact, applySnapshot", () => {
  const s = storageWith([3, 3], [4, 4], [5, 5], [6, 5]);
  const snap = s.createSnapshot(5, { voters: ["1", "2"] }, new Uint8Array([9]));
  assert.equal(snap.metadata, { index: 5, term: 5, confState: { voters: ["1", "2"] } });
  assert.throws(() => s.createSnapshot(4, { voters: [] }, new Uint8Array()), (x: unknown) => x instanceof SnapshotOutOfDateError);
  assert.is(s.firstIndex(), 4, "snapshotting does not compact");
  s.compact(5);
  assert.is(s.firstIndex(), 6);
  assert.is(s.term(5), 5);
  s.compact(4); // already compacted: no-op
  assert.is(s.firstIndex(), 6);
  assert.equal(s.initialState().confState, { voters: ["1", "2"] });
  s.applySnapshot({ data: new Uint8Array(), metadata: { index: 10, term: 7, confState: { voters: ["1"] } } });
  assert.is(s.firstIndex(), 11);
  assert.is(s.lastIndex(), 10);
  assert.throws(() => s.applySnapshot(snap), (x: unknown) => x instanceof SnapshotOutOfDateError);
  s.setHardState({ term: 7, vote: "1", commit: 10 });
  assert.equal(s.initialState().hardState, { term: 7, vote: "1", commit: 10 });
});

test("RaftLog: maybeAppend checks the previous entry, truncates conflicts, bounds the commit", () => {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 2), e(3, 3)]);
  const log = new RaftLog(s, Infinity);
  assert.is(log.maybeAppend(3, 2, 3, [e(4, 4)]), undefined, "term mismatch at 3");
  assert.is(log.maybeAppend(4, 3, 3, []), undefined, "missing 4");
  assert.is(log.maybeAppend(3, 3, 10, [e(4, 4)]), 4);
  assert.is(log.committed, 4, "commit bounded by what the message covers");
  assert.is(log.maybeAppend(1, 1, 1, [e(2, 2)]), 2);
  assert.is(log.lastIndex(), 4, "a matching prefix does not truncate");
  assert.throws(() => log.maybeAppend(1, 1, 4, [e(2, 5)]), /conflicts with committed/);
  const log2 = new RaftLog(s, Infinity);
  assert.is(log2.maybeAppend(1, 1, 0, [e(2, 4), e(3, 4)]), 3);
  assert.equal(terms(log2.unstableEntries()), [[2, 4], [3, 4]]);
  assert.is(log2.lastIndex(), 3);
  assert.is(log2.term(3), 4);
});

test("RaftLog: findConflictByTerm skips a term at a time", () => {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 1), e(3, 3), e(4, 3), e(5, 3), e(6, 5)]);
  const log = new RaftLog(s, Infinity);
  assert.is(log.findConflictByTerm(6, 4), 5);
  assert.is(log.findConflictByTerm(6, 2), 2);
  assert.is(log.findConflictByTerm(6, 0), 0);
  assert.is(log.findConflictByTerm(9, 2), 9, "beyond the log: unchanged");
  assert.is(log.findConflictByTerm(4, 3), 4);
});

test("RaftLog: commit rule only for the current term unless told otherwise", () => {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 2), e(3, 4)]);
  const log = new RaftLog(s, Infinity);
  assert.not.ok(log.maybeCommit(2, 4));
  assert.is(log.committed, 0);
  assert.ok(log.maybeCommit(2, 4, true));
  assert.is(log.committed, 2);
  assert.ok(log.maybeCommit(3, 4));
  assert.not.ok(log.maybeCommit(2, 4), "never decreases");
  assert.throws(() => log.commitTo(9), /out of range/);
});

test("RaftLog: isUpToDate compares last term, then last index", () => {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 2), e(3, 2)]);
  const log = new RaftLog(s, Infinity);
  assert.ok(log.isUpToDate(1, 3));
  assert.ok(log.isUpToDate(3, 2));
  assert.ok(log.isUpToDate(4, 2));
  assert.not.ok(log.isUpToDate(2, 2));
  assert.not.ok(log.isUpToDate(9, 1));
});

test("RaftLog: slices span storage and unstable entries; stableTo ignores a changed log", () => {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 1)]);
  const log = new RaftLog(s, Infinity);
  log.append([e(3, 2), e(4, 2)]);
  assert.equal(terms(log.slice(1, 5, Infinity)), [[1, 1], [2, 1], [3, 2], [4, 2]]);
  log.stableTo(4, 1); // wrong term: ignored
  assert.is(log.unstableEntries().length, 2);
  log.append([e(4, 3)]); // overwrite 4 before it was persisted
  log.stableTo(4, 2); // a stale advance for the old entry 4
  assert.equal(terms(log.unstableEntries()), [[3, 2], [4, 3]]);
  s.append(log.unstableEntries());
  log.stableTo(4, 3);
  assert.equal(log.unstableEntries(), []);
  assert.is(log.term(4), 3);
});

test("Inflights: ring buffer frees up to an index, one at a time, and reports full", () => {
  const inf = new Inflights(3);
  inf.add(5);
  inf.add(7);
  inf.add(9);
  assert.ok(inf.full());
  assert.throws(() => inf.add(10));
  inf.freeLE(6);
  assert.is(inf.length, 2);
  inf.add(11);
  inf.freeFirstOne();
  assert.is(inf.length, 2);
  inf.freeLE(100);
  assert.is(inf.length, 0);
  inf.add(12);
  inf.freeLE(1); // nothing below
  assert.is(inf.length, 1);
});

test("Progress: probe/replicate/snapshot transitions and stale rejections", () => {
  const pr = new Progress(5, 2);
  assert.not.ok(pr.isPaused());
  pr.probeSent = true;
  assert.ok(pr.isPaused());
  assert.ok(pr.maybeUpdate(4));
  assert.not.ok(pr.isPaused(), "an ack unpauses a probe");
  pr.becomeReplicate();
  assert.is(pr.next, 5);
  assert.not.ok(pr.maybeDecrTo(3, 3), "stale: below match");
  assert.ok(pr.maybeDecrTo(6, 2));
  assert.is(pr.next, 5, "replicate falls back to match+1");
  pr.becomeProbe();
  pr.next = 10;
  assert.not.ok(pr.maybeDecrTo(5, 2), "not the latest probe");
  assert.ok(pr.maybeDecrTo(9, 6));
  assert.is(pr.next, 7, "hint+1");
  pr.becomeSnapshot(20);
  assert.ok(pr.isPaused());
  pr.becomeProbe();
  assert.is(pr.next, 21, "after a snapshot, probe from after it");
});

test.run();
