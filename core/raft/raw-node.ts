// The application's handle on Raft. Input: tick(), step() for network messages, propose(),
// readIndex(), ... Output: ready() batches. The caller's loop, for each Ready:
//   1. persist rd.snapshot (if any), rd.entries (replacing any stored entries from
//      rd.entries[0].index on: a new leader may have overwritten them) and rd.hardState;
//      fsync when rd.mustSync;
//   2. send rd.messages (they may depend on what was just persisted);
//   3. apply rd.snapshot, then rd.committedEntries in order (conf entries: applyConfChange);
//   4. advance(rd).
// ready() and advance() alternate; between them the node may be ticked and stepped.
import { encodeConfChange } from "./conf-change.ts";
import { ProposalDroppedError, StepLocalMessageError } from "./errors.ts";
import { Raft } from "./raft.ts";
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, ProgressView, RaftConfig, Ready, SoftState, Status } from "./types.ts";
import { isLocalMsg, isResponseMsg, msg } from "./util.ts";

export { ProposalDroppedError, StepLocalMessageError } from "./errors.ts";

export class RawNode {
  private readonly raft: Raft;
  private prevSoftSt: SoftState;
  private prevHardSt: HardState;

  constructor(cfg: RaftConfig) {
    this.raft = new Raft(cfg);
    this.prevSoftSt = this.raft.softState();
    this.prevHardSt = this.raft.hardState();
  }

  /** One logical clock tick (a heartbeat interval). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (no-op for a leader or a node that may not campaign). */
  campaign(): void {
    this.raft.step(msg({ type: "MsgHup", from: this.raft.id }));
  }

  /**
   * Proposes data to append to the log. A follower forwards it to its leader, which may still drop
   * it silently (e.g. during a leadership transfer): the caller must time proposals out.
   * Throws ProposalDroppedError when there is no leader, a transfer is in progress (on the leader),
   * or this node was removed.
   */
  propose(data: Uint8Array): void {
    this.proposeEntry({ index: 0, term: 0, type: "normal", data });
  }

  /** Proposes several entries at once (one MsgProp): the same as propose() for each, in order. */
  proposeMany(datas: readonly Uint8Array[]): void {
    if (datas.length === 0) return;
    if (this.raft.removed) throw new ProposalDroppedError("raft: proposal dropped: this node was removed from the cluster");
    this.raft.step(msg({ type: "MsgProp", from: this.raft.id, entries: datas.map((data) => ({ index: 0, term: 0, type: "normal" as const, data })) }));
  }

  /**
   * Proposes a membership change (entry type "conf"). On the leader, throws ProposalDroppedError
   * while an earlier conf change is not yet applied; a follower forwards it (see propose()).
   */
  proposeConfChange(cc: ConfChange): void {
    this.proposeEntry({ index: 0, term: 0, type: "conf", data: encodeConfChange(cc) });
  }

  private proposeEntry(e: Entry): void {
    if (this.raft.removed) throw new ProposalDroppedError("raft: proposal dropped: this node was removed from the cluster");
    this.raft.step(msg({ type: "MsgProp", from: this.raft.id, entries: [e] }));
  }

  /** Applies a committed conf change (the application calls it when applying a "conf" entry). */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Steps a message from the network. Throws StepLocalMessageError for local-only types. Responses
   * from nodes outside the configuration, and forwarded proposals the leader cannot take, are
   * dropped silently.
   */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw new StepLocalMessageError(m.type);
    if (isResponseMsg(m.type) && !this.raft.prs.has(m.from)) return;
    try {
      this.raft.step(m);
    } catch (e) {
      if (e instanceof ProposalDroppedError) return;
      throw e;
    }
  }

  /**
   * Requests a linearizable read. A later Ready carries ReadState {index, requestCtx: ctx}: the read
   * may be served once the application has applied `index`. `ctx` must be non-empty and unique
   * among pending reads. The request is dropped silently when there is no leader, or when the
   * leader has not yet committed an entry in its term (right after an election): retry on timeout.
   */
  readIndex(ctx: Uint8Array): void {
    if (ctx.length === 0) throw new Error("raft: readIndex needs a non-empty request context");
    this.raft.step(msg({ type: "MsgReadIndex", context: ctx }));
  }

  /**
   * The read index a leader that is the only member can serve at once: its commit index (what
   * readIndex() would answer through the next Ready), or null when a round is needed.
   */
  localReadIndex(): number | null {
    const r = this.raft;
    if (r.state !== "StateLeader" || !r.prs.isSingleton()) return null;
    return r.log.committed;
  }

  /**
   * Hands leadership to `to`. Call it on the leader (a follower only forwards a transfer to
   * itself). The leader drops proposals until the transfer ends; it gives up after an election
   * timeout.
   */
  transferLeader(to: NodeId): void {
    this.raft.step(msg({ type: "MsgTransferLeader", from: to }));
  }

  /** The transport failed to deliver a message to `id`. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(msg({ type: "MsgUnreachable", from: id }));
  }

  /** The transport finished sending a MsgSnap to `id` (ok = false: it failed). */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(msg({ type: "MsgSnapStatus", from: id, reject: !ok }));
  }

  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftSt.lead || ss.state !== this.prevSoftSt.state) return true;
    if (!hardStateEqual(r.hardState(), this.prevHardSt)) return true;
    if (r.log.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.log.unstableEntries().length > 0 || r.log.hasNextEnts()) return true;
    if (r.readStates.length > 0 || r.hasPendingReadRound()) return true;
    return false;
  }

  /** Everything to persist, send and apply since the last advance(). */
  ready(): Ready {
    const r = this.raft;
    r.flushReadIndex();
    const hs = r.hardState();
    const entries = r.log.unstableEntries().slice();
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries: r.log.nextEnts(),
      messages: r.msgs,
      mustSync: entries.length > 0 || hs.term !== this.prevHardSt.term || hs.vote !== this.prevHardSt.vote,
    };
    const ss = r.softState();
    if (ss.lead !== this.prevSoftSt.lead || ss.state !== this.prevSoftSt.state) {
      rd.softState = ss;
      this.prevSoftSt = ss;
    }
    if (!hardStateEqual(hs, this.prevHardSt)) rd.hardState = hs;
    const snap = r.log.unstable.snapshot;
    if (snap) {
      rd.snapshot = snap;
      // A snapshot replaces the log: it must be durable before we acknowledge it.
      rd.mustSync = true;
    }
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** rd was persisted, its messages sent and its committed entries (or snapshot) applied. */
  advance(rd: Ready): void {
    if (rd.hardState) this.prevHardSt = rd.hardState;
    const r = this.raft;
    const n = rd.committedEntries.length;
    const applied = n > 0 ? rd.committedEntries[n - 1]!.index : rd.snapshot ? rd.snapshot.metadata.index : 0;
    if (applied > 0) r.appliedTo(applied);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.log.stableTo(last.index, last.term);
    }
    if (rd.snapshot) r.log.stableSnapTo(rd.snapshot.metadata.index);
  }

  status(): Status {
    const r = this.raft;
    const progress: Record<NodeId, ProgressView> = {};
    if (r.state === "StateLeader") r.prs.visit((id, pr) => (progress[id] = pr.view()));
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      progress,
      leadTransferee: r.leadTransferee,
    };
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
