// The Raft log as the state machine sees it: durable entries (Storage) followed by the unstable
// tail, with the commit and apply cursors.
import { Unstable } from "./log-unstable.ts";
import { CompactedError, UnavailableError } from "./storage.ts";
import type { Entry, Snapshot, Storage } from "./types.ts";
import { limitSize } from "./util.ts";

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the application has applied (applied <= committed). */
  applied: number;
  /** Byte limit of committed entries handed out in one Ready. */
  private readonly maxNextEntsSize: number;

  constructor(storage: Storage, maxNextEntsSize: number) {
    this.storage = storage;
    this.maxNextEntsSize = maxNextEntsSize;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the last compaction was committed and applied.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.entries)=${this.unstable.entries.length}`;
  }

  /**
   * Appends `ents` after (index, logTerm) if that entry matches ours; returns the index of the
   * last entry the message covers, or undefined when the previous entry does not match.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) throw new Error(`raft: entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      this.append(ents.slice(ci - (index + 1)));
    }
    // Only what this message proved we share with the leader may be committed.
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) throw new Error(`raft: after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry of `ents` that is new or disagrees with ours (a different term at
   * the same index), or 0 when all are already present.
   */
  findConflict(ents: Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or the first unknown one). Used on both
   * sides of a rejected MsgApp to skip a whole divergent term at a time.
   */
  findConflictByTerm(index: number, term: number): number {
    if (index > this.lastIndex()) return index;
    for (;;) {
      const t = this.tryTerm(index);
      if (t === undefined || t <= term) return index;
      index--;
    }
  }

  /** The live unstable array: copy it before keeping it. */
  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries not yet handed to the application. */
  nextEnts(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1, this.maxNextEntsSize);
    return [];
  }

  hasNextEnts(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined && this.unstable.snapshot.metadata.index !== 0;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return; // never decrease
    if (this.lastIndex() < toCommit) {
      throw new Error(`raft: tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`);
    }
    this.committed = toCommit;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new Error(`raft: applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    return this.tryTerm(this.lastIndex()) ?? 0;
  }

  /**
   * Term of entry i: 0 outside [firstIndex-1, lastIndex]; throws CompactedError or
   * UnavailableError from storage.
   */
  term(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return 0;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    return this.storage.term(i);
  }

  /** term(i), or undefined when compacted / unavailable. */
  tryTerm(i: number): number | undefined {
    try {
      return this.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return undefined;
      throw e;
    }
  }

  /** term(i), with 0 for a compacted index. */
  zeroTermOnCompacted(i: number): number {
    try {
      return this.term(i);
    } catch (e) {
      if (e instanceof CompactedError) return 0;
      throw e;
    }
  }

  /** Entries from i to the end, at most maxSize bytes (at least one). Throws CompactedError. */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /** Whether a candidate's log (lastIndex, lastTerm) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lasti: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lasti >= this.lastIndex());
  }

  matchTerm(i: number, term: number): boolean {
    const t = this.tryTerm(i);
    return t !== undefined && t === term;
  }

  /**
   * Commits up to maxIndex if that entry is from `term` (the leader's current term): the Raft
   * commit rule (§5.4.2). `anyTerm` disables that check — the classic bug, for tests only.
   */
  maybeCommit(maxIndex: number, term: number, anyTerm = false): boolean {
    if (maxIndex > this.committed && (anyTerm || this.zeroTermOnCompacted(maxIndex) === term)) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries [lo, hi), at most maxSize bytes (at least one). Throws CompactedError if lo is compacted. */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.checkBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const upto = Math.min(hi, off);
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, upto, maxSize);
      } catch (e) {
        if (e instanceof UnavailableError) throw new Error(`raft: entries[${lo}:${upto}) is unavailable from storage`);
        throw e;
      }
      // Storage hit the size limit: do not add unstable entries after a gap.
      if (stored.length < upto - lo) return stored;
      ents = stored;
    }
    if (hi > off) {
      const tail = this.unstable.slice(Math.max(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitSize(ents, maxSize);
  }

  private checkBounds(lo: number, hi: number): void {
    if (lo > hi) throw new Error(`raft: invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new CompactedError();
    const last = this.lastIndex();
    if (hi > last + 1) throw new Error(`raft: slice[${lo},${hi}) out of bound [${fi},${last}]`);
  }
}
