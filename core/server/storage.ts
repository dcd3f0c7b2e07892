// A member's durable state: the WAL and the snapshots in its data dir, and the Raft log
// storage (in memory) rebuilt from them on start.
import { decode, encode } from "@msgpack/msgpack";
import type { Config } from "../config.ts";
import { mkdirDurable } from "../fs/dirs.ts";
import { bootstrapEntries } from "../raft/bootstrap.ts";
import { decodeConfChange, encodeConfChange } from "../raft/conf-change.ts";
import { MemoryStorage } from "../raft/storage.ts";
import type { ConfState, Entry, Snapshot } from "../raft/types.ts";
import type { Runtime } from "../runtime.ts";
import { Store } from "../store/store.ts";
import type { StoreSnapshot } from "../store/snapshot.ts";
import { Snapshotter } from "../wal/snapshotter.ts";
import { Wal } from "../wal/wal.ts";
import type { Identity, Peer } from "./bootstrap.ts";
import { readMembers } from "./membership.ts";

interface WalMetadata {
  memberId: string;
  clusterId: string;
}

/** What a snapshot file holds: the v2 store and the voters at that index. */
export interface SnapshotPayload {
  store: StoreSnapshot;
  confState: ConfState;
}

export function encodeSnapshot(p: SnapshotPayload): Uint8Array {
  return encode(p);
}

export function decodeSnapshot(data: Uint8Array): SnapshotPayload {
  return decode(data) as SnapshotPayload;
}

/** Peer URLs travel in a conf change's context. */
export function encodeConfContext(ctx: { id: string; peerURLs: string[] }): Uint8Array {
  return encode(ctx);
}

export function decodeConfContext(data: Uint8Array | undefined): { id: string; peerURLs: string[] } {
  if (!data || data.length === 0) return { id: "", peerURLs: [] };
  return decode(data) as { id: string; peerURLs: string[] };
}

export interface OpenedData {
  wal: Wal;
  snapshotter: Snapshotter;
  raftStorage: MemoryStorage;
  store: Store;
  memberId: string;
  clusterId: string;
  /** Index and term of the snapshot the member starts from (0, 0 without one). */
  snapshotIndex: number;
  snapshotTerm: number;
  confState: ConfState;
  /** Set when the data dir was empty and the member was bootstrapped now. */
  identity: Identity | null;
  /** Entries read back from the WAL (0 for a new member). */
  recoveredEntries: number;
}

export function dataDirs(cfg: Config): { walDir: string; snapDir: string } {
  const memberDir = `${cfg.dataDir}/member`;
  return { walDir: cfg.walDir !== "" ? cfg.walDir : `${memberDir}/wal`, snapDir: `${memberDir}/snap` };
}

export async function hasData(rt: Runtime, cfg: Config): Promise<boolean> {
  return Wal.exists(rt.fs, dataDirs(cfg).walDir);
}

/** Opens an existing data dir: newest snapshot, then the WAL after it. */
export async function openExisting(rt: Runtime, cfg: Config): Promise<OpenedData> {
  const { walDir, snapDir } = dataDirs(cfg);
  await mkdirDurable(rt.fs, snapDir);
  const snapshotter = new Snapshotter(rt.fs, snapDir, rt.log);
  const raftStorage = new MemoryStorage();
  const snap = await snapshotter.loadNewest();
  let store = new Store();
  let confState: ConfState = { voters: [] };
  if (snap) {
    const payload = decodeSnapshot(snap.data);
    store = Store.restore(payload.store);
    confState = payload.confState;
    raftStorage.applySnapshot({ data: snap.data, metadata: { index: snap.index, term: snap.term, confState } } satisfies Snapshot);
    rt.log.info(`etcdserver: recovered store from snapshot at index ${snap.index}`);
  }
  const ref = snap ? { index: snap.index, term: snap.term } : { index: 0, term: 0 };
  const opened = await Wal.open(rt.fs, walDir, ref, rt.log);
  const meta = decode(opened.metadata) as WalMetadata;
  raftStorage.append(opened.entries);
  // A snapshot holds only committed entries: the commit index is at least its index, even if
  // the last hard state written before a crash says less.
  if (opened.hardState) raftStorage.setHardState({ ...opened.hardState, commit: Math.max(opened.hardState.commit, ref.index) });
  rt.log.info(`etcdserver: recovered ${opened.entries.length} entries from the WAL (member ${meta.memberId}, cluster ${meta.clusterId})`);
  return {
    wal: opened.wal, snapshotter, raftStorage, store, memberId: meta.memberId, clusterId: meta.clusterId,
    snapshotIndex: ref.index, snapshotTerm: ref.term, confState, identity: null, recoveredEntries: opened.entries.length,
  };
}

