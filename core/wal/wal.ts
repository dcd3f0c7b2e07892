// The write-ahead log: Raft's hard state, entries and snapshot markers, framed and
// checksummed in a sequence of segment files. Every save() is one append and one sync.
import type { AppendHandle, FileSystem, Logger } from "../runtime.ts";
import { mkdirDurable } from "../fs/dirs.ts";
import { join } from "../fs/path.ts";
import { WalError } from "./errors.ts";
import { RecordWriter } from "./framing.ts";
import { replay } from "./reader.ts";
import { writeEntry, writeHardState, writeMetadata, writeSnapshot } from "./records.ts";
import { holderOf, listSegments, segmentName, type SegmentName } from "./segments.ts";
import type { Entry, HardState, SnapshotRef } from "./types.ts";

export { WalCorruptError, WalError } from "./errors.ts";
export type { Entry, HardState, SnapshotRef } from "./types.ts";

export interface WalOptions {
  /** Cut a new segment once the current one grows past this. Default 64 MiB. */
  segmentBytes?: number;
}

export interface OpenResult {
  wal: Wal;
  metadata: Uint8Array;
  hardState: HardState | null;
  entries: Entry[];
  /** Bytes of a torn tail that were cut off the last segment (0 if none). */
  tornBytes: number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const TMP_SUFFIX = ".tmp";

interface WalState {
  segments: SegmentName[];
  handle: AppendHandle;
  size: number;
  lastIndex: number;
  hardState: HardState | null;
}

export class Wal {
  private segments: SegmentName[];
  private handle: AppendHandle;
  /** Bytes in the current (last) segment. */
  private size: number;
  private lastIndex: number;
  /** The latest hard state saved, restated at the start of each new segment. */
  private hardState: HardState | null;
  /** Set when a write failed: the tail of the log is unknown until it is reopened. */
  private failure: unknown = null;
  private closed = false;
  /** Serializes operations. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly metadata: Uint8Array,
    private readonly segmentBytes: number,
    state: WalState,
  ) {
    this.segments = state.segments;
    this.handle = state.handle;
    this.size = state.size;
    this.lastIndex = state.lastIndex;
    this.hardState = state.hardState;
  }

  /** Whether dir holds at least one segment. */
  static async exists(fs: FileSystem, dir: string): Promise<boolean> {
    return (await listSegments(fs, dir)).length > 0;
  }

  /** Start a new log in dir (created if needed) whose segments all carry metadata. */
  static async create(fs: FileSystem, dir: string, metadata: Uint8Array, opts: WalOptions = {}): Promise<Wal> {
    if (await Wal.exists(fs, dir)) throw new WalError(`wal: ${dir} already holds a log`);
    await mkdirDurable(fs, dir);
    const seg = await writeSegmentHead(fs, dir, 0, 0, metadata, null);
    const handle = await fs.openAppend(join(dir, seg.name));
    const state = { segments: [seg], handle, size: seg.size, lastIndex: 0, hardState: null };
    return new Wal(fs, dir, metadata.slice(), opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES, state);
  }

  /**
   * Open the log in dir for a member restarting from snapshot `from` ({0, 0} if none) and
   * replay it. Returns the entries after from.index, Raft overwrites applied. A torn tail
   * of the last segment is cut off (with a warning); damage anywhere else throws
   * WalCorruptError. The snapshot marker for `from` must be in the log unless from.index is 0.
   */
  static async open(
    fs: FileSystem,
    dir: string,
    from: SnapshotRef,
    log: Logger,
    opts: WalOptions = {},
  ): Promise<OpenResult> {
    const r = await replay(fs, dir, from);
    const last = r.segments[r.segments.length - 1]!;
    const lastPath = join(dir, last.name);
    if (r.torn) {
      const t = r.torn;
      log.warn(`wal: dropping torn tail of ${t.file} at offset ${t.offset} (${t.bytes} bytes): ${t.reason}`, {
        file: t.file,
        offset: t.offset,
        bytes: t.bytes,
        reason: t.reason,
      });
      await fs.truncate(lastPath, r.validBytes);
    }
    await removeTemporaries(fs, dir);
    const handle = await fs.openAppend(lastPath);
    const state = {
      segments: r.segments,
      handle,
      size: r.validBytes,
      lastIndex: r.lastIndex,
      hardState: r.hardState,
    };
    const wal = new Wal(fs, dir, r.metadata, opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES, state);
    return { wal, metadata: r.metadata, hardState: r.hardState, entries: r.entries, tornBytes: r.torn?.bytes ?? 0 };
  }

