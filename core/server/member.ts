// One member of a cluster: a Raft node whose committed log is applied to the v2 store.
//
// The loop: ticks and peer messages go into Raft; each Ready is handled in order —
// persist entries and hard state (one WAL fsync per batch), send messages, apply committed
// entries, answer the requests waiting for them — then advanced. Proposals that arrive while
// a Ready is being persisted ride in the next one. Linearizable reads use ReadIndex.
import { EtcdError, ErrorCode } from "../errors.ts";
import type { MemberApi, MemberChangeError, MemberInfo, SelfStats } from "../http/api.ts";
import { coalesceMessages } from "../raft/coalesce.ts";
import { decodeConfChange } from "../raft/conf-change.ts";
import { ProposalDroppedError, RawNode } from "../raft/raw-node.ts";
import type { MemoryStorage } from "../raft/storage.ts";
import type { ConfChange as RaftConfChange, ConfState, Entry, Message, RaftConfig, Ready, SoftState } from "../raft/types.ts";
import type { Config } from "../config.ts";
import type { Runtime } from "../runtime.ts";
import type { Store } from "../store/store.ts";
import type { StoreCommand, StoreEvent } from "../store/types.ts";
import { Transport, type TransportOptions } from "../transport/transport.ts";
import type { Snapshotter } from "../wal/snapshotter.ts";
import type { Wal } from "../wal/wal.ts";
import { goDuration, rfc3339Nano } from "./go-format.ts";
import { memberId as deriveMemberId } from "./ids.ts";
import { LeaderStats } from "./leader-stats.ts";
import { LinearizableReads } from "./linearizable-reads.ts";
import {
  confCommands,
  publishCommand,
  readClusterVersion,
  readMembers,
  readRemoved,
  versionCommand,
} from "./membership.ts";
import { Deadlines } from "./deadlines.ts";
import { type ConfChange, type LogRecord, decodeRecord, encodeRecord } from "./records.ts";
import { openMemberData } from "./open.ts";
import { type OpenedData, decodeConfContext, decodeSnapshot, encodeConfContext, encodeSnapshot } from "./storage.ts";
import { type Outcome, Waiters } from "./waiters.ts";

export const CLUSTER_VERSION = "3.4.0";
/** How often the leader proposes a TTL sync while TTL keys exist (etcd's SyncTicker). */
const SYNC_INTERVAL_MS = 500;
/** How long a removed member keeps running so that its last messages reach the others. */
const REMOVAL_LINGER_MS = 1000;
/** Most entry data in one append message (etcd's 1 MiB). */
const MAX_SIZE_PER_MSG = 1024 * 1024;

/** Entries kept in the Raft log after a snapshot, for followers a little behind. */
const SNAPSHOT_CATCH_UP_ENTRIES = 5000;

/** Whether a Ready may overlap others (readyLoop): no role change, no snapshot to install. */
function isSimple(rd: Ready): boolean {
  return rd.softState === undefined && !(rd.snapshot && rd.snapshot.metadata.index > 0);
}

/** A leader's messages that may leave before its own log write is durable (persist). */
const SEND_BEFORE_PERSIST = new Set<Message["type"]>(["MsgApp", "MsgHeartbeat", "MsgSnap"]);

/** The peer transport as the member uses it (the HTTP one, or a simulated network). */
export type PeerTransport = Pick<Transport, "addPeer" | "updatePeer" | "removePeer" | "send" | "handle" | "isActive" | "stop">;

export interface MemberOptions {
  /** Replaces the HTTP peer transport (the simulator's in-memory network). */
  transport?: (opts: TransportOptions) => PeerTransport;
  /** Raft settings beyond what the configuration gives (test-only switches such as unsafeCommitOldTerms). */
  raft?: Partial<RaftConfig>;
}

interface PendingProposal {
  id: string;
  data: Uint8Array | null;
  conf: RaftConfChange | null;
}

export class Member implements MemberApi {
  readonly store: Store;
  readonly name: string;
  readonly memberId: string;
  readonly clusterId: string;
  readonly transport: PeerTransport;
  readonly log: { warn(msg: string): void };

  private readonly raft: RawNode;
  private readonly raftStorage: MemoryStorage;
  private readonly wal: Wal;
  private readonly snapshotter: Snapshotter;
  private readonly waiters: Waiters;
  /** Request timeouts (proposals, linearizable reads) on shared timers. */
  private readonly deadlines: Deadlines;
  /** Records proposed here, by their encoded bytes, so applying them needs no decoding. */
  private readonly proposed = new WeakMap<Uint8Array, LogRecord>();
  private readonly reads: LinearizableReads;
  private readonly leaderStatsTracker: LeaderStats;

