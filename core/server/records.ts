// What a log entry carries. Entries are msgpack-encoded; an empty entry (a new leader's
// no-op) has no data.
import { Decoder, Encoder } from "@msgpack/msgpack";
import type { StoreCommand } from "../store/types.ts";

export interface ConfChange {
  op: "add" | "remove" | "update";
  memberId: string;
  /** add and update only. */
  peerURLs?: string[];
}

/**
 * A normal entry's payload: a store command (a client write, a TTL sync, or a /0 metadata
 * write) and the ID of the request waiting for it. Membership changes travel as Raft conf
 * entries instead.
 */
export type LogRecord = { k: "store"; id: string; cmd: StoreCommand };

// One encoder and one decoder for every record: the module-level encode()/decode() build a
// new one (and a 2 KiB buffer) per call. encode() returns a copy; both are reentrant-safe.
const encoder = new Encoder();
const decoder = new Decoder();

export function encodeRecord(r: LogRecord): Uint8Array {
  return encoder.encode(r);
}

export function decodeRecord(data: Uint8Array): LogRecord | null {
  if (data.length === 0) return null;
  return decoder.decode(data) as LogRecord;
}
