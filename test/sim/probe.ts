// What the simulator reads from inside a running member, all in one place: Raft's own status
// (term, role, commit), the applied index and the applied entries, and the store's event
// stream. These are private fields of core/server/member.ts read through a cast (test code
// only, read-only), so that a change in the member shows up here and nowhere else.
import type { Member } from "../../core/server/member.ts";
import type { MemoryStorage } from "../../core/raft/storage.ts";
import type { Entry, RaftConfig, Status } from "../../core/raft/types.ts";
import type { StoreEvent } from "../../core/store/types.ts";
import type { Store } from "../../core/store/store.ts";
import type { PeerTransport } from "../../core/server/member.ts";

interface RaftInternals {
  maxMsgSize: number;
  unsafeCommitOldTerms: boolean;
}

interface MemberInternals {
  raft: { status(): Status; raft: RaftInternals };
  raftStorage: MemoryStorage;
  appliedIndex: number;
  snapshotIndex: number;
  transport: PeerTransport;
}

function internals(m: Member): MemberInternals {
  return m as unknown as MemberInternals;
}

/** Raft's view of itself: term and vote, role and leader, commit and applied. */
export function raftStatus(m: Member): Status {
  return internals(m).raft.status();
}

/** The index of the last entry the member applied to its store. */
export function appliedIndex(m: Member): number {
  return internals(m).appliedIndex;
}

/** The member's stable Raft log: first and last index held (first > last when empty). */
export function logBounds(m: Member): { first: number; last: number } {
  const s = internals(m).raftStorage;
  return { first: s.firstIndex(), last: s.lastIndex() };
}

/** Entries [lo, hi] of the member's stable log (clamped to what it holds). */
export function logEntries(m: Member, lo: number, hi: number): Entry[] {
  const s = internals(m).raftStorage;
  const first = Math.max(lo, s.firstIndex());
  const last = Math.min(hi, s.lastIndex());
  if (last < first) return [];
  return s.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
}

/**
 * Calls `cb` with every event the store records, in order (its watcher hub's notify and add:
 * writes, expiries, refreshes), as the member applies them.
 */
export function observeStoreEvents(store: Store, cb: (e: StoreEvent, refresh: boolean) => void): void {
  const hub = (store as unknown as { hub: { notify(e: StoreEvent): void; add(e: StoreEvent): void } }).hub;
  const notify = hub.notify.bind(hub);
  const add = hub.add.bind(hub);
  hub.notify = (e) => {
    cb(e, false);
    notify(e);
  };
  hub.add = (e) => {
    cb(e, true);
    add(e);
  };
}

/** The test-only Raft switches the simulator uses (see RaftConfig). */
export type RaftOverrides = Pick<Partial<RaftConfig>, "unsafeCommitOldTerms" | "maxSizePerMsg">;

/** Whether the member's Raft runs with these switches. */
export function raftOverridesActive(m: Member, o: RaftOverrides): boolean {
  const r = internals(m).raft.raft;
  return (o.unsafeCommitOldTerms === undefined || r.unsafeCommitOldTerms === o.unsafeCommitOldTerms) &&
    (o.maxSizePerMsg === undefined || r.maxMsgSize === o.maxSizePerMsg);
}

/** The transport the member uses. */
export function memberTransport(m: Member): PeerTransport {
  return internals(m).transport;
}