  private soft: SoftState = { lead: "", state: "StateFollower" };
  private term = 0;
  private commitIndex = 0;
  private appliedIndex: number;
  private snapshotIndex: number;
  private confState: ConfState;
  private removed = new Set<string>();
  private readonly knownPeers = new Set<string>();
  private readonly bootstrapPeers: string[];

  private processing: Promise<void> | null = null;
  private looping = false;
  private removing = false;
  /** Linearizable reads waiting for their read index to be applied (see linearizableRead). */
  private readonly waitingReads = new Set<(error: EtcdError | null) => void>();
  /** Proposals waiting for a leader (see submit). */
  private held: PendingProposal[] = [];
  /** Data proposals made while the Ready loop is busy: stepped together as one (flushProposals). */
  private batch: PendingProposal[] = [];
  private failure: Error | null = null;
  private stopped = false;
  private published = false;
  private readonly timers: Array<() => void> = [];
  private readonly startTime: number;
  private leaderSince: number;
  private recvAppend = 0;
  private sendAppend = 0;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;
  /** Settles when the member stops by itself (removed, or a fatal storage error). */
  readonly done: Promise<void>;

  constructor(private readonly rt: Runtime, private readonly cfg: Config, data: OpenedData, opts: MemberOptions = {}) {
    this.name = cfg.name;
    this.log = rt.log;
    this.store = data.store;
    this.memberId = data.memberId;
    this.clusterId = data.clusterId;
    this.wal = data.wal;
    this.snapshotter = data.snapshotter;
    this.raftStorage = data.raftStorage;
    this.appliedIndex = data.snapshotIndex;
    this.snapshotIndex = data.snapshotIndex;
    this.confState = data.confState;
    this.bootstrapPeers = data.identity && !data.identity.joining ? data.identity.peers.map((p) => p.id) : [];
    this.removed = readRemoved(this.store);
    this.startTime = rt.now();
    this.leaderSince = this.startTime;
    // Request IDs must differ between runs of this member too: entries an earlier run proposed
    // may still be applied after a restart, and must not settle this run's requests (found by
    // the simulation, seed 21237). As etcd's ID generator, the start time tells runs apart.
    this.waiters = new Waiters(`${this.memberId}.${this.startTime.toString(36)}`);
    this.deadlines = new Deadlines(rt);
    this.leaderStatsTracker = new LeaderStats(() => rt.monotonic());
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection

    this.raft = new RawNode({
      id: this.memberId,
      electionTick: Math.max(2, Math.round(cfg.electionTimeout / cfg.heartbeatInterval)),
      heartbeatTick: 1,
      storage: this.raftStorage,
      applied: data.snapshotIndex,
      maxSizePerMsg: MAX_SIZE_PER_MSG,
      maxInflightMsgs: 256,
      checkQuorum: true,
      preVote: cfg.preVote,
      random: () => rt.random(),
      logger: { debug: (m) => rt.log.debug(`raft: ${m}`), info: (m) => rt.log.info(`raft: ${m}`), warn: (m) => rt.log.warn(`raft: ${m}`) },
      ...opts.raft,
    });
    const hs = this.raftStorage.initialState().hardState;
    this.term = hs.term;
    this.commitIndex = hs.commit;

    this.reads = new LinearizableReads({
      readIndex: (ctx) => {
        this.raft.readIndex(ctx);
        this.kick();
      },
      appliedIndex: () => this.appliedIndex,
    });

    this.transport = (opts.transport ?? ((o: TransportOptions) => new Transport(o)))({
      rt,
      memberId: this.memberId,
      clusterId: this.clusterId,
      peerURLs: cfg.initialAdvertisePeerUrls,
      receive: (m) => this.receive(m),
      isRemoved: (id) => this.removed.has(id),
      onUnreachable: (id) => {
        this.raft.reportUnreachable(id);
        if (this.soft.state === "StateLeader") this.leaderStatsTracker.failed(id);
      },
      onSnapshotStatus: (id, ok) => {
        this.raft.reportSnapshot(id, ok);
        this.kick();
      },
      // A peer answered 410: this member was removed while it could not hear about it.
      onRemovedSelf: () => this.removedSelf(),
    });
    // Peers known now: from the snapshot's membership, and from a new member's bootstrap list.
    for (const m of readMembers(this.store)) this.addPeer(m.id, m.peerURLs);
    for (const p of data.identity?.peers ?? []) this.addPeer(p.id, p.peerURLs);
    for (const e of this.raftStorageEntries()) this.peerFromConfEntry(e);
  }

