// Log storage as Raft reads it, and MemoryStorage: the in-memory copy the server keeps of what
// it has made durable (rebuilt from snapshot + WAL on restart). Entries live in `ents`, where
// ents[0] is a dummy entry carrying the index and term of the last snapshot (or 0/0).
import type { ConfState, Entry, HardState, Snapshot, Storage } from "./types.ts";
import { limitSize } from "./util.ts";

/** The requested index is older than the last snapshot (compacted away). */
export class CompactedError extends Error {
  constructor() {
    super("requested index is unavailable due to compaction");
    this.name = "CompactedError";
  }
}

/** The requested index is newer than the last entry. */
export class UnavailableError extends Error {
  constructor() {
    super("requested entry at index is unavailable");
    this.name = "UnavailableError";
  }
}

/** applySnapshot/createSnapshot with a snapshot no newer than the current one. */
export class SnapshotOutOfDateError extends Error {
  constructor() {
    super("requested index is older than the existing snapshot");
    this.name = "SnapshotOutOfDateError";
  }
}

/** A Storage may throw this from snapshot() when it is not ready yet; Raft retries later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  constructor() {
    super("snapshot is temporarily unavailable");
    this.name = "SnapshotTemporarilyUnavailableError";
  }
}

export function emptySnapshot(): Snapshot {
  return { data: new Uint8Array(0), metadata: { index: 0, term: 0, confState: { voters: [] } } };
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return !s || s.metadata.index === 0;
}

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: "", commit: 0 };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ index: 0, term: 0, type: "normal", data: new Uint8Array(0) }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: { voters: [...this.snap.metadata.confState.voters] } };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new Error(`raft storage: entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    if (this.ents.length === 1) throw new UnavailableError();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError();
    const e = this.ents[i - offset];
    if (!e) throw new UnavailableError();
    return e.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot (received from the leader). */
  applySnapshot(s: Snapshot): void {
    if (this.snap.metadata.index >= s.metadata.index) throw new SnapshotOutOfDateError();
    this.snap = s;
    this.ents = [{ index: s.metadata.index, term: s.metadata.term, type: "normal", data: new Uint8Array(0) }];
  }

  /** Records a snapshot of the application at `index` (<= last index); compaction is separate. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError();
    if (index > this.lastIndex()) throw new Error(`raft storage: snapshot ${index} is out of bound lastindex(${this.lastIndex()})`);
    const term = this.ents[index - this.ents[0]!.index]!.term;
    this.snap = { data, metadata: { index, term, confState: { voters: [...confState.voters] } } };
    return this.snap;
  }

  /** Discards entries before `index` (which becomes the dummy). A no-op when already compacted. */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) return;
    if (index > this.lastIndex()) throw new Error(`raft storage: compact ${index} is out of bound lastindex(${this.lastIndex()})`);
    const i = index - offset;
    const at = this.ents[i]!;
    this.ents = [{ index: at.index, term: at.term, type: "normal", data: new Uint8Array(0) }, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries, which must be contiguous. Entries at or after entries[0].index are replaced
   * (a new leader overwrote them); entries already compacted are skipped.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const offset = entries[0]!.index - this.ents[0]!.index;
    if (this.ents.length < offset) {
      throw new Error(`raft storage: missing log entry [last: ${this.lastIndex()}, append at: ${entries[0]!.index}]`);
    }
    // In place: entries() hands out copies, so nobody else holds this array.
    this.ents.length = offset;
    for (const e of entries) this.ents.push(e);
  }
}
