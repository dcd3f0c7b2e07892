// Length-prefixed frames for the peer stream (GET /raft/stream/<id>):
//
//   frame = length (4 bytes, big-endian, unsigned) + payload (`length` bytes, one msgpack Message)
//
// A zero-length frame carries nothing: the writer sends one when it has been quiet for a while
// (keepalive), so that the reader can tell a silent peer from a dead connection.

export const FRAME_HEADER_BYTES = 4;
/** Largest length the 4-byte header can express. */
export const MAX_FRAME_LENGTH = 0xffffffff;

/** The 4-byte zero-length frame. */
export const KEEPALIVE_FRAME: Uint8Array = new Uint8Array(FRAME_HEADER_BYTES);

export class FrameTooLargeError extends Error {
  constructor(readonly length: number, readonly limit: number) {
    super(`frame of ${length} bytes exceeds the limit of ${limit} bytes`);
    this.name = "FrameTooLargeError";
  }
}

/** Bytes one frame of this payload length takes on the wire. */
export function frameSize(payloadLength: number): number {
  return FRAME_HEADER_BYTES + payloadLength;
}

/** Concatenate payloads into one buffer of frames. */
export function encodeFrames(payloads: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of payloads) total += frameSize(p.length);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of payloads) {
    if (p.length > MAX_FRAME_LENGTH) throw new FrameTooLargeError(p.length, MAX_FRAME_LENGTH);
    view.setUint32(at, p.length, false);
    out.set(p, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + p.length;
  }
  return out;
}

/**
 * Splits a byte stream, arriving in chunks of any size, back into frame payloads. Holds at
 * most one incomplete frame (bounded by maxFrameBytes); a header announcing a larger frame
 * throws FrameTooLargeError before anything is buffered for it. Every payload returned is a
 * fresh copy: decoded messages may keep views into it, so it is never reused or shared.
 */
export class FrameDecoder {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Length of the frame being assembled, once its header is complete; -1 before. */
  private want = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held for the incomplete frame (header included). */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Feed a chunk; returns the payloads it completed, in order (empty ones are keepalives). */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.want < 0) {
        // Header: may be split over chunks.
        const need = FRAME_HEADER_BYTES - this.pendingBytes;
        if (this.pendingBytes === 0 && chunk.length - at >= FRAME_HEADER_BYTES) {
          this.want = readUint32(chunk, at);
          at += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(need, chunk.length - at);
          this.pending.push(chunk.slice(at, at + take));
          this.pendingBytes += take;
          at += take;
          if (this.pendingBytes < FRAME_HEADER_BYTES) break;
          const header = concat(this.pending, FRAME_HEADER_BYTES);
          this.pending = [];
          this.pendingBytes = 0;
          this.want = readUint32(header, 0);
        }
        if (this.want > this.maxFrameBytes) {
          const len = this.want;
          this.reset();
          throw new FrameTooLargeError(len, this.maxFrameBytes);
        }
        if (this.want === 0) {
          out.push(new Uint8Array(0));
          this.want = -1;
        }
        continue;
      }
      // Payload.
      const need = this.want - this.pendingBytes;
      const avail = chunk.length - at;
      if (this.pendingBytes === 0 && avail >= need) {
        out.push(chunk.slice(at, at + need));
        at += need;
        this.want = -1;
        continue;
      }
      const take = Math.min(need, avail);
      this.pending.push(chunk.subarray(at, at + take));
      this.pendingBytes += take;
      at += take;
      if (this.pendingBytes === this.want) {
        out.push(concat(this.pending, this.want));
        this.pending = [];
        this.pendingBytes = 0;
        this.want = -1;
      } else {
        // The chunk may be reused by its producer: keep our own copy of the partial bytes.
        const last = this.pending.length - 1;
        this.pending[last] = this.pending[last]!.slice();
      }
    }
    return out;
  }

  /** Whether the stream so far ended exactly on a frame boundary. */
  get atBoundary(): boolean {
    return this.want < 0 && this.pendingBytes === 0;
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.want = -1;
  }
}

function readUint32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
