// One member: recovers or bootstraps its data, turns proposals into log entries (persisted
// with one fsync per batch, then applied in order), answers the HTTP layer (MemberApi),
// drives TTL expiry with sync entries, and snapshots every --snapshot-count entries.
//
// Until the Raft module lands, the log is a one-voter log: this member is the leader of its
// own term, and an entry is committed as soon as it is durable. The apply side is already
// what Raft will feed: deterministic application of committed entries in index order.
import { decode, encode } from "@msgpack/msgpack";
import type { Config } from "../config.ts";
import { EtcdError, ErrorCode } from "../errors.ts";
import { mkdirDurable } from "../fs/dirs.ts";
import type { MemberApi, MemberChangeError, MemberInfo, SelfStats } from "../http/api.ts";
import type { Runtime } from "../runtime.ts";
import { Store } from "../store/store.ts";
import type { StoreCommand, StoreEvent } from "../store/types.ts";
import { Snapshotter } from "../wal/snapshotter.ts";
import type { Entry } from "../wal/types.ts";
import { Wal } from "../wal/wal.ts";
import { goDuration, rfc3339Nano } from "./go-format.ts";
import { clusterId as deriveClusterId, memberId as deriveMemberId } from "./ids.ts";
import {
  confCommands,
  publishCommand,
  readClusterVersion,
  readMembers,
  readRemoved,
  versionCommand,
} from "./membership.ts";
import { type ConfChange, type LogRecord, decodeRecord, encodeRecord } from "./records.ts";

export const CLUSTER_VERSION = "3.4.0";
/** How often the leader proposes a TTL sync while TTL keys exist (etcd's SyncTicker). */
const SYNC_INTERVAL_MS = 500;

interface WalMetadata {
  memberId: string;
  clusterId: string;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Proposal {
  entry: Omit<Entry, "index" | "term">;
  id: number;
}

export class Member implements MemberApi {
  readonly store: Store;
  readonly name: string;
  readonly memberId: string;
  readonly clusterId: string;

  private term: number;
  private lastIndex: number;
  private appliedIndex: number;
  private snapshotIndex: number;
  private snapshotTerm: number;

  private nextRequestId = 1;
  private readonly waiters = new Map<number, (o: Outcome) => void>();
  private queue: Proposal[] = [];
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;
  private stopped = false;
  private cancelSync: (() => void) | null = null;
  private readonly startTime: number;
  private leaderSince: number;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;
  /** Settles when the member stops by itself (removed, or a fatal storage error). */
  readonly done: Promise<void>;

  private constructor(
    private readonly rt: Runtime,
    private readonly cfg: Config,
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    init: { store: Store; memberId: string; clusterId: string; term: number; lastIndex: number; snapshotIndex: number; snapshotTerm: number },
  ) {
    this.name = cfg.name;
    this.store = init.store;
    this.memberId = init.memberId;
    this.clusterId = init.clusterId;
    this.term = init.term;
    this.lastIndex = init.lastIndex;
    this.appliedIndex = init.snapshotIndex;
    this.snapshotIndex = init.snapshotIndex;
    this.snapshotTerm = init.snapshotTerm;
    this.startTime = rt.now();
    this.leaderSince = this.startTime;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  }