  /**
   * Append the entries and the hard state (if not null), then sync once. Resolves only when
   * they are durable. Entries at an index already written overwrite it and all later ones.
   * If anything fails the promise rejects and every later call rejects too: the state of
   * the tail is unknown until the log is reopened (which drops a torn tail).
   */
  save(hardState: HardState | null, entries: Entry[], opts: { sync?: boolean } = {}): Promise<void> {
    if (hardState === null && entries.length === 0) return this.run(async () => {});
    return this.run(async () => {
      const w = new RecordWriter(estimateSize(entries));
      for (const e of entries) writeEntry(w, e);
      // After the entries, so a torn write never leaves a commit index past the entries.
      if (hardState) writeHardState(w, hardState);
      await this.write(w.bytes(), opts.sync !== false);
      if (entries.length > 0) this.lastIndex = entries[entries.length - 1]!.index;
      if (hardState) this.hardState = { ...hardState };
      await this.maybeCut();
    });
  }

  /** Record that a snapshot at ref was saved (the snapshot file must already be durable). */
  saveSnapshot(ref: SnapshotRef): Promise<void> {
    return this.run(async () => {
      const w = new RecordWriter(64);
      writeSnapshot(w, ref);
      await this.write(w.bytes());
      this.lastIndex = Math.max(this.lastIndex, ref.index);
      await this.maybeCut();
    });
  }

  /**
   * Remove the segments whose entries are all below index. The segment holding index and
   * the current one stay. Call with the index of a durable snapshot (its marker stays).
   */
  release(index: number): Promise<void> {
    return this.run(async () => {
      const keepFrom = Math.min(holderOf(this.segments, index), this.segments.length - 1);
      if (keepFrom <= 0) return;
      for (const seg of this.segments.slice(0, keepFrom)) await this.fs.remove(join(this.dir, seg.name));
      this.segments = this.segments.slice(keepFrom);
      await this.fs.syncDir(this.dir);
    });
  }

  /** Close the current segment. Allowed after a failure; a second close does nothing. */
  close(): Promise<void> {
    return this.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.handle.close();
    }, true);
  }

  private run(op: () => Promise<void>, closing = false): Promise<void> {
    const next = this.queue.then(async () => {
      if (closing) return op();
      if (this.closed) throw new WalError("wal: closed");
      if (this.failure) throw new WalError(`wal: unusable after an earlier write failure: ${String(this.failure)}`);
      await op();
    });
    this.queue = next.catch(() => {});
    return next;
  }

  /** One append and one sync; any failure poisons the log (the tail is unknown). */
  /** `sync` false: written but not made durable (a commit-only hard state, as etcd does). */
  private async write(bytes: Uint8Array, sync = true): Promise<void> {
    try {
      if (sync && this.handle.appendSync) await this.handle.appendSync(bytes);
      else {
        await this.handle.append(bytes);
        if (sync) await this.handle.sync();
      }
    } catch (err) {
      this.failure = err;
      throw err;
    }
    this.size += bytes.length;
  }

  /** Start a new segment once the current one is past segmentBytes. */
  private async maybeCut(): Promise<void> {
    if (this.size < this.segmentBytes) return;
    try {
      const prev = this.segments[this.segments.length - 1]!;
      // A segment that is not the last must end with its last record (replay allows a
      // zero-filled tail only in the last one): space reserved past it goes first.
      if (this.handle.trim) await this.handle.trim();
      const seg = await writeSegmentHead(this.fs, this.dir, prev.seq + 1, this.lastIndex + 1, this.metadata, this.hardState);
      const handle = await this.fs.openAppend(join(this.dir, seg.name));
      await this.handle.close();
      this.handle = handle;
      this.size = seg.size;
      this.segments.push(seg);
    } catch (err) {
      // The records just written are durable, but the directory may now hold a new
      // segment that later writes to the old one would contradict: stop here.
      this.failure = err;
      throw err;
    }
  }
}

/**
 * Write a segment's opening records (metadata, then the current hard state) under a
 * temporary name, sync, rename into place and sync the directory: a segment file with its
 * real name is always complete from the start.
 */
async function writeSegmentHead(
  fs: FileSystem,
  dir: string,
  seq: number,
  index: number,
  metadata: Uint8Array,
  hardState: HardState | null,
): Promise<SegmentName & { size: number }> {
  const name = segmentName(seq, index);
  const w = new RecordWriter(metadata.length + 128);
  writeMetadata(w, seq, metadata);
  if (hardState) writeHardState(w, hardState);
  const bytes = w.bytes();
  const tmp = join(dir, name + TMP_SUFFIX);
  await fs.writeFile(tmp, bytes); // writes and syncs
  await fs.rename(tmp, join(dir, name));
  await fs.syncDir(dir);
  return { name, seq, index, size: bytes.length };
}

/** Left over from a cut interrupted by a crash. */
async function removeTemporaries(fs: FileSystem, dir: string): Promise<void> {
  for (const name of await fs.list(dir)) {
    if (name.endsWith(".wal" + TMP_SUFFIX)) await fs.remove(join(dir, name));
  }
}

function estimateSize(entries: Entry[]): number {
  let n = 64;
  for (const e of entries) n += e.data.length + 40;
  return n;
}
