// Fewer messages with the same effect, for one batch of outgoing messages (a Ready's).
//
// Under load a leader steps many proposals and many acknowledgements between two Readys, and
// each one makes Raft address every follower: a one-entry MsgApp per proposal, an empty
// MsgApp per commit advance. Followers answer each with a MsgAppResp. Those messages are
// correct but redundant; merged, the same entries and commit index travel in one message per
// follower, and one acknowledgement comes back.
//
// Only consecutive messages to the same peer are combined (nothing else to that peer in
// between), so what a peer learns still arrives in the order Raft produced it:
//  - MsgApp + MsgApp of the same term whose entries continue each other (the second starts
//    where the first ends, with the matching log term) become one MsgApp with both entry
//    lists and the higher commit index, within maxBytes of entry data (always at least what
//    the first carried, so a message never grows past what Raft made on its own);
//  - MsgAppResp + MsgAppResp, both successes of the same term: the higher index acknowledges
//    everything the lower one did, so the lower one is left out.
// Dropping or merging these is safe: Raft tolerates lost messages, and a merged MsgApp is
// exactly what Raft sends itself when entries accumulate before a send.
import { entrySize } from "./util.ts";
import type { Message } from "./types.ts";

function lastTermOf(m: Message): number {
  return m.entries.length > 0 ? m.entries[m.entries.length - 1]!.term : m.logTerm;
}

function entriesBytes(m: Message): number {
  let n = 0;
  for (const e of m.entries) n += entrySize(e);
  return n;
}

/** a then b as one MsgApp, or null when they cannot be combined. */
function mergeApps(a: Message, b: Message, maxBytes: number): Message | null {
  if (a.term !== b.term || a.from !== b.from) return null;
  if (b.index !== a.index + a.entries.length || b.logTerm !== lastTermOf(a)) return null;
  if (a.entries.length > 0 && b.entries.length > 0 && entriesBytes(a) + entriesBytes(b) > maxBytes) return null;
  return { ...a, entries: b.entries.length === 0 ? a.entries : a.entries.length === 0 ? b.entries : [...a.entries, ...b.entries], commit: Math.max(a.commit, b.commit) };
}

/** The one of two successful acknowledgements that says more, or null to keep both. */
function mergeAppResps(a: Message, b: Message): Message | null {
  if (a.reject || b.reject || a.term !== b.term || a.from !== b.from) return null;
  return b.index >= a.index ? b : null;
}

function combine(a: Message, b: Message, maxBytes: number): Message | null {
  if (a.to !== b.to || a.type !== b.type) return null;
  if (a.type === "MsgApp") return mergeApps(a, b, maxBytes);
  if (a.type === "MsgAppResp") return mergeAppResps(a, b);
  return null;
}

/**
 * Combines redundant MsgApp and MsgAppResp messages (see above). Returns a new array; the
 * messages given are not modified. maxBytes: the most entry data one merged MsgApp may carry
 * (the Raft config's maxSizePerMsg).
 */
export function coalesceMessages(msgs: readonly Message[], maxBytes: number): Message[] {
  if (msgs.length < 2) return [...msgs];
  const out: Message[] = [];
  /** Position in `out` of the last message to each peer. */
  const lastTo = new Map<string, number>();
  for (const m of msgs) {
    const at = lastTo.get(m.to);
    if (at !== undefined) {
      const merged = combine(out[at]!, m, maxBytes);
      if (merged !== null) {
        out[at] = merged;
        continue;
      }
    }
    lastTo.set(m.to, out.length);
    out.push(m);
  }
  return out;
}