  /** Opens or bootstraps the data dir and starts the member (no listeners: tests, embedding). */
  static async open(rt: Runtime, cfg: Config): Promise<Member> {
    const member = new Member(rt, cfg, await openMemberData(rt, cfg));
    await member.start();
    return member;
  }

  /**
   * Starts ticking and processing. The committed log is replayed first; then a lone voter
   * campaigns at once instead of waiting out an election timeout.
   */
  async start(): Promise<void> {
    // A new cluster's voters are its bootstrap members from the start (as etcd's StartNode).
    for (const p of this.bootstrapPeers) this.confState = this.raft.applyConfChange({ type: "addNode", nodeId: p });
    this.kick();
    await this.processing;
    const tick = (): void => {
      if (this.stopped || this.failure) return;
      this.raft.tick();
      this.resubmitHeld();
      this.kick();
      this.timers[0] = this.rt.setTimer(this.cfg.heartbeatInterval, tick);
    };
    this.timers[0] = this.rt.setTimer(this.cfg.heartbeatInterval, tick);
    const sync = (): void => {
      if (this.stopped || this.failure) return;
      this.leaderDuties();
      this.timers[1] = this.rt.setTimer(SYNC_INTERVAL_MS, sync);
    };
    this.timers[1] = this.rt.setTimer(SYNC_INTERVAL_MS, sync);
    if (this.confState.voters.length === 1 && this.confState.voters[0] === this.memberId) this.raft.campaign();
    this.kick();
  }

  /**
   * Publishes this member's name and client URLs through the log (retried until it commits,
   * as etcd does), then reports ready.
   */
  async publish(): Promise<void> {
    for (;;) {
      if (this.stopped || this.failure) throw this.failure ?? new Error("member stopped before publishing");
      try {
        await this.propose(publishCommand(this.memberId, this.name, this.cfg.advertiseClientUrls));
        this.published = true;
        return;
      } catch (e) {
        if (!(e instanceof EtcdError) || e.errorCode !== ErrorCode.RaftInternal) throw e;
        this.rt.log.warn(`etcdserver: failed to publish local member to cluster through raft (${e.cause}); retrying`);
      }
    }
  }

  // ---- MemberApi ----

  raftIndex(): number {
    return this.commitIndex;
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
    return this.soft.lead;
  }

  clusterVersion(): string {
    return readClusterVersion(this.store) ?? "not_decided";
  }

  selfStats(): SelfStats {
    const now = this.rt.now();
    return {
      name: this.name,
      id: this.memberId,
      state: this.soft.state === "StateLeader" ? "StateLeader" : this.soft.state,
      startTime: rfc3339Nano(this.startTime),
      leaderInfo: { leader: this.soft.lead, uptime: goDuration(now - this.leaderSince), startTime: rfc3339Nano(this.leaderSince) },
      recvAppendRequestCnt: this.recvAppend,
      sendAppendRequestCnt: this.sendAppend,
    };
  }

  leaderStats(): object | null {
    if (this.soft.state !== "StateLeader") return null;
    const followers = this.members().map((m) => m.id).filter((id) => id !== this.memberId);
    return this.leaderStatsTracker.view(this.memberId, followers);
  }

  async health(): Promise<boolean> {
    if (this.failure || this.stopped || this.soft.lead === "") return false;
    try {
      await this.linearizableRead(1000);
      // etcd's health check is a quorum get of the root, which its store counts.
      this.store.get("/", false, false);
      return true;
    } catch {
      return false;
    }
  }

  propose(cmd: StoreCommand): Promise<StoreEvent> {
    if (cmd.op === "get") {
      // A quorum read: ReadIndex, then a local read once applied that far.
      return this.linearizableRead(this.requestTimeout()).then(() => this.store.get(cmd.path, cmd.recursive, cmd.sorted));
    }
    return this.proposeEntry((id) => ({ data: this.encodeOwn({ k: "store", id, cmd }), conf: null })) as Promise<StoreEvent>;
  }

