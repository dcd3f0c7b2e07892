// Record framing on disk:
//
//   offset 0  u32 LE  body length (type byte + payload), at least 1
//   offset 4  u32 LE  CRC-32C of the body
//   offset 8  u32 LE  CRC-32C of bytes 0..8 (the header checksum)
//   offset 12 body:   u8 record type, then the msgpack payload
//
// CRCs are per record, not chained: each record is checked on its own, and a segment does
// not depend on the one before it. The header has its own checksum so that a damaged
// length is caught, instead of being read as "the record runs past the end of the file"
// and mistaken for a torn tail (which would silently drop every record after it). A torn
// write leaves a prefix of what was appended, so a complete header is always intact.

import { crc32c } from "./crc32.ts";

export const HEADER_BYTES = 12;

/** Collects the framed records of one write into a single buffer. */
export class RecordWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.len;
  }

  add(type: number, payload: Uint8Array): void {
    const bodyLen = 1 + payload.length;
    this.reserve(HEADER_BYTES + bodyLen);
    const start = this.len;
    const bodyStart = start + HEADER_BYTES;
    this.buf[bodyStart] = type;
    this.buf.set(payload, bodyStart + 1);
    this.view.setUint32(start, bodyLen, true);
    this.view.setUint32(start + 4, crc32c(this.buf.subarray(bodyStart, bodyStart + bodyLen)), true);
    this.view.setUint32(start + 8, crc32c(this.buf.subarray(start, start + 8)), true);
    this.len = bodyStart + bodyLen;
  }

  /** The records written so far (a view; valid until the next add). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.len + n, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }
}

export type ReadResult =
  | { kind: "record"; type: number; payload: Uint8Array; offset: number; end: number }
  /** Nothing more to read. */
  | { kind: "end" }
  /** Damage that a torn or preallocated tail explains, if this is the end of the log. */
  | { kind: "tail"; offset: number; reason: string }
  /** Damage no torn write explains. */
  | { kind: "corrupt"; offset: number; reason: string };

function allZero(bytes: Uint8Array, from: number, to = bytes.length): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Read the record starting at offset. */
export function readRecord(bytes: Uint8Array, offset: number): ReadResult {
  const total = bytes.length;
  if (offset >= total) return { kind: "end" };
  const remaining = total - offset;
  if (remaining < HEADER_BYTES) {
    return { kind: "tail", offset, reason: `incomplete header (${remaining} of ${HEADER_BYTES} bytes)` };
  }
  if (allZero(bytes, offset, offset + HEADER_BYTES)) {
    return allZero(bytes, offset + HEADER_BYTES)
      ? { kind: "tail", offset, reason: "zero-filled tail" }
      : { kind: "corrupt", offset, reason: "zeroed header followed by data" };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_BYTES);
  const bodyLen = view.getUint32(0, true);
  const bodyCrc = view.getUint32(4, true);
  if (view.getUint32(8, true) !== crc32c(bytes.subarray(offset, offset + 8))) {
    return { kind: "corrupt", offset, reason: "header checksum mismatch" };
  }
  if (bodyLen === 0) return { kind: "corrupt", offset, reason: "empty record" };
  const bodyStart = offset + HEADER_BYTES;
  const end = bodyStart + bodyLen;
  if (end > total) {
    return { kind: "tail", offset, reason: `incomplete record (${total - bodyStart} of ${bodyLen} body bytes)` };
  }
  if (crc32c(bytes.subarray(bodyStart, end)) !== bodyCrc) {
    return allZero(bytes, end)
      ? { kind: "tail", offset, reason: "checksum mismatch in the final record" }
      : { kind: "corrupt", offset, reason: "checksum mismatch" };
  }
  return { kind: "record", type: bytes[bodyStart]!, payload: bytes.subarray(bodyStart + 1, end), offset, end };
}
