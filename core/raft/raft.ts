// The Raft state machine (etcd raft 3.4 semantics, Raft thesis). Pure: it reacts to tick() and
// step(message), and leaves its output in fields that RawNode turns into a Ready (msgs,
// readStates, the log's unstable part and cursors). All messages it produces are addressed to
// other nodes; anything "sent to self" is applied directly.
import { decodeConfChange } from "./conf-change.ts";
import { ProposalDroppedError } from "./errors.ts";
import { RaftLog } from "./log.ts";
import { ReadOnly, contextOf } from "./read-only.ts";
import { CompactedError, SnapshotTemporarilyUnavailableError, UnavailableError, isEmptySnapshot } from "./storage.ts";
import { ProgressTracker } from "./tracker.ts";
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, RaftConfig, ReadState, Snapshot, SoftState, StateType } from "./types.ts";
import { NONE } from "./types.ts";
import { bytesEqual, msg, voteRespType } from "./util.ts";

type CampaignType = "pre-election" | "election" | "transfer";

/** Context of the MsgVote of a leadership transfer: it may bypass the leader lease. */
const CAMPAIGN_TRANSFER = new TextEncoder().encode("CampaignTransfer");

const noop = (): void => {};

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readonly log: RaftLog;
  prs: ProgressTracker;
  state: StateType = "StateFollower";
  lead: NodeId = NONE;
  /** Leader: the node leadership is being handed to (proposals are dropped meanwhile). */
  leadTransferee: NodeId = NONE;
  /** Leader: index of the latest conf change proposed; only one may be unapplied at a time. */
  pendingConfIndex = 0;
  /** This node was a voter and a conf change removed it: it never campaigns or proposes again. */
  removed = false;

  /** Output: messages to other nodes, in order. */
  msgs: Message[] = [];
  /** Output: linearizable reads that are ready (once applied >= index). */
  readStates: ReadState[] = [];

  private readOnly = new ReadOnly();
  /** Leader: ReadIndex requests arrived since the last heartbeat round (see flushReadIndex). */
  private readRoundPending = false;

  readonly maxMsgSize: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  private readonly unsafeCommitOldTerms: boolean;
  private readonly random: () => number;
  private readonly logger: NonNullable<RaftConfig["logger"]>;

  /** Ticks since the last election timeout reset (follower/candidate) or check (leader). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  /** In [electionTimeout, 2*electionTimeout), re-drawn whenever the timer resets. */
  randomizedElectionTimeout = 0;

  constructor(cfg: RaftConfig) {
    if (cfg.id === NONE) throw new Error("raft: cannot use none as id");
    if (cfg.heartbeatTick <= 0) throw new Error("raft: heartbeat tick must be greater than 0");
    if (cfg.electionTick <= cfg.heartbeatTick) throw new Error("raft: election tick must be greater than heartbeat tick");
    if (cfg.maxInflightMsgs <= 0) throw new Error("raft: max inflight messages must be greater than 0");
    this.id = cfg.id;
    this.maxMsgSize = cfg.maxSizePerMsg;
    this.checkQuorum = cfg.checkQuorum;
    this.preVote = cfg.preVote;
    this.heartbeatTimeout = cfg.heartbeatTick;
    this.electionTimeout = cfg.electionTick;
    this.unsafeCommitOldTerms = cfg.unsafeCommitOldTerms === true;
    this.random = cfg.random;
    this.logger = cfg.logger ?? { debug: noop, info: noop, warn: noop };
    this.log = new RaftLog(cfg.storage, cfg.maxCommittedSizePerReady ?? cfg.maxSizePerMsg);
    this.prs = new ProgressTracker(cfg.maxInflightMsgs);

    const { hardState, confState } = cfg.storage.initialState();
    for (const v of confState.voters) this.prs.addVoter(v, 1);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (cfg.applied > 0) {
      this.replayConfChanges(cfg.applied);
      this.log.appliedTo(cfg.applied);
    }
    this.becomeFollower(this.term, NONE);
    this.logger.info(
      `raft ${this.id}: newRaft [peers: [${this.prs.ids().join(",")}], term: ${this.term}, commit: ${this.log.committed}, applied: ${this.log.applied}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}]`,
    );
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new Error(`raft ${this.id}: state.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /**
   * The application has applied entries up to `applied`, but the conf state from storage is that
   * of the last snapshot: replay the conf entries after it. Each change sets one voter's
   * membership outright, so replaying on top of a newer state is harmless.
   */
  private replayConfChanges(applied: number): void {
    const from = this.log.firstIndex();
    const to = Math.min(applied, this.log.lastIndex());
    if (to < from) return;
    for (const e of this.log.slice(from, to + 1, Infinity)) {
      if (e.type === "conf") this.applyVoterChange(decodeConfChange(e.data));
    }
  }

  // ---- state ----

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  /** May campaign: a voter in its own configuration, not installing a snapshot. */
  promotable(): boolean {
    return this.prs.has(this.id) && !this.removed && !this.log.hasPendingSnapshot();
  }

  private pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
  }

  // ---- sending ----

  private send(m: Message): void {
    m.from = this.id;
    if (m.type === "MsgVote" || m.type === "MsgVoteResp" || m.type === "MsgPreVote" || m.type === "MsgPreVoteResp") {
      // Vote messages carry the term they are about (a pre-vote is for a future term).
      if (m.term === 0) throw new Error(`raft: term should be set when sending ${m.type}`);
    } else {
      if (m.term !== 0) throw new Error(`raft: term should not be set when sending ${m.type} (was ${m.term})`);
      // Proposals and read requests are forwarded like local messages: no term.
      if (m.type !== "MsgProp" && m.type !== "MsgReadIndex") m.term = this.term;
    }
    this.msgs.push(m);
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends entries from the follower's next index (or a snapshot when they are compacted away).
   * Returns whether a message was sent; with sendIfEmpty false, nothing is sent when there are no
   * new entries.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const m = msg({ type: "MsgApp", to });

    let term: number | undefined;
    let ents: Entry[] | undefined;
    try {
      term = this.log.term(pr.next - 1);
      ents = this.log.entries(pr.next, this.maxMsgSize);
    } catch (e) {
      // Compacted away (or not in storage): fall through to a snapshot.
      if (!(e instanceof CompactedError || e instanceof UnavailableError)) throw e;
    }
    if (term !== undefined && ents !== undefined && ents.length === 0 && !sendIfEmpty) return false;

    if (term === undefined || ents === undefined) {
      if (!pr.recentActive) {
        this.logger.debug(`raft ${this.id}: ignore sending snapshot to ${to} since it is not recently active`);
        return false;
      }
      let snap: Snapshot;
      try {
        snap = this.log.snapshot();
      } catch (e) {
        if (e instanceof SnapshotTemporarilyUnavailableError) {
          this.logger.debug(`raft ${this.id}: failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
          return false;
        }
        throw e;
      }
      if (isEmptySnapshot(snap)) throw new Error("raft: need non-empty snapshot");
      m.type = "MsgSnap";
      m.snapshot = snap;
      this.logger.debug(`raft ${this.id}: [firstindex: ${this.log.firstIndex()}, commit: ${this.log.committed}] sent snapshot[index: ${snap.metadata.index}, term: ${snap.metadata.term}] to ${to} [${pr}]`);
      pr.becomeSnapshot(snap.metadata.index);
    } else {
      m.index = pr.next - 1;
      m.logTerm = term;
      m.entries = ents;
      m.commit = this.log.committed;
      const n = ents.length;
      if (n !== 0) {
        if (pr.state === "replicate") {
          // Pipelining: assume delivery and move on; the inflight window bounds it.
          const last = ents[n - 1]!.index;
          pr.optimisticUpdate(last);
          pr.inflights.add(last);
        } else if (pr.state === "probe") {
          pr.probeSent = true;
        } else {
          throw new Error(`raft ${this.id}: sending append in unhandled state ${pr.state}`);
        }
      }
    }
    this.send(m);
    return true;
  }

  private sendHeartbeat(to: NodeId, ctx: Uint8Array | undefined): void {
    // Never tell a follower to commit beyond what it is known to hold: it might not have it yet.
    const pr = this.prs.get(to)!;
    const m = msg({ type: "MsgHeartbeat", to, commit: Math.min(pr.match, this.log.committed) });
    if (ctx && ctx.length > 0) m.context = ctx;
    this.send(m);
  }

  private bcastAppend(): void {
    this.prs.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  private bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx());
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array | undefined): void {
    // This round carries the newest pending read, which covers all older ones.
    this.readRoundPending = false;
    this.prs.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  /** Whether ReadIndex requests wait for flushReadIndex(). */
  hasPendingReadRound(): boolean {
    return this.readRoundPending && this.state === "StateLeader";
  }

  /**
   * Leader: sends one heartbeat round for all ReadIndex requests that arrived since the last
   * round. Called when the caller collects a Ready, so a burst of reads shares one round trip.
   */
  flushReadIndex(): void {
    if (this.hasPendingReadRound()) this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx());
    this.readRoundPending = false;
  }

  // ---- commit and apply ----

  /** Advances the commit index to what a quorum holds, if that entry is from this term. */
  private maybeCommit(): boolean {
    return this.log.maybeCommit(this.prs.committed(), this.term, this.unsafeCommitOldTerms);
  }

  private appendEntry(es: Entry[]): void {
    const li = this.log.lastIndex();
    const stamped = es.map((e, i) => ({ ...e, term: this.term, index: li + 1 + i }));
    const last = this.log.append(stamped);
    // The leader's own log counts towards the quorum at once (it persists before sending).
    this.prs.get(this.id)?.maybeUpdate(last);
    this.maybeCommit();
  }

  /** The application applied up to `index` (committed entries or a snapshot). */
  appliedTo(index: number): void {
    this.log.appliedTo(index);
  }

  // ---- roles ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.prs.resetVotes();
    const last = this.log.lastIndex();
    this.prs.visit((id, pr) => {
      pr.becomeProbe();
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.recentActive = false;
    });
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly();
    this.readRoundPending = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = "StateFollower";
    this.logger.info(`raft ${this.id}: became follower at term ${this.term}`);
  }

  private becomeCandidate(): void {
    if (this.state === "StateLeader") throw new Error("raft: invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = "StateCandidate";
    this.logger.info(`raft ${this.id}: became candidate at term ${this.term}`);
  }

  private becomePreCandidate(): void {
    if (this.state === "StateLeader") throw new Error("raft: invalid transition [leader -> pre-candidate]");
    // A pre-candidate changes neither term nor vote, and keeps its election timer.
    this.prs.resetVotes();
    this.lead = NONE;
    this.state = "StatePreCandidate";
    this.logger.info(`raft ${this.id}: became pre-candidate at term ${this.term}`);
  }

  private becomeLeader(): void {
    if (this.state === "StateFollower") throw new Error("raft: invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = "StateLeader";
    // Our own log is our best knowledge: replicate state at once.
    this.prs.get(this.id)?.becomeReplicate();
    // Conf changes in our log may not be applied yet; block new ones until they are.
    this.pendingConfIndex = this.log.lastIndex();
    // An empty entry of this term lets earlier entries commit (commit rule), and ReadIndex start.
    this.appendEntry([{ index: 0, term: 0, type: "normal", data: new Uint8Array(0) }]);
    this.logger.info(`raft ${this.id}: became leader at term ${this.term}`);
  }

  private campaign(t: CampaignType): void {
    if (!this.promotable()) {
      this.logger.warn(`raft ${this.id}: is unpromotable; campaign() should not have been called`);
      return;
    }
    let term: number;
    let voteMsg: "MsgVote" | "MsgPreVote";
    if (t === "pre-election") {
      this.becomePreCandidate();
      voteMsg = "MsgPreVote";
      // Ask for votes for the term we would use, without moving to it yet.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = "MsgVote";
      term = this.term;
    }
    if (this.poll(this.id, true) === "won") {
      // Single-voter cluster: we won already.
      if (t === "pre-election") this.campaign("election");
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    this.prs.visit((id) => {
      if (id === this.id) return;
      this.logger.info(`raft ${this.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${voteMsg} request to ${id} at term ${this.term}`);
      const m = msg({ type: voteMsg, to: id, term, index: lastIndex, logTerm: lastTerm });
      if (t === "transfer") m.context = CAMPAIGN_TRANSFER;
      this.send(m);
    });
  }

  private poll(id: NodeId, granted: boolean): "won" | "lost" | "pending" {
    this.prs.recordVote(id, granted);
    return this.prs.tallyVotes().result;
  }

  // ---- clock ----

  tick(): void {
    if (this.state === "StateLeader") this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(msg({ type: "MsgHup", from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(msg({ type: "MsgCheckQuorum", from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === "StateLeader" && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== "StateLeader") return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(msg({ type: "MsgBeat", from: this.id }));
    }
  }

  // ---- input ----

  /** Steps one message. Throws ProposalDroppedError for a proposal that cannot be accepted. */
  step(m: Message): void {
    if (m.term === 0) {
      // Local message (or a forwarded proposal / read request).
    } else if (m.term > this.term) {
      if (m.type === "MsgVote" || m.type === "MsgPreVote") {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Leader lease: we heard from a live leader within the minimum election timeout, so
          // this candidate is probably partitioned or removed; do not let it disrupt us.
          this.logger.info(`raft ${this.id} [term: ${this.term}] ignored ${m.type} from ${m.from} at term ${m.term}: lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`);
          return;
        }
      }
      if (m.type === "MsgPreVote") {
        // Never change our term in response to a pre-vote.
      } else if (m.type === "MsgPreVoteResp" && !m.reject) {
        // A granted pre-vote echoes the future term we asked for; we move there only on winning.
      } else {
        this.logger.info(`raft ${this.id} [term: ${this.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`);
        const fromLeader = m.type === "MsgApp" || m.type === "MsgHeartbeat" || m.type === "MsgSnap";
        this.becomeFollower(m.term, fromLeader ? m.from : NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === "MsgHeartbeat" || m.type === "MsgApp")) {
        // A stale leader (e.g. after a partition) would never learn of our term otherwise: with
        // check-quorum or pre-vote our term does not move on its vote requests. Tell it.
        this.send(msg({ type: "MsgAppResp", to: m.from }));
      } else if (m.type === "MsgPreVote") {
        // Reject explicitly so that a pre-candidate from an older term does not wait forever.
        this.send(msg({ type: "MsgPreVoteResp", to: m.from, term: this.term, reject: true }));
      } else {
        this.logger.debug(`raft ${this.id} [term: ${this.term}] ignored a ${m.type} message with lower term from ${m.from} [term: ${m.term}]`);
      }
      return;
    }

    switch (m.type) {
      case "MsgHup":
        this.hup();
        return;
      case "MsgVote":
      case "MsgPreVote":
        this.handleVoteRequest(m);
        return;
      default:
        switch (this.state) {
          case "StateLeader":
            this.stepLeader(m);
            return;
          case "StateCandidate":
          case "StatePreCandidate":
            this.stepCandidate(m);
            return;
          case "StateFollower":
            this.stepFollower(m);
            return;
        }
    }
  }

  private hup(): void {
    if (this.state === "StateLeader") {
      this.logger.debug(`raft ${this.id}: ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`raft ${this.id}: is unpromotable and can not campaign`);
      return;
    }
    // A conf change committed but not applied could change whether we may campaign at all.
    if (this.log.committed > this.log.applied) {
      const ents = this.log.slice(this.log.applied + 1, this.log.committed + 1, Infinity);
      if (ents.some((e) => e.type === "conf")) {
        this.logger.warn(`raft ${this.id}: cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
        return;
      }
    }
    this.logger.info(`raft ${this.id}: is starting a new election at term ${this.term}`);
    this.campaign(this.preVote ? "pre-election" : "election");
  }

  private handleVoteRequest(m: Message): void {
    // We may vote for m.from if we already did in this term, or have not voted and know no
    // leader, or this is a pre-vote for a future term ...
    const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === "MsgPreVote" && m.term > this.term);
    // ... and its log is at least as up to date as ours.
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.logger.info(`raft ${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] cast ${m.type} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`);
      // The response carries the term of the request (for a pre-vote, the future term).
      this.send(msg({ type: voteRespType(m.type), to: m.from, term: m.term }));
      if (m.type === "MsgVote") {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.logger.info(`raft ${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] rejected ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`);
      this.send(msg({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true }));
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case "MsgBeat":
        this.bcastHeartbeat();
        return;
      case "MsgCheckQuorum": {
        // The leader always counts itself (if it is still a member).
        const self = this.prs.get(this.id);
        if (self) self.recentActive = true;
        if (!this.prs.quorumActive()) {
          this.logger.warn(`raft ${this.id}: stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, NONE);
        }
        // Start the next check period.
        this.prs.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      }
      case "MsgProp":
        this.leaderPropose(m);
        return;
      case "MsgReadIndex":
        this.leaderReadIndex(m);
        return;
    }

    // Everything else is about one follower.
    const pr = this.prs.get(m.from);
    if (!pr) {
      this.logger.debug(`raft ${this.id}: no progress available for ${m.from}`);
      return;
    }
    switch (m.type) {
      case "MsgAppResp": {
        pr.recentActive = true;
        if (m.reject) {
          // The follower's hint (rejectHint, logTerm) lets us skip a whole term at a time.
          let nextProbe = m.rejectHint;
          if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm);
          if (pr.maybeDecrTo(m.index, nextProbe)) {
            this.logger.debug(`raft ${this.id}: decreased progress of ${m.from} to [${pr}]`);
            if (pr.state === "replicate") pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const oldPaused = pr.isPaused();
        if (!pr.maybeUpdate(m.index)) return;
        if (pr.state === "probe") {
          pr.becomeReplicate();
        } else if (pr.state === "snapshot" && pr.match >= pr.pendingSnapshot) {
          this.logger.debug(`raft ${this.id}: recovered from needing snapshot, resumed sending replication messages to ${m.from} [${pr}]`);
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.state === "replicate") {
          pr.inflights.freeLE(m.index);
        }
        if (this.maybeCommit()) {
          this.bcastAppend();
        } else if (oldPaused) {
          // It may have missed the latest commit index while paused.
          this.sendAppend(m.from);
        }
        // The window may have opened for several messages: send as many as allowed.
        while (this.maybeSendAppend(m.from, false)) {
          /* keep sending */
        }
        if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
          this.logger.info(`raft ${this.id}: sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
          this.sendTimeoutNow(m.from);
        }
        return;
      }
      case "MsgHeartbeatResp": {
        pr.recentActive = true;
        pr.probeSent = false;
        // A live follower with a full window: free one slot so that progress resumes.
        if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        const ctx = m.context;
        if (!ctx || ctx.length === 0) return;
        const acks = this.readOnly.recvAck(m.from, ctx);
        if (!acks) return;
        const answers = new Map<NodeId, boolean>();
        for (const id of acks) answers.set(id, true);
        if (this.prs.voteResult(answers) !== "won") return;
        for (const rs of this.readOnly.advance(ctx)) this.releaseRead(rs.req, rs.index);
        return;
      }
      case "MsgSnapStatus":
        if (pr.state !== "snapshot") return;
        if (!m.reject) {
          pr.becomeProbe();
          this.logger.debug(`raft ${this.id}: snapshot succeeded, resumed sending replication messages to ${m.from} [${pr}]`);
        } else {
          // Forget the snapshot first, or we would probe from its index although it never arrived.
          pr.pendingSnapshot = 0;
          pr.becomeProbe();
          this.logger.debug(`raft ${this.id}: snapshot failed, resumed sending replication messages to ${m.from} [${pr}]`);
        }
        // Success: wait for the follower's MsgAppResp. Failure: retry after a heartbeat interval.
        pr.probeSent = true;
        return;
      case "MsgUnreachable":
        // While pipelining, an unreachable peer has probably lost MsgApps: probe again.
        if (pr.state === "replicate") pr.becomeProbe();
        this.logger.debug(`raft ${this.id}: failed to send message to ${m.from} because it is unreachable [${pr}]`);
        return;
      case "MsgTransferLeader": {
        const transferee = m.from;
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) return; // already in progress
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) return; // already leader
        this.logger.info(`raft ${this.id} [term ${this.term}] starts to transfer leadership to ${transferee}`);
        // The transfer must finish within an election timeout (see tickHeartbeat).
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.log.lastIndex()) {
          this.sendTimeoutNow(transferee);
        } else {
          // Catch it up first; MsgAppResp sends MsgTimeoutNow once it is.
          this.sendAppend(transferee);
        }
        return;
      }
    }
  }

  private leaderPropose(m: Message): void {
    if (m.entries.length === 0) throw new Error(`raft ${this.id}: stepped empty MsgProp`);
    if (!this.prs.has(this.id)) throw new ProposalDroppedError("raft: proposal dropped: this leader is no longer a member");
    if (this.leadTransferee !== NONE) {
      throw new ProposalDroppedError(`raft: proposal dropped: leadership is being transferred to ${this.leadTransferee}`);
    }
    // One conf change at a time: refuse while an earlier one may be unapplied (etcd replaces it
    // with an empty entry; we drop the whole proposal so that the caller learns of it).
    const confAt: number[] = [];
    m.entries.forEach((e, i) => {
      if (e.type === "conf") confAt.push(i);
    });
    if (confAt.length > 0) {
      if (this.pendingConfIndex > this.log.applied || confAt.length > 1) {
        throw new ProposalDroppedError(`raft: conf change dropped: possible unapplied conf change at index ${this.pendingConfIndex} (applied to ${this.log.applied})`);
      }
      this.pendingConfIndex = this.log.lastIndex() + confAt[0]! + 1;
    }
    this.appendEntry(m.entries);
    this.bcastAppend();
  }

  private leaderReadIndex(m: Message): void {
    const ctx = contextOf(m);
    if (this.prs.isSingleton()) {
      // Only us: the commit index is as fresh as it gets.
      this.releaseRead(m, this.log.committed);
      return;
    }
    // Until an entry of our term commits, our commit index may lag the real one (thesis §6.4).
    if (this.log.zeroTermOnCompacted(this.log.committed) !== this.term) {
      this.logger.debug(`raft ${this.id}: dropped a read index request: no entry committed in term ${this.term} yet`);
      return;
    }
    this.readOnly.addRequest(this.log.committed, m, ctx);
    this.readOnly.recvAck(this.id, ctx);
    // The heartbeat round goes out with the next Ready (flushReadIndex), shared by all reads until then.
    this.readRoundPending = true;
  }

  private releaseRead(req: Message, index: number): void {
    const ctx = contextOf(req);
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: ctx });
    } else {
      this.send(msg({ type: "MsgReadIndexResp", to: req.from, index, context: ctx }));
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.state === "StatePreCandidate" ? "MsgPreVoteResp" : "MsgVoteResp";
    switch (m.type) {
      case "MsgProp":
        throw new ProposalDroppedError("raft: proposal dropped: no leader (election in progress)");
      case "MsgApp":
        // Someone won this term.
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case "MsgHeartbeat":
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case "MsgSnap":
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case "MsgTimeoutNow":
        this.logger.debug(`raft ${this.id} [term ${this.term} state ${this.state}] ignored MsgTimeoutNow from ${m.from}`);
        return;
      default:
        if (m.type !== myVoteResp) return;
        switch (this.poll(m.from, !m.reject)) {
          case "won":
            if (this.state === "StatePreCandidate") {
              this.campaign("election");
            } else {
              this.becomeLeader();
              this.bcastAppend();
            }
            return;
          case "lost":
            // A rejected pre-vote carries the rejecter's term; keep ours.
            this.becomeFollower(this.term, NONE);
            return;
          case "pending":
            return;
        }
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case "MsgProp":
        if (this.lead === NONE) throw new ProposalDroppedError("raft: proposal dropped: no leader");
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case "MsgApp":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case "MsgHeartbeat":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case "MsgSnap":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case "MsgTransferLeader":
        // Forwarding keeps from = this node, so only a transfer to ourselves can be forwarded.
        if (this.lead === NONE) {
          this.logger.info(`raft ${this.id}: no leader at term ${this.term}; dropping leader transfer msg`);
          return;
        }
        if (m.from !== this.id) {
          this.logger.info(`raft ${this.id}: a follower can only ask for leadership for itself; dropping transfer to ${m.from}`);
          return;
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case "MsgTimeoutNow":
        if (this.promotable()) {
          // A transfer never uses pre-vote: we know there is no partition to recover from.
          this.logger.info(`raft ${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership.`);
          this.campaign("transfer");
        } else {
          this.logger.info(`raft ${this.id}: received MsgTimeoutNow from ${m.from} but is not promotable`);
        }
        return;
      case "MsgReadIndex":
        if (this.lead === NONE) {
          this.logger.info(`raft ${this.id}: no leader at term ${this.term}; dropping index reading msg`);
          return;
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case "MsgReadIndexResp":
        this.readStates.push({ index: m.index, requestCtx: contextOf(m) });
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Already committed here: tell the leader how far we are.
      this.send(msg({ type: "MsgAppResp", to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(msg({ type: "MsgAppResp", to: m.from, index: lastNew }));
      return;
    }
    // Hint where our logs may match: the largest index <= m.index whose term is <= m.logTerm.
    // That skips our whole divergent tail of later terms in one round trip.
    const hintIndex = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    const hintTerm = this.log.tryTerm(hintIndex) ?? 0;
    this.logger.debug(`raft ${this.id} [logterm: ${this.log.tryTerm(m.index) ?? 0}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`);
    this.send(msg({ type: "MsgAppResp", to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }));
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    const resp = msg({ type: "MsgHeartbeatResp", to: m.from });
    if (m.context && m.context.length > 0) resp.context = m.context;
    this.send(resp);
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) throw new Error(`raft ${this.id}: MsgSnap from ${m.from} without a snapshot`);
    if (this.restore(s)) {
      this.logger.info(`raft ${this.id} [commit: ${this.log.committed}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
      this.send(msg({ type: "MsgAppResp", to: m.from, index: this.log.lastIndex() }));
    } else {
      this.logger.info(`raft ${this.id} [commit: ${this.log.committed}] ignored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
      this.send(msg({ type: "MsgAppResp", to: m.from, index: this.log.committed }));
    }
  }

  /** Installs a snapshot from the leader; false when it brings nothing new. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.log.committed) return false;
    if (this.state !== "StateFollower") {
      // Defense in depth: only followers install snapshots.
      this.logger.warn(`raft ${this.id}: attempted to restore snapshot as leader; should never happen`);
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (this.log.matchTerm(s.metadata.index, s.metadata.term)) {
      // We have the entry already: just fast-forward the commit index.
      this.log.commitTo(s.metadata.index);
      return false;
    }
    // Unlike etcd (which drops such a snapshot), accept one whose configuration does not include
    // us. A leader only sends to members of its configuration, so either we were added after
    // the snapshot was taken (the addNode entry follows in the log; until it is applied we are
    // simply not promotable), or — if we were a member — the snapshot records our removal.
    // (etcd's server avoids the first case by always sending a fresh snapshot.)
    const inConf = s.metadata.confState.voters.includes(this.id);
    if (!inConf) {
      this.logger.info(`raft ${this.id}: restoring snapshot whose configuration [${s.metadata.confState.voters.join(",")}] does not include us`);
      if (this.prs.has(this.id)) this.removed = true;
    }
    this.log.restore(s);
    this.prs = new ProgressTracker(this.prs.maxInflight);
    for (const v of s.metadata.confState.voters) this.prs.addVoter(v, this.log.lastIndex() + 1);
    return true;
  }

  // ---- leadership transfer ----

  private sendTimeoutNow(to: NodeId): void {
    this.send(msg({ type: "MsgTimeoutNow", to }));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- membership ----

  /** Applies a committed conf change to the voter set; returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    const wasMember = this.prs.has(this.id);
    this.applyVoterChange(cc);
    const cs = this.prs.confState();
    const isMember = this.prs.has(this.id);
    if (wasMember && !isMember) {
      this.removed = true;
      this.logger.info(`raft ${this.id}: removed from the configuration`);
    }
    if (this.state !== "StateLeader") return cs;
    if (!isMember) {
      this.stepDownAfterRemoval();
      return cs;
    }
    if (cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      // A smaller quorum may commit more now.
      this.bcastAppend();
    } else {
      // Probe new members at once rather than at the next heartbeat or proposal.
      this.prs.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== NONE && !this.prs.has(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  private applyVoterChange(cc: ConfChange): void {
    switch (cc.type) {
      case "addNode":
        // Probe from the end of our log (as etcd); a fresh member will reject and be backed off.
        this.prs.addVoter(cc.nodeId, this.log.lastIndex());
        return;
      case "removeNode":
        this.prs.removeVoter(cc.nodeId);
        return;
      case "updateNode":
        return; // only the application's view (peer URLs) changes
    }
  }

  /**
   * A leader that applied its own removal stops leading. If a voter already holds our whole log,
   * hand leadership to it at once (as a transfer would); otherwise the others elect one after an
   * election timeout.
   */
  private stepDownAfterRemoval(): void {
    let best: NodeId = NONE;
    let bestMatch = -1;
    this.prs.visit((id, pr) => {
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    });
    const caughtUp = best !== NONE && bestMatch === this.log.lastIndex();
    this.becomeFollower(this.term, NONE);
    if (caughtUp) {
      this.logger.info(`raft ${this.id}: removed while leader; handing leadership to ${best}`);
      this.sendTimeoutNow(best);
    } else {
      this.logger.info(`raft ${this.id}: removed while leader; stepping down`);
    }
  }
}