  /**
   * Encodes a record proposed here and remembers it by its bytes, so that applying it skips
   * decoding. Only records that decode to an equal value: plain fields (strings, finite
   * numbers other than -0, booleans, null), nothing undefined.
   */
  private encodeOwn(record: LogRecord): Uint8Array {
    const data = encodeRecord(record);
    const cmd = record.cmd as unknown as Record<string, unknown>;
    for (const k in cmd) {
      const v = cmd[k];
      const t = typeof v;
      if (t === "string" || t === "boolean" || v === null) continue;
      if (t === "number" && Number.isFinite(v) && !Object.is(v, -0)) continue;
      return data;
    }
    this.proposed.set(data, record);
    return data;
  }

  async addMember(peerURLs: string[]): Promise<MemberInfo | MemberChangeError> {
    const id = await deriveMemberId(peerURLs, "", Math.floor(this.rt.now() / 1000));
    const change: ConfChange = { op: "add", memberId: id, peerURLs };
    const invalid = this.validateConfChange(change, true) ?? this.strictReconfigCheck(change);
    if (invalid) return invalid;
    await this.proposeConf(change);
    return { id, name: "", peerURLs, clientURLs: [] };
  }

  async removeMember(id: string): Promise<MemberChangeError | null> {
    const change: ConfChange = { op: "remove", memberId: id };
    const invalid = this.validateConfChange(change, true) ?? this.strictReconfigCheck(change);
    if (invalid) return invalid;
    await this.proposeConf(change);
    return null;
  }

  async updateMember(id: string, peerURLs: string[]): Promise<MemberChangeError | null> {
    const change: ConfChange = { op: "update", memberId: id, peerURLs };
    const invalid = this.validateConfChange(change, true);
    if (invalid) return invalid;
    await this.proposeConf(change);
    return null;
  }

  /** Graceful stop: no new proposals, finish the Ready in hand, close transport and WAL. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const cancel of this.timers) cancel?.();
    await this.processing;
    const stoppedError = new EtcdError(ErrorCode.RaftInternal, "etcdserver: server stopped");
    this.waiters.failAll(stoppedError);
    this.failReads(stoppedError);
    this.deadlines.clear();
    // Bounded: a peer connection that will not close must not keep a stopping member alive.
    await new Promise<void>((resolve) => {
      const cancel = this.rt.setTimer(2000, () => {
        this.rt.log.warn("rafthttp: peer connections did not close within 2 s; stopping anyway");
        resolve();
      });
      void this.transport.stop().finally(() => {
        cancel();
        resolve();
      });
    });
    await this.wal.close();
    this.rt.log.info("etcdserver: stopped");
  }

  /** Hand leadership to another member before a planned stop (best effort, bounded). */
  async transferLeadership(timeoutMs: number): Promise<void> {
    if (this.soft.state !== "StateLeader") return;
    const target = this.members().map((m) => m.id).find((id) => id !== this.memberId && this.transport.isActive(id));
    if (!target) return;
    this.raft.transferLeader(target);
    this.kick();
    const deadline = this.rt.monotonic() + timeoutMs;
    while (this.soft.lead === this.memberId && this.rt.monotonic() < deadline) {
      await new Promise<void>((r) => this.rt.setTimer(50, r));
    }
  }

  // ---- proposals ----

  private requestTimeout(): number {
    return 5000 + 2 * this.cfg.electionTimeout;
  }

  private timeoutError(): EtcdError {
    return new EtcdError(ErrorCode.RaftInternal, "etcdserver: request timed out");
  }

  private proposeConf(change: ConfChange): Promise<unknown> {
    return this.proposeEntry((id) => ({
      data: null,
      conf: {
        type: change.op === "add" ? "addNode" : change.op === "remove" ? "removeNode" : "updateNode",
        nodeId: change.memberId,
        context: encodeConfContext({ id, peerURLs: change.peerURLs ?? [] }),
      },
    }));
  }

  /**
   * Proposes an entry and waits for its application on this member. A proposal Raft drops
   * (no leader yet) is not an error by itself: like etcd, the request fails by timeout.
   */
  private proposeEntry(build: (id: string) => { data: Uint8Array | null; conf: RaftConfChange | null }): Promise<unknown> {
    if (this.failure) return Promise.reject(new EtcdError(ErrorCode.RaftInternal, `etcdserver: ${this.failure.message}`));
    if (this.stopped) return Promise.reject(new EtcdError(ErrorCode.RaftInternal, "etcdserver: server stopped"));
    const id = this.waiters.nextId();
    const { data, conf } = build(id);
    return new Promise<unknown>((resolve, reject) => {
      const cancelTimer = this.deadlines.add(this.requestTimeout(), () => {
        if (this.waiters.forget(id)) reject(this.timeoutError());
      });
      this.waiters.register(id, (o: Outcome) => {
        cancelTimer();
        if (o.ok) resolve(o.value);
        else reject(o.error);
      });
      this.submit({ id, data, conf });
    });
  }