/**
 * Creates the data dir of a new member. A member of a new cluster starts its log with the
 * bootstrap configuration (one conf entry per initial member, term 1, committed); a member
 * joining a running cluster starts empty and receives the log from the leader.
 */
export async function createNew(rt: Runtime, cfg: Config, identity: Identity): Promise<OpenedData> {
  const { walDir, snapDir } = dataDirs(cfg);
  await mkdirDurable(rt.fs, snapDir);
  const snapshotter = new Snapshotter(rt.fs, snapDir, rt.log);
  const wal = await Wal.create(rt.fs, walDir, encode({ memberId: identity.memberId, clusterId: identity.clusterId } satisfies WalMetadata));
  const raftStorage = new MemoryStorage();
  if (!identity.joining) {
    const contexts = new Map(identity.peers.map((p: Peer) => [p.id, encodeConfContext({ id: "", peerURLs: p.peerURLs })]));
    const entries = bootstrapEntries(identity.peers.map((p) => p.id), contexts);
    const hardState = { term: 1, vote: "", commit: entries.length };
    await wal.save(hardState, entries);
    raftStorage.append(entries);
    raftStorage.setHardState(hardState);
  }
  return {
    wal, snapshotter, raftStorage, store: new Store(), memberId: identity.memberId, clusterId: identity.clusterId,
    snapshotIndex: 0, snapshotTerm: 0, confState: { voters: [] }, identity, recoveredEntries: 0,
  };
}

/**
 * --force-new-cluster: drop the uncommitted tail of the log and commit, locally, the removal
 * of every other member, so that this member alone forms the cluster with all its data.
 * Unsafe by design (disaster recovery), as in etcd.
 */
export async function forceNewCluster(rt: Runtime, data: OpenedData): Promise<number> {
  const storage = data.raftStorage;
  const saved = storage.initialState().hardState;
  // A snapshot holds applied, hence committed, entries: the commit index is at least its index
  // (a saved commit below it would make term(commit) fail with "unavailable due to compaction").
  const hs = { ...saved, commit: Math.max(saved.commit, data.snapshotIndex) };
  const first = storage.firstIndex();
  const committed: Entry[] = hs.commit >= first ? storage.entries(first, hs.commit + 1, Number.MAX_SAFE_INTEGER) : [];
  const members = new Set([...readMembers(data.store).map((m) => m.id), ...data.confState.voters]);
  for (const e of committed) {
    if (e.type !== "conf") continue;
    const cc = decodeConfChange(e.data);
    if (cc.type === "addNode") members.add(cc.nodeId);
    if (cc.type === "removeNode") members.delete(cc.nodeId);
  }
  const others = [...members].filter((id) => id !== data.memberId);
  const lastTerm = hs.commit > 0 ? storage.term(hs.commit) : 1;
  const removals: Entry[] = others.map((id, i) => ({
    index: hs.commit + 1 + i,
    term: lastTerm,
    type: "conf",
    data: encodeConfChange({ type: "removeNode", nodeId: id, context: encodeConfContext({ id: "", peerURLs: [] }) }),
  }));
  const hardState = { term: hs.term, vote: hs.vote, commit: hs.commit + removals.length };
  await data.wal.save(hardState, removals);
  if (removals.length > 0) storage.append(removals);
  storage.setHardState(hardState);
  rt.log.warn(`etcdserver: forcing restart as a one-member cluster: removing ${others.length} other member(s)`);
  return removals.length;
}
