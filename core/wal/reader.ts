// Replays the segments of a WAL directory into the state Raft restarts from.
import type { FileSystem } from "../runtime.ts";
import { join } from "../fs/path.ts";
import { WalCorruptError, WalError } from "./errors.ts";
import { readRecord } from "./framing.ts";
import { decodeRecord } from "./records.ts";
import { holderOf, listSegments, type SegmentName } from "./segments.ts";
import type { Entry, HardState, SnapshotRef } from "./types.ts";

export interface ReplayResult {
  metadata: Uint8Array;
  hardState: HardState | null;
  /** Entries with index > from.index, after Raft overwrites. */
  entries: Entry[];
  /** Index of the last entry written (or snapshot marker, if higher). Names the next segment. */
  lastIndex: number;
  /** Every segment in the directory, by sequence. */
  segments: SegmentName[];
  /** Length of the valid prefix of the last segment. */
  validBytes: number;
  /** A torn tail found at the end of the last segment, not yet removed. */
  torn: { file: string; offset: number; bytes: number; reason: string } | null;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Read from the segment holding from.index to the end (like etcd, older segments are not
 * needed: each segment restates the metadata and the hard state at its start).
 */
export async function replay(fs: FileSystem, dir: string, from: SnapshotRef): Promise<ReplayResult> {
  const segments = await listSegments(fs, dir);
  if (segments.length === 0) throw new WalError(`wal: no segments in ${dir}`);
  const first = holderOf(segments, from.index);
  if (first < 0) throw new WalError(`wal: no segment in ${dir} holds index ${from.index}`);

  let metadata: Uint8Array | null = null;
  let hardState: HardState | null = null;
  const entries: Entry[] = [];
  let lastIndex = Math.max(0, segments[first]!.index - 1);
  let marker: "none" | "found" | "mismatch" = from.index === 0 ? "found" : "none";
  let validBytes = 0;
  let torn: ReplayResult["torn"] = null;

  for (let i = first; i < segments.length; i++) {
    const seg = segments[i]!;
    const file = join(dir, seg.name);
    const isLast = i === segments.length - 1;
    if (i > first && seg.seq !== segments[i - 1]!.seq + 1) {
      throw new WalCorruptError(file, 0, `segment sequence ${seg.seq} follows ${segments[i - 1]!.seq}`);
    }
    const bytes = await fs.readFile(file);
    let offset = 0;
    let sawMetadata = false;
    for (;;) {
      const r = readRecord(bytes, offset);
      if (r.kind === "end") break;
      if (r.kind === "corrupt") throw new WalCorruptError(file, r.offset, r.reason);
      if (r.kind === "tail") {
        if (!isLast || !sawMetadata) throw new WalCorruptError(file, r.offset, r.reason);
        torn = { file, offset: r.offset, bytes: bytes.length - r.offset, reason: r.reason };
        break;
      }
      const rec = decodeRecord(r.type, r.payload);
      if (typeof rec === "string") throw new WalCorruptError(file, r.offset, rec);
      if (!sawMetadata) {
        if (rec.type !== "metadata") throw new WalCorruptError(file, r.offset, "segment does not start with metadata");
        if (rec.seq !== seg.seq) throw new WalCorruptError(file, r.offset, `metadata names sequence ${rec.seq}`);
        if (metadata && !equalBytes(metadata, rec.metadata)) {
          throw new WalCorruptError(file, r.offset, "metadata differs from the previous segment");
        }
        metadata = rec.metadata;
        sawMetadata = true;
      } else if (rec.type === "metadata") {
        throw new WalCorruptError(file, r.offset, "metadata record in the middle of a segment");
      } else if (rec.type === "entry") {
        const e = rec.entry;
        if (e.index > from.index) {
          const pos = e.index - from.index - 1;
          if (pos > entries.length) {
            const prev = from.index + entries.length;
            throw new WalCorruptError(file, r.offset, `entry ${e.index} does not follow ${prev}`);
          }
          entries.length = pos; // an overwrite drops this index and everything after it
          entries.push(e);
        }
        lastIndex = e.index;
      } else if (rec.type === "hardState") {
        hardState = rec.hardState;
      } else {
        const s = rec.snapshot;
        if (s.index === from.index && marker !== "found") marker = s.term === from.term ? "found" : "mismatch";
        lastIndex = Math.max(lastIndex, s.index);
      }
      offset = r.end;
    }
    if (!sawMetadata) throw new WalCorruptError(file, 0, "segment is empty");
    if (isLast) validBytes = offset;
  }

  if (marker === "mismatch") {
    throw new WalError(`wal: snapshot marker at index ${from.index} has another term than ${from.term}`);
  }
  if (marker === "none") throw new WalError(`wal: no snapshot marker at index ${from.index} term ${from.term}`);
  return { metadata: metadata!, hardState, entries, lastIndex, segments, validBytes, torn };
}