  /**
   * Hands a proposal to Raft. Without a known leader (an election), or while Raft refuses it
   * (a leader transfer), it waits here and is retried, as etcd's proposals wait for a leader
   * rather than fail; the request's timeout still bounds it.
   */
  private submit(p: PendingProposal): void {
    if (this.soft.lead === "") {
      this.held.push(p);
      return;
    }
    // While a Ready is being persisted, proposals wait for the next one and go to Raft as one
    // batch: one append message per follower and one WAL write for all of them.
    if (this.looping && p.conf === null) {
      this.batch.push(p);
      return;
    }
    if (this.step([p])) this.kick();
  }

  /** Steps the proposals batched while the Ready loop was busy, as one Raft proposal. */
  private flushProposals(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    if (this.soft.lead === "") this.held.push(...batch);
    else this.step(batch);
  }

  /**
   * Hands proposals to Raft: a conf change alone, data ones as one proposal. If Raft drops
   * them (a leader transfer), they wait as held ones. Returns whether Raft took them.
   */
  private step(ps: PendingProposal[]): boolean {
    try {
      const conf = ps[0]!.conf;
      if (conf) this.raft.proposeConfChange(conf);
      else this.raft.proposeMany(ps.map((p) => p.data!));
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      this.held.push(...ps);
      return false;
    }
    return true;
  }

  /** Retries held proposals whose requests are still waiting. */
  private resubmitHeld(): void {
    if (this.held.length === 0 || this.soft.lead === "") return;
    const held = this.held;
    this.held = [];
    for (const p of held) if (this.waiters.isWaiting(p.id)) this.submit(p);
  }