  /** Opens (or creates) the data dir, replays the log, and starts serving proposals. */
  static async open(rt: Runtime, cfg: Config): Promise<Member> {
    const fs = rt.fs;
    const memberDir = `${cfg.dataDir}/member`;
    const walDir = cfg.walDir !== "" ? cfg.walDir : `${memberDir}/wal`;
    const snapDir = `${memberDir}/snap`;
    // Durably: a directory entry that was never synced is gone after power loss, and with
    // it every acknowledged write in the WAL below it.
    await mkdirDurable(fs, snapDir);
    const snapshotter = new Snapshotter(fs, snapDir, rt.log);

    let member: Member;
    if (await Wal.exists(fs, walDir)) {
      const snap = await snapshotter.loadNewest();
      const store = snap ? Store.restore((decode(snap.data) as { store: never }).store) : new Store();
      if (snap) rt.log.info(`etcdserver: recovered store from snapshot at index ${snap.index}`);
      const ref = snap ? { index: snap.index, term: snap.term } : { index: 0, term: 0 };
      const opened = await Wal.open(fs, walDir, ref, rt.log);
      const meta = decode(opened.metadata) as WalMetadata;
      const term = Math.max(opened.hardState?.term ?? 1, ref.term) + 1;
      const lastIndex = opened.entries.at(-1)?.index ?? ref.index;
      member = new Member(rt, cfg, opened.wal, snapshotter, {
        store, memberId: meta.memberId, clusterId: meta.clusterId, term, lastIndex,
        snapshotIndex: ref.index, snapshotTerm: ref.term,
      });
      for (const e of opened.entries) member.applyEntry(e);
      rt.log.info(`etcdserver: recovered ${opened.entries.length} entries from the WAL (applied index ${member.appliedIndex}, term ${term})`);
      // Like a Raft leader (and etcd), start the new term with an empty entry; saving it
      // also persists the new term.
      await member.appendAndApply([{ type: "normal", data: new Uint8Array(0) }]);
      if (cfg.forceNewCluster) await member.forceNewCluster();
    } else {
      const { memberId, clusterId, peers } = await bootstrapIdentity(cfg);
      const wal = await Wal.create(fs, walDir, encode({ memberId, clusterId } satisfies WalMetadata));
      member = new Member(rt, cfg, wal, snapshotter, {
        store: new Store(), memberId, clusterId, term: 1, lastIndex: 0, snapshotIndex: 0, snapshotTerm: 0,
      });
      rt.log.info(`etcdserver: starting a new cluster ${clusterId} as member ${memberId} (${cfg.name})`);
      // The bootstrap configuration is the first term's log, then the leader's empty entry.
      const confEntries = peers.map((p) => ({
        type: "conf" as const,
        data: encodeRecord({ k: "conf", id: 0, change: { op: "add", memberId: p.id, peerURLs: p.peerURLs } }),
      }));
      await member.appendAndApply(confEntries);
      member.term = 2;
      await member.appendAndApply([{ type: "normal", data: new Uint8Array(0) }]);
    }
    member.startSyncTicker();
    return member;
  }

  /** Steps done once the log is up: publish name and client URLs, settle the cluster version. */
  async publish(): Promise<void> {
    await this.propose(publishCommand(this.memberId, this.name, this.cfg.advertiseClientUrls));
    if (readClusterVersion(this.store) !== CLUSTER_VERSION) await this.propose(versionCommand(CLUSTER_VERSION));
  }

  /**
   * --force-new-cluster: keep the data, drop every other member from the configuration, so
   * this member alone forms the cluster (disaster recovery).
   */
  private async forceNewCluster(): Promise<void> {
    const others = this.members().filter((m) => m.id !== this.memberId);
    for (const m of others) {
      await this.appendAndApply([{ type: "conf", data: encodeRecord({ k: "conf", id: 0, change: { op: "remove", memberId: m.id } }) }]);
    }
    this.rt.log.warn(`etcdserver: forcing a new one-member cluster; removed ${others.length} other member(s) from the configuration`);
  }

  // ---- MemberApi ----

  raftIndex(): number {
    return this.appliedIndex;
  }

  raftTerm(): number {
    return this.term;
  }

  now(): number {
    return this.rt.now();
  }

  members(): MemberInfo[] {
    return readMembers(this.store);
  }

  leaderId(): string {
    return this.stopped ? "" : this.memberId;
  }

  clusterVersion(): string {
    return readClusterVersion(this.store) ?? "not_decided";
  }

  selfStats(): SelfStats {
    const now = this.rt.now();
    return {
      name: this.name,
      id: this.memberId,
      state: "StateLeader",
      startTime: rfc3339Nano(this.startTime),
      leaderInfo: { leader: this.memberId, uptime: goDuration(now - this.leaderSince), startTime: rfc3339Nano(this.leaderSince) },
      recvAppendRequestCnt: 0,
      sendAppendRequestCnt: 0,
    };
  }

  leaderStats(): object {
    return { leader: this.memberId, followers: {} };
  }

  async health(): Promise<boolean> {
    if (this.failure || this.stopped) return false;
    try {
      await this.proposeRecord({ k: "store", id: 0, cmd: { op: "get", path: "/", recursive: false, sorted: false } }, 1000);
      return true;
    } catch {
      return false;
    }
  }

  propose(cmd: StoreCommand): Promise<StoreEvent> {
    return this.proposeRecord({ k: "store", id: 0, cmd }, this.requestTimeout()) as Promise<StoreEvent>;
  }

