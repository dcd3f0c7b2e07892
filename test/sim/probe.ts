// What the simulator reads from inside a running member, all in one place: Raft's own status
// (term, role, commit), the applied index and the applied entries, and the store's event
// stream. These are private fields of core/server/member.ts read through a cast (test code
// only, read-only), so that a change in the member shows up here and nowhere else.
//
// Also here, until the Member seam lands (`new Member(rt, cfg, data, { transport, raft })`):
// installing a SimTransport in place of the HTTP Transport the member built, and setting the
// test-only Raft switches on the member's Raft instance.
import type { Member } from "../../core/server/member.ts";
import type { MemoryStorage } from "../../core/raft/storage.ts";
import type { Entry, Message, RaftConfig, Status } from "../../core/raft/types.ts";
import type { StoreEvent } from "../../core/store/types.ts";
import type { Store } from "../../core/store/store.ts";
import type { TransportOptions } from "../../core/transport/transport.ts";
import type { PeerTransport } from "./sim-transport.ts";

interface RaftInternals {
  maxMsgSize: number;
  unsafeCommitOldTerms: boolean;
}

interface MemberInternals {
  raft: { status(): Status; raft: RaftInternals };
  raftStorage: MemoryStorage;
  appliedIndex: number;
  snapshotIndex: number;
  removed: Set<string>;
  transport: PeerTransport;
  knownPeers: Set<string>;
  receive(m: Message): void;
  kick(): void;
  removedSelf(): void;
  soft: { state: string; lead: string };
  leaderStatsTracker: { failed(id: string): void };
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

/** Sets them on a constructed member's Raft instance (when the seam did not pass them). */
export function applyRaftOverrides(m: Member, o: RaftOverrides): void {
  const r = internals(m).raft.raft;
  if (o.unsafeCommitOldTerms !== undefined) r.unsafeCommitOldTerms = o.unsafeCommitOldTerms;
  if (o.maxSizePerMsg !== undefined) r.maxMsgSize = o.maxSizePerMsg;
}

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

/**
 * Without the seam: the member built an HTTP Transport in its constructor (it cannot reach
 * anyone: SimRuntime.fetch fails). Build the TransportOptions the member would have passed,
 * stop that transport, and put the one `make` builds in its place, with the peers it knew.
 */
export function replaceTransport(m: Member, rt: TransportOptions["rt"], make: (opts: TransportOptions) => PeerTransport): PeerTransport {
  const mi = internals(m);
  const old = mi.transport;
  const opts: TransportOptions = {
    rt,
    memberId: m.memberId,
    clusterId: m.clusterId,
    receive: (msg) => mi.receive(msg),
    isRemoved: (id) => mi.removed.has(id),
    onUnreachable: (id) => {
      (mi.raft as unknown as { reportUnreachable(id: string): void }).reportUnreachable(id);
      if (mi.soft.state === "StateLeader") mi.leaderStatsTracker.failed(id);
    },
    onSnapshotStatus: (id, ok) => {
      (mi.raft as unknown as { reportSnapshot(id: string, ok: boolean): void }).reportSnapshot(id, ok);
      mi.kick();
    },
    onRemovedSelf: () => mi.removedSelf(),
  };
  const next = make(opts);
  void old.stop();
  mi.transport = next;
  for (const id of mi.knownPeers) next.addPeer(id, []);
  return next;
}