  private linearizableRead(timeoutMs: number): Promise<void> {
    if (this.failure) return Promise.reject(new EtcdError(ErrorCode.RaftInternal, `etcdserver: ${this.failure.message}`));
    if (this.stopped) return Promise.reject(new EtcdError(ErrorCode.RaftInternal, "etcdserver: server stopped"));
    // A leader alone in the cluster: its commit index is the read index (Raft would answer the
    // same through the next Ready); once applied that far, the read can go at once.
    const local = this.raft.localReadIndex();
    if (local !== null && this.appliedIndex >= local) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error: EtcdError | null): void => {
        if (settled) return;
        settled = true;
        cancel();
        this.waitingReads.delete(finish);
        if (error) reject(error);
        else resolve();
      };
      const cancel = this.deadlines.add(timeoutMs, () => finish(this.timeoutError()));
      // A failure or stop ends the wait at once, as it does for waiting proposals.
      this.waitingReads.add(finish);
      this.reads.wait().then(() => finish(null));
    });
  }

  private failReads(error: EtcdError): void {
    for (const finish of [...this.waitingReads]) finish(error);
  }

  // ---- membership checks ----

  /** etcd's ValidateConfigurationChange, reading membership from the store as etcd does. */
  private validateConfChange(c: ConfChange, counted: boolean): MemberChangeError | null {
    const members = readMembers(this.store, counted);
    const removed = readRemoved(this.store, counted);
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

  /** --strict-reconfig-check: refuse changes that would leave the cluster without a working quorum. */
  private strictReconfigCheck(c: ConfChange): MemberChangeError | null {
    if (!this.cfg.strictReconfigCheck) return null;
    const members = this.members();
    if (c.op === "add") {
      const started = members.filter((m) => m.name !== "").length;
      const total = members.length + 1;
      if (started === 1 && total === 2) return null; // growing a one-member cluster
      if (started < Math.floor(total / 2) + 1) return { kind: "internal", message: "etcdserver: re-configuration failed due to not enough started members" };
    } else if (c.op === "remove") {
      const rest = members.filter((m) => m.id !== c.memberId);
      const active = rest.filter((m) => m.id === this.memberId || this.transport.isActive(m.id)).length;
      if (active < Math.floor(rest.length / 2) + 1) return { kind: "internal", message: "etcdserver: unhealthy cluster" };
    }
    return null;
  }

  // ---- Raft input ----

  private receive(m: Message): void {
    if (this.stopped || this.failure) return;
    if (m.type === "MsgApp") this.recvAppend++;
    if (m.type === "MsgHeartbeatResp") this.leaderStatsTracker.heartbeatAnswered(m.from);
    try {
      this.raft.step(m);
    } catch (e) {
      this.rt.log.warn(`raft: dropped a message from ${m.from}: ${(e as Error).message}`);
    }
    this.kick();
  }

  /** The leader's periodic duties: TTL expiry through sync entries, settling the cluster version. */
  private leaderDuties(): void {
    // Any member: a read round Raft dropped (no leader yet, or the leader not ready) is asked again.
    this.reads.retry();
    if (this.soft.state !== "StateLeader") return;
    if (this.store.hasTTL()) {
      this.proposeEntry((id) => ({ data: encodeRecord({ k: "store", id, cmd: { op: "sync", time: this.rt.now() } }), conf: null })).catch(() => {});
    }
    if (this.published && readClusterVersion(this.store) === null) {
      this.proposeEntry((id) => ({ data: encodeRecord({ k: "store", id, cmd: versionCommand(CLUSTER_VERSION) }), conf: null })).catch(() => {});
    }
  }

  // ---- the Ready loop ----

  /** Starts processing unless already running; work arriving meanwhile is picked up by the loop. */
  private kick(): void {
    // `looping` is set before the loop starts: its first pass runs synchronously and may call
    // kick() again (a read round, a leader change), which must not start a second loop with
    // a second Ready outstanding.
    if (this.looping || this.stopped || this.failure) return;
    this.looping = true;
    this.processing = this.readyLoop()
      .catch((e) => this.fail(e as Error))
      .finally(() => {
        this.looping = false;
        this.processing = null;
        if (!this.stopped && !this.failure && (this.batch.length > 0 || this.raft.hasReady())) this.kick();
      });
  }

  /**
   * Handles Readys in order: persist (WAL), send, apply. Overlapped as etcd's raft and apply
   * loops are, so that CPU work runs while the disk syncs:
   *  - committed entries that are already durable here (committed by a quorum, written by an
   *    earlier Ready) are applied while this Ready's own write is in progress;
   *  - once a Ready is durable and advanced, the next one is taken and its write started
   *    before the rest of this one's committed entries (those it wrote itself, as a lone
   *    member's are) are applied and answered.
   * Entries are applied in order, and never before they are durable here. A Ready that
   * changes the role or installs a snapshot is handled on its own, without overlap.
   */
  private async readyLoop(): Promise<void> {
    let rd: Ready | null = null;
    let persisting: Promise<Message[]> | null = null;
    while (!this.failure) {
      if (rd === null) {
        this.flushProposals();
        if (!this.raft.hasReady()) break;
        rd = this.raft.ready();
      }
      persisting ??= this.persist(rd);
      const applied = isSimple(rd) ? this.applyDurable(rd) : 0;
      const messages = await persisting;
      persisting = null;
      const done: Ready = rd;
      rd = null;
      this.persisted(done, messages);
      this.raft.advance(done);
      this.flushProposals();
      if (this.raft.hasReady()) {
        rd = this.raft.ready();
        if (isSimple(rd)) {
          persisting = this.persist(rd);
          persisting.catch(() => {}); // awaited in the next round; never an unhandled rejection
        }
      }
      this.apply(done, applied);
      await this.maybeSnapshot();
    }
  }

  /**
   * Persists a Ready (snapshot, entries, hard state; one WAL sync) and returns the messages
   * that may only leave once it is durable.
   */
  private async persist(rd: Ready): Promise<Message[]> {
    const wasLeader = this.soft.state === "StateLeader";
    if (rd.softState) this.onSoftState(rd.softState);
    if (rd.snapshot && rd.snapshot.metadata.index > 0) await this.installSnapshot(rd);
    let messages = rd.messages;
    const save = rd.entries.length > 0 || (rd.hardState !== undefined && rd.mustSync);
    if (save && messages.length > 0 && wasLeader && this.soft.state === "StateLeader") {
      // A leader's appends and heartbeats go out while its own write is in progress, as etcd
      // does (Raft thesis §10.2.1): followers persist before they acknowledge, and what they
      // acknowledge commits (is applied, and announced) only in a later Ready, after this
      // write is durable. Anything else waits for the write as usual.
      const later: Message[] = [];
      const now: Message[] = [];
      for (const m of messages) (SEND_BEFORE_PERSIST.has(m.type) ? now : later).push(m);
      this.send(now);
      messages = later;
    }
    if (save) {
      await this.wal.save(rd.hardState ?? null, rd.entries);
      return messages;
    }
    // Nothing to make durable: the messages depend on nothing this Ready writes, and go now,
    // before its committed entries are applied and answered, so that followers learn a new
    // commit index as early as possible (their watchers see the write sooner). If the commit
    // index moved, it is recorded without a sync (etcd's choice), so that a restart knows how
    // far the log was committed (force-new-cluster and replay rely on it); nothing waits for
    // that write (the WAL keeps it in order before later ones, and a failure stops the member).
    this.send(messages);
    if (rd.hardState) this.wal.save(rd.hardState, [], { sync: false }).catch((e) => this.fail(e as Error));
    return [];
  }

  /** A Ready is durable: record its hard state and entries, send the rest of its messages. */
  private persisted(rd: Ready, messages: Message[]): void {
    if (rd.hardState) {
      this.raftStorage.setHardState(rd.hardState);
      this.term = rd.hardState.term;
      this.commitIndex = rd.hardState.commit;
    }
    if (rd.entries.length > 0) this.raftStorage.append(rd.entries);
    this.send(messages);
  }

  /**
   * Applies the committed entries of a Ready that are already durable here (written by an
   * earlier Ready), while its own write is in progress. Returns how many it applied.
   */
  private applyDurable(rd: Ready): number {
    // Durable: what the storage holds, short of what this Ready overwrites (a new leader
    // replacing an uncommitted tail).
    const held = this.raftStorage.lastIndex();
    const durable = rd.entries.length > 0 ? Math.min(held, rd.entries[0]!.index - 1) : held;
    const ces = rd.committedEntries;
    let n = 0;
    while (n < ces.length && ces[n]!.index <= durable) this.applyEntry(ces[n++]!);
    if (n > 0) this.reads.onApplied();
    return n;
  }

  /** Applies a durable Ready's committed entries (from `from` on), then releases the reads it allows. */
  private apply(rd: Ready, from = 0): void {
    const ces = rd.committedEntries;
    for (let i = from; i < ces.length; i++) this.applyEntry(ces[i]!);
    for (const rs of rd.readStates) this.reads.onReadState(rs.requestCtx, rs.index);
    this.reads.onApplied();
  }

  private send(messages: Message[]): void {
    if (messages.length === 0) return;
    for (const m of messages) {
      if (m.type === "MsgApp") this.sendAppend++;
      else if (m.type === "MsgHeartbeat") this.leaderStatsTracker.heartbeatSent(m.to);
    }
    this.transport.send(coalesceMessages(messages, MAX_SIZE_PER_MSG));
  }

  private onSoftState(s: SoftState): void {
    if (s.lead !== this.soft.lead) {
      this.leaderSince = this.rt.now();
      if (s.lead === "") this.rt.log.info(`raft: ${this.memberId} lost leader ${this.soft.lead} at term ${this.term}`);
      else this.rt.log.info(`raft: ${this.memberId} elected leader ${s.lead}`);
    }
    if (s.state === "StateLeader" && this.soft.state !== "StateLeader") this.leaderStatsTracker.reset();
    this.soft = s;
    if (s.lead !== "") {
      this.reads.retry();
      queueMicrotask(() => this.resubmitHeld());
    }
  }

  private async installSnapshot(rd: Ready): Promise<void> {
    const snap = rd.snapshot!;
    const { index, term } = snap.metadata;
    await this.wal.saveSnapshot({ index, term });
    await this.snapshotter.save({ index, term, data: snap.data });
    this.raftStorage.applySnapshot(snap);
    const payload = decodeSnapshot(snap.data);
    this.store.recover(payload.store);
    this.confState = snap.metadata.confState;
    this.appliedIndex = index;
    this.snapshotIndex = index;
    this.removed = readRemoved(this.store);
    for (const m of this.members()) this.addPeer(m.id, m.peerURLs);
    this.rt.log.info(`etcdserver: applied incoming snapshot at index ${index}`);
  }

  /** Deterministic: the same entries give the same store on every member and every replay. */
  private applyEntry(e: Entry): void {
    if (e.index <= this.appliedIndex) return;
    this.appliedIndex = e.index;
    if (e.type === "conf") {
      this.applyConf(e);
      return;
    }
    let record = this.proposed.get(e.data);
    if (record !== undefined) this.proposed.delete(e.data);
    else record = decodeRecord(e.data) ?? undefined;
    if (record === undefined || record.k !== "store") return;
    let outcome: Outcome;
    try {
      outcome = { ok: true, value: this.store.apply(record.cmd) };
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err;
      outcome = { ok: false, error: err };
    }
    this.waiters.trigger(record.id, outcome);
  }

  private applyConf(e: Entry): void {
    const cc = decodeConfChange(e.data);
    const ctx = decodeConfContext(cc.context);
    const change: ConfChange = {
      op: cc.type === "addNode" ? "add" : cc.type === "removeNode" ? "remove" : "update",
      memberId: cc.nodeId,
      peerURLs: ctx.peerURLs,
    };
    // Bootstrap entries add members that are not in the store yet; validation would refuse
    // nothing else for them, so they skip it.
    const invalid = ctx.id === "" ? null : this.validateConfChange(change, false);
    if (invalid) {
      this.waiters.trigger(ctx.id, { ok: false, error: new EtcdError(ErrorCode.RaftInternal, `etcdserver: ${invalid.kind}`) });
      return;
    }
    this.confState = this.raft.applyConfChange(cc);
    for (const cmd of confCommands(change)) {
      try {
        this.store.apply(cmd);
      } catch (err) {
        if (!(err instanceof EtcdError)) throw err;
      }
    }
    if (change.op === "remove") {
      this.removed.add(change.memberId);
      if (this.knownPeers.delete(change.memberId)) this.transport.removePeer(change.memberId);
    } else if (change.memberId !== this.memberId) {
      this.addPeer(change.memberId, change.peerURLs ?? []);
    }
    this.waiters.trigger(ctx.id, { ok: true, value: null });
    if (change.op === "remove" && change.memberId === this.memberId) this.removedSelf();
  }

  private addPeer(id: string, peerURLs: string[]): void {
    if (id === this.memberId || this.removed.has(id) || peerURLs.length === 0) return;
    if (this.knownPeers.has(id)) {
      this.transport.updatePeer(id, peerURLs);
    } else {
      this.knownPeers.add(id);
      this.transport.addPeer(id, peerURLs);
    }
  }

  private raftStorageEntries(): Entry[] {
    const first = this.raftStorage.firstIndex();
    const last = this.raftStorage.lastIndex();
    return last >= first ? this.raftStorage.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [];
  }

  private peerFromConfEntry(e: Entry): void {
    if (e.type !== "conf") return;
    const cc = decodeConfChange(e.data);
    if (cc.type !== "removeNode") this.addPeer(cc.nodeId, decodeConfContext(cc.context).peerURLs);
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.appliedIndex - this.snapshotIndex < this.cfg.snapshotCount) return;
    const index = this.appliedIndex;
    const data = encodeSnapshot({ store: this.store.save(), confState: this.confState });
    const snap = this.raftStorage.createSnapshot(index, this.confState, data);
    const term = snap.metadata.term;
    // Marker first: a snapshot file is only trusted when the WAL knows about it.
    await this.wal.saveSnapshot({ index, term });
    await this.snapshotter.save({ index, term, data });
    this.snapshotIndex = index;
    if (index > SNAPSHOT_CATCH_UP_ENTRIES) this.raftStorage.compact(index - SNAPSHOT_CATCH_UP_ENTRIES);
    await this.wal.release(index);
    if (this.cfg.maxSnapshots > 0) await this.snapshotter.purge(this.cfg.maxSnapshots);
    this.rt.log.info(`etcdserver: saved snapshot at index ${index} (${data.length} bytes)`);
  }

  private removedSelf(): void {
    if (this.stopped || this.removing) return;
    this.removing = true;
    this.rt.log.warn("etcdserver: the member has been permanently removed from the cluster; shutting down");
    // Linger briefly so the messages already queued go out: a leader that applied its own
    // removal still has to tell the others that the removal committed (and hand over).
    this.rt.setTimer(REMOVAL_LINGER_MS, () => void this.stop().then(() => this.resolveDone()));
  }

  /** A storage failure: nothing unpersisted was acknowledged; stop taking writes and stop the member. */
  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.rt.log.error(`etcdserver: fatal: ${e.message}`);
    const error = new EtcdError(ErrorCode.RaftInternal, `etcdserver: ${e.message}`);
    this.waiters.failAll(error);
    this.failReads(error);
    this.deadlines.clear();
    for (const cancel of this.timers) cancel?.();
    void this.transport.stop();
    this.rejectDone(e);
  }
}