  async addMember(peerURLs: string[]): Promise<MemberInfo | MemberChangeError> {
    const id = await deriveMemberId(peerURLs, "", Math.floor(this.rt.now() / 1000));
    const change: ConfChange = { op: "add", memberId: id, peerURLs };
    const invalid = this.validateConfChange(change);
    if (invalid) return invalid;
    await this.proposeConf(change);
    return { id, name: "", peerURLs, clientURLs: [] };
  }

  async removeMember(id: string): Promise<MemberChangeError | null> {
    const change: ConfChange = { op: "remove", memberId: id };
    const invalid = this.validateConfChange(change);
    if (invalid) return invalid;
    await this.proposeConf(change);
    return null;
  }

  async updateMember(id: string, peerURLs: string[]): Promise<MemberChangeError | null> {
    const change: ConfChange = { op: "update", memberId: id, peerURLs };
    const invalid = this.validateConfChange(change);
    if (invalid) return invalid;
    await this.proposeConf(change);
    return null;
  }

  /** etcd's ValidateConfigurationChange, reading membership from the store as etcd does. */
  private validateConfChange(c: ConfChange): MemberChangeError | null {
    const members = readMembers(this.store, true);
    const removed = readRemoved(this.store, true);
    if (removed.has(c.memberId)) return c.op === "add" ? { kind: "exists", message: "membership: ID exists" } : { kind: "removed", id: c.memberId };
    const exists = members.some((m) => m.id === c.memberId);
    if (c.op === "add" && exists) return { kind: "exists", message: "membership: ID exists" };
    if (c.op !== "add" && !exists) return { kind: "notFound", id: c.memberId };
    if (c.peerURLs) {
      const taken = new Set(members.filter((m) => m.id !== c.memberId).flatMap((m) => m.peerURLs));
      if (c.peerURLs.some((u) => taken.has(u))) return { kind: "exists", message: "membership: peerURL exists" };
    }
    return null;
  }

