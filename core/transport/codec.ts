// Raft messages on the wire: msgpack of the Message object (Uint8Array fields stay binary),
// checked field by field on the way in. A batch (POST /raft) is a msgpack array of messages.
import { Decoder, Encoder } from "@msgpack/msgpack";
import type { Entry, Message, MessageType, Snapshot } from "../raft/types.ts";

export class MalformedMessageError extends Error {
  constructor(reason: string) {
    super(`malformed raft message: ${reason}`);
    this.name = "MalformedMessageError";
  }
}

/** Message types that travel between members (the others are local to a member). */
export const NETWORK_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  "MsgProp",
  "MsgApp",
  "MsgAppResp",
  "MsgVote",
  "MsgVoteResp",
  "MsgPreVote",
  "MsgPreVoteResp",
  "MsgSnap",
  "MsgHeartbeat",
  "MsgHeartbeatResp",
  "MsgTransferLeader",
  "MsgTimeoutNow",
  "MsgReadIndex",
  "MsgReadIndexResp",
]);

const BIG_MESSAGE = 256 * 1024;
const encoder = new Encoder({ ignoreUndefined: true, initialBufferSize: 4096 });
const decoder = new Decoder({
  // Lengths are bounded by the body / frame limits anyway; these keep a hostile header from
  // making the decoder allocate for elements that are not there.
  maxArrayLength: 1 << 22,
  maxMapLength: 64,
  maxStrLength: 1 << 16,
  maxExtLength: 0,
});

/** msgpack of one message. */
export function encodeMessage(m: Message): Uint8Array {
  const out: Record<string, unknown> = {
    type: m.type,
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: e.data })),
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
  };
  if (m.snapshot) {
    const md = m.snapshot.metadata;
    out.snapshot = {
      data: m.snapshot.data,
      metadata: { index: md.index, term: md.term, confState: { voters: md.confState.voters } },
    };
  }
  if (m.context) out.context = m.context;
  // The shared encoder keeps its buffer at the largest size it ever needed: give big messages
  // (snapshots, large appends) their own, sized up front so it grows at most once.
  let size = m.snapshot ? m.snapshot.data.length : 0;
  for (const e of m.entries) size += e.data.length;
  if (size <= BIG_MESSAGE) return encoder.encode(out);
  const own = new Encoder({ ignoreUndefined: true, initialBufferSize: size + 64 * m.entries.length + 1024 });
  return own.encode(out);
}

/**
 * A msgpack array of already-encoded messages: the array header followed by the encodings
 * (a msgpack array is exactly that), so a batch costs one copy.
 */
export function encodeBatch(encoded: readonly Uint8Array[]): Uint8Array {
  const n = encoded.length;
  const header = n < 16 ? [0x90 | n] : n < 0x10000 ? [0xdc, n >>> 8, n & 0xff] : [0xdd, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  let total = header.length;
  for (const e of encoded) total += e.length;
  const out = new Uint8Array(total);
  out.set(header, 0);
  let at = header.length;
  for (const e of encoded) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}

function decodeAny(bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes);
  } catch (e) {
    throw new MalformedMessageError(e instanceof Error ? e.message : String(e));
  }
}

/** One message; throws MalformedMessageError. Binary fields are views into `bytes`. */
export function decodeMessage(bytes: Uint8Array): Message {
  return validateMessage(decodeAny(bytes));
}

/** A batch (msgpack array of messages, or a single message); throws MalformedMessageError. */
export function decodeBatch(bytes: Uint8Array): Message[] {
  const v = decodeAny(bytes);
  if (Array.isArray(v)) return v.map((x, i) => validateMessage(x, `[${i}]`));
  return [validateMessage(v)];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function uint(o: Obj, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new MalformedMessageError(`${where}.${k} is not a non-negative integer`);
  }
  return v;
}

function id(o: Obj, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== "string" || !/^[0-9a-f]{0,16}$/.test(v)) throw new MalformedMessageError(`${where}.${k} is not a member id`);
  return v;
}

function bytesField(o: Obj, k: string, where: string): Uint8Array {
  const v = o[k];
  if (!(v instanceof Uint8Array)) throw new MalformedMessageError(`${where}.${k} is not binary`);
  return v;
}

/** Checks a decoded value and rebuilds it as a Message with exactly the known fields. */
export function validateMessage(v: unknown, where = "message"): Message {
  if (!isObj(v)) throw new MalformedMessageError(`${where} is not a map`);
  const type = v.type;
  if (typeof type !== "string" || !NETWORK_TYPES.has(type as MessageType)) {
    throw new MalformedMessageError(`${where}.type ${JSON.stringify(String(type)).slice(0, 40)} is not a network message type`);
  }
  if (!Array.isArray(v.entries)) throw new MalformedMessageError(`${where}.entries is not an array`);
  const entries: Entry[] = v.entries.map((e: unknown, i: number): Entry => {
    const w = `${where}.entries[${i}]`;
    if (!isObj(e)) throw new MalformedMessageError(`${w} is not a map`);
    if (e.type !== "normal" && e.type !== "conf") throw new MalformedMessageError(`${w}.type is not normal or conf`);
    return { index: uint(e, "index", w), term: uint(e, "term", w), type: e.type, data: bytesField(e, "data", w) };
  });
  if (typeof v.reject !== "boolean") throw new MalformedMessageError(`${where}.reject is not a boolean`);
  const m: Message = {
    type: type as MessageType,
    to: id(v, "to", where),
    from: id(v, "from", where),
    term: uint(v, "term", where),
    logTerm: uint(v, "logTerm", where),
    index: uint(v, "index", where),
    entries,
    commit: uint(v, "commit", where),
    reject: v.reject,
    rejectHint: uint(v, "rejectHint", where),
  };
  if (v.snapshot !== undefined && v.snapshot !== null) m.snapshot = validateSnapshot(v.snapshot, `${where}.snapshot`);
  if (v.context !== undefined && v.context !== null) m.context = bytesField(v, "context", where);
  return m;
}

function validateSnapshot(s: unknown, where: string): Snapshot {
  if (!isObj(s)) throw new MalformedMessageError(`${where} is not a map`);
  const md = s.metadata;
  if (!isObj(md)) throw new MalformedMessageError(`${where}.metadata is not a map`);
  const cs = md.confState;
  if (!isObj(cs) || !Array.isArray(cs.voters) || !cs.voters.every((x) => typeof x === "string" && /^[0-9a-f]{1,16}$/.test(x))) {
    throw new MalformedMessageError(`${where}.metadata.confState.voters is not a list of member ids`);
  }
  return {
    data: bytesField(s, "data", where),
    metadata: {
      index: uint(md, "index", `${where}.metadata`),
      term: uint(md, "term", `${where}.metadata`),
      confState: { voters: cs.voters as string[] },
    },
  };
}
