// Small helpers shared by the Raft modules.
import type { Entry, Message, MessageType } from "./types.ts";

/** Size of an entry for the byte limits (maxSizePerMsg, maxCommittedSizePerReady): its data. */
export function entrySize(e: Entry): number {
  return e.data.byteLength;
}

/** The longest prefix of `ents` within `maxSize` bytes, but always at least one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySize(ents[limit]!);
    if (size > maxSize) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

const LOCAL: ReadonlySet<MessageType> = new Set<MessageType>(["MsgHup", "MsgBeat", "MsgUnreachable", "MsgSnapStatus", "MsgCheckQuorum"]);
const RESPONSE: ReadonlySet<MessageType> = new Set<MessageType>([
  "MsgAppResp",
  "MsgVoteResp",
  "MsgHeartbeatResp",
  "MsgUnreachable",
  "MsgPreVoteResp",
]);

export function isLocalMsg(t: MessageType): boolean {
  return LOCAL.has(t);
}

export function isResponseMsg(t: MessageType): boolean {
  return RESPONSE.has(t);
}

export function voteRespType(t: MessageType): MessageType {
  if (t === "MsgVote") return "MsgVoteResp";
  if (t === "MsgPreVote") return "MsgPreVoteResp";
  throw new Error(`raft: not a vote message: ${t}`);
}

/** A message with every field defaulted; callers set what they need. */
export function msg(fields: Partial<Message> & Pick<Message, "type">): Message {
  return {
    to: "",
    from: "",
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  };
}

/** A map key for opaque byte strings (ReadIndex contexts). */
export function bytesKey(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, "0");
  return s;
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return (a?.length ?? 0) === 0 && (b?.length ?? 0) === 0;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