  /** Graceful stop: no new proposals, finish the batch in flight, close the WAL. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelSync?.();
    await this.flushing;
    this.failAll(new EtcdError(ErrorCode.RaftInternal, "etcdserver: server stopped"));
    await this.wal.close();
    this.rt.log.info("etcdserver: stopped");
  }

  // ---- proposals: batch, persist, apply ----

  private requestTimeout(): number {
    return 5000 + 2 * this.cfg.electionTimeout;
  }

  private proposeConf(change: ConfChange): Promise<unknown> {
    return this.proposeRecord({ k: "conf", id: 0, change }, this.requestTimeout());
  }

  private proposeRecord(record: LogRecord, timeoutMs: number): Promise<unknown> {
    if (this.failure) return Promise.reject(new EtcdError(ErrorCode.RaftInternal, `etcdserver: ${this.failure.message}`));
    if (this.stopped) return Promise.reject(new EtcdError(ErrorCode.RaftInternal, "etcdserver: server stopped"));
    const id = this.nextRequestId++;
    record.id = id;
    return new Promise<unknown>((resolve, reject) => {
      const cancelTimer = this.rt.setTimer(timeoutMs, () => {
        if (this.waiters.delete(id)) reject(new EtcdError(ErrorCode.RaftInternal, "etcdserver: request timed out"));
      });
      this.waiters.set(id, (o) => {
        cancelTimer();
        if (o.ok) resolve(o.value);
        else reject(o.error);
      });
      this.queue.push({ id, entry: { type: record.k === "conf" ? "conf" : "normal", data: encodeRecord(record) } });
      this.kick();
    });
  }

  /** Starts a flush unless one is running; proposals arriving meanwhile ride in the next batch. */
  private kick(): void {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
      if (!this.failure && !this.stopped) this.kick();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 && !this.failure) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.appendAndApply(batch.map((p) => p.entry));
      } catch (e) {
        this.fail(e as Error, batch);
        return;
      }
    }
  }

  /** Persists entries (one fsync), then applies them in order and answers their waiters. */
  private async appendAndApply(entries: Omit<Entry, "index" | "term">[]): Promise<void> {
    const numbered: Entry[] = entries.map((e) => ({ ...e, index: ++this.lastIndex, term: this.term }));
    const commit = this.lastIndex;
    await this.wal.save({ term: this.term, vote: this.memberId, commit }, numbered);
    for (const e of numbered) this.applyEntry(e);
    if (this.appliedIndex - this.snapshotIndex >= this.cfg.snapshotCount) await this.takeSnapshot();
  }

  /** Deterministic: the same entries give the same store on every member and every replay. */
  private applyEntry(e: Entry): void {
    if (e.index <= this.appliedIndex) return;
    this.appliedIndex = e.index;
    const record = decodeRecord(e.data);
    if (record === null) return;
    let outcome: Outcome;
    if (record.k === "store") {
      try {
        outcome = { ok: true, value: this.store.apply(record.cmd) };
      } catch (err) {
        if (!(err instanceof EtcdError)) throw err;
        outcome = { ok: false, error: err };
      }
    } else {
      for (const cmd of confCommands(record.change)) {
        try {
          this.store.apply(cmd);
        } catch (err) {
          if (!(err instanceof EtcdError)) throw err;
        }
      }
      outcome = { ok: true, value: null };
      if (record.change.op === "remove" && record.change.memberId === this.memberId) this.removedSelf();
    }
    const waiter = this.waiters.get(record.id);
    if (waiter) {
      this.waiters.delete(record.id);
      waiter(outcome);
    }
  }

  private async takeSnapshot(): Promise<void> {
    const index = this.appliedIndex;
    const term = this.term;
    const data = encode({ store: this.store.save() });
    // Marker first: a snapshot file is only trusted when the WAL knows about it.
    await this.wal.saveSnapshot({ index, term });
    await this.snapshotter.save({ index, term, data });
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    await this.wal.release(index);
    if (this.cfg.maxSnapshots > 0) await this.snapshotter.purge(this.cfg.maxSnapshots);
    this.rt.log.info(`etcdserver: saved snapshot at index ${index} (${data.length} bytes)`);
  }

  private startSyncTicker(): void {
    const tick = (): void => {
      if (this.stopped || this.failure) return;
      if (this.store.hasTTL()) {
        this.proposeRecord({ k: "store", id: 0, cmd: { op: "sync", time: this.rt.now() } }, this.requestTimeout()).catch(() => {});
      }
      this.cancelSync = this.rt.setTimer(SYNC_INTERVAL_MS, tick);
    };
    this.cancelSync = this.rt.setTimer(SYNC_INTERVAL_MS, tick);
  }

  private removedSelf(): void {
    this.rt.log.warn("etcdserver: this member has been permanently removed from the cluster; shutting down");
    queueMicrotask(() => void this.stop().then(() => this.resolveDone()));
  }

  private failAll(error: unknown): void {
    for (const waiter of this.waiters.values()) waiter({ ok: false, error });
    this.waiters.clear();
  }

  /** A storage failure: nothing in the batch was acknowledged; stop taking writes and stop the member. */
  private fail(e: Error, batch: Proposal[]): void {
    this.failure = e;
    this.rt.log.error(`etcdserver: failed to persist entries, stopping: ${e.message}`);
    const error = new EtcdError(ErrorCode.RaftInternal, `etcdserver: ${e.message}`);
    for (const p of batch) this.waiters.get(p.id)?.({ ok: false, error });
    this.failAll(error);
    this.rejectDone(e);
  }
}

/** IDs and the initial member list from --initial-cluster and --initial-cluster-token. */
async function bootstrapIdentity(cfg: Config): Promise<{ memberId: string; clusterId: string; peers: { id: string; peerURLs: string[] }[] }> {
  if (cfg.discovery !== "" || cfg.discoverySrv !== "") {
    throw new Error("bootstrap by --discovery or --discovery-srv needs the Raft cluster support, which is not built yet");
  }
  if (cfg.initialClusterState === "existing") {
    throw new Error("joining an existing cluster (--initial-cluster-state existing) needs the Raft cluster support, which is not built yet");
  }
  const byName = new Map<string, string[]>();
  for (const { name, url } of cfg.initialCluster) byName.set(name, [...(byName.get(name) ?? []), url]);
  if (!byName.has(cfg.name)) {
    throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  }
  if (byName.size > 1) {
    throw new Error("clusters of more than one member need the Raft module, which is not built yet");
  }
  const peers = await Promise.all(
    [...byName.values()].map(async (urls) => ({ id: await deriveMemberId(urls, cfg.initialClusterToken), peerURLs: [...urls].sort() })),
  );
  const self = await deriveMemberId(byName.get(cfg.name)!, cfg.initialClusterToken);
  return { memberId: self, clusterId: await deriveClusterId(peers.map((p) => p.id)), peers };
}
