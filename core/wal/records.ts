// The kinds of WAL record and their msgpack payloads (compact arrays, not maps).
import { Decoder, Encoder } from "@msgpack/msgpack";
import type { RecordWriter } from "./framing.ts";
import type { Entry, HardState, SnapshotRef } from "./types.ts";

export const RecordType = {
  /** First record of every segment: [seq, metadata]. */
  metadata: 1,
  /** [index, term, 0 normal | 1 conf, data] */
  entry: 2,
  /** [term, vote, commit] */
  hardState: 3,
  /** Snapshot marker: [index, term] */
  snapshot: 4,
} as const;

export type WalRecord =
  | { type: "metadata"; seq: number; metadata: Uint8Array }
  | { type: "entry"; entry: Entry }
  | { type: "hardState"; hardState: HardState }
  | { type: "snapshot"; snapshot: SnapshotRef };

// encodeSharedRef returns a view into the encoder's buffer; RecordWriter copies it at once.
const encoder = new Encoder();
const decoder = new Decoder();

export function writeMetadata(w: RecordWriter, seq: number, metadata: Uint8Array): void {
  w.add(RecordType.metadata, encoder.encodeSharedRef([seq, metadata]));
}

export function writeEntry(w: RecordWriter, e: Entry): void {
  w.add(RecordType.entry, encoder.encodeSharedRef([e.index, e.term, e.type === "conf" ? 1 : 0, e.data]));
}

export function writeHardState(w: RecordWriter, hs: HardState): void {
  w.add(RecordType.hardState, encoder.encodeSharedRef([hs.term, hs.vote, hs.commit]));
}

export function writeSnapshot(w: RecordWriter, s: SnapshotRef): void {
  w.add(RecordType.snapshot, encoder.encodeSharedRef([s.index, s.term]));
}

const isIndex = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Decode a checksummed record body; a string return says why it makes no sense. */
export function decodeRecord(type: number, payload: Uint8Array): WalRecord | string {
  let v: unknown;
  try {
    v = decoder.decode(payload);
  } catch (err) {
    return `undecodable payload: ${(err as Error).message}`;
  }
  if (!Array.isArray(v)) return "payload is not an array";
  switch (type) {
    case RecordType.metadata: {
      const [seq, metadata] = v;
      if (!isIndex(seq) || !(metadata instanceof Uint8Array)) return "bad metadata record";
      return { type: "metadata", seq, metadata: metadata.slice() };
    }
    case RecordType.entry: {
      const [index, term, kind, data] = v;
      if (!isIndex(index) || !isIndex(term) || (kind !== 0 && kind !== 1) || !(data instanceof Uint8Array)) {
        return "bad entry record";
      }
      // Copy: the decoded bytes are a view into the whole segment buffer.
      return { type: "entry", entry: { index, term, type: kind === 1 ? "conf" : "normal", data: data.slice() } };
    }
    case RecordType.hardState: {
      const [term, vote, commit] = v;
      if (!isIndex(term) || typeof vote !== "string" || !isIndex(commit)) return "bad hard state record";
      return { type: "hardState", hardState: { term, vote, commit } };
    }
    case RecordType.snapshot: {
      const [index, term] = v;
      if (!isIndex(index) || !isIndex(term)) return "bad snapshot record";
      return { type: "snapshot", snapshot: { index, term } };
    }
    default:
      return `unknown record type ${type}`;
  }
}
