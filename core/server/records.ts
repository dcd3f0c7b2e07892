// What a log entry carries. Entries are msgpack-encoded; an empty entry (a new leader's
// no-op) has no data.
import { decode, encode } from "@msgpack/msgpack";
import type { StoreCommand } from "../store/types.ts";

export interface ConfChange {
  op: "add" | "remove" | "update";
  memberId: string;
  /** add and update only. */
  peerURLs?: string[];
}

export type LogRecord =
  /** A store command (a client write, a quorum read, a TTL sync, or a /0 metadata write). */
  | { k: "store"; id: number; cmd: StoreCommand }
  /** A membership change. */
  | { k: "conf"; id: number; change: ConfChange };

export function encodeRecord(r: LogRecord): Uint8Array {
  return encode(r);
}

export function decodeRecord(data: Uint8Array): LogRecord | null {
  if (data.length === 0) return null;
  return decode(data) as LogRecord;
}
