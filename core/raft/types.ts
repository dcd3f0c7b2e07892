// Shapes of the pure Raft module (core/raft/). No I/O, no timers, no clock: the caller feeds
// ticks and messages in, and takes Ready batches out (what to persist, send and apply).
// Member IDs are lower-case hex strings (uint64 without padding), as everywhere in etcd-ts.
import type { Entry, HardState } from "../wal/types.ts";

export type { Entry, HardState };

export type NodeId = string;
/** No node (no leader, no vote). */
export const NONE: NodeId = "";

export type StateType = "StateFollower" | "StateCandidate" | "StateLeader" | "StatePreCandidate";

export type MessageType =
  // local only (never sent over the network)
  | "MsgHup" // start an election
  | "MsgBeat" // leader: send heartbeats
  | "MsgUnreachable" // transport: the peer could not be reached
  | "MsgSnapStatus" // transport: snapshot sent (reject = failed)
  | "MsgCheckQuorum"
  // between members
  | "MsgProp" // a proposal forwarded to the leader
  | "MsgApp"
  | "MsgAppResp"
  | "MsgVote"
  | "MsgVoteResp"
  | "MsgPreVote"
  | "MsgPreVoteResp"
  | "MsgSnap"
  | "MsgHeartbeat"
  | "MsgHeartbeatResp"
  | "MsgTransferLeader"
  | "MsgTimeoutNow"
  | "MsgReadIndex"
  | "MsgReadIndexResp";

export interface ConfState {
  voters: NodeId[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  /** The application's state at metadata.index (opaque to Raft). */
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** Term of the entry at `index` (MsgApp: of the entry preceding `entries`). */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  /** Opaque context (ReadIndex request id, campaign kind for transfers). */
  context?: Uint8Array;
}

/** A membership change, one voter at a time. */
export interface ConfChange {
  type: "addNode" | "removeNode" | "updateNode";
  nodeId: NodeId;
  /** Opaque to Raft (the member's peer URLs, encoded by the server). */
  context?: Uint8Array;
}

export interface SoftState {
  lead: NodeId;
  state: StateType;
}

/** A linearizable read is safe once the state machine has applied `index`. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

export interface Ready {
  /** Present when leader or role changed since the last Ready. */
  softState?: SoftState;
  /** Present when it changed; must be persisted (with `entries`) before `messages` are sent. */
  hardState?: HardState;
  readStates: ReadState[];
  /** New entries to append to stable storage before sending messages. */
  entries: Entry[];
  /** A snapshot to persist and apply (received from the leader). */
  snapshot?: Snapshot;
  /** Committed entries to apply, in order (already persisted). */
  committedEntries: Entry[];
  /** Messages to send after `entries` and `hardState` are durable. */
  messages: Message[];
  /** Whether hardState/entries must be fsynced (false when only commit moved). */
  mustSync: boolean;
}

/** Stable log storage as Raft reads it (entries persisted by the caller). */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most maxSize bytes of data but always at least one. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** Term of entry i; throws CompactedError / UnavailableError. */
  term(i: number): number;
  lastIndex(): number;
  firstIndex(): number;
  snapshot(): Snapshot;
}

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before an election (randomized in [n, 2n)). */
  electionTick: number;
  heartbeatTick: number;
  storage: Storage;
  /** Last applied index (on restart). */
  applied: number;
  /** Largest total entry data of one MsgApp. */
  maxSizePerMsg: number;
  /** Unacknowledged MsgApp per follower while replicating (pipelining window). */
  maxInflightMsgs: number;
  checkQuorum: boolean;
  preVote: boolean;
  /** Uniform in [0, 1): used only for the randomized election timeout (seeded in simulation). */
  random: () => number;
  logger?: { debug(msg: string): void; info(msg: string): void; warn(msg: string): void };
  /** Largest total entry data in one Ready's committedEntries (default: maxSizePerMsg; at least one entry). */
  maxCommittedSizePerReady?: number;
  /**
   * TEST ONLY — never set in production. Lets a leader commit entries of earlier terms by counting
   * replicas (the classic Raft bug, Figure 8 of the paper), so that simulations can prove they catch it.
   */
  unsafeCommitOldTerms?: boolean;
}

/** Progress of a follower as the leader tracks it (for /v2/stats/leader and tests). */
export interface ProgressView {
  match: number;
  next: number;
  state: "probe" | "replicate" | "snapshot";
  recentActive: boolean;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  /** Leader only. */
  progress: Record<NodeId, ProgressView>;
  leadTransferee: NodeId;
}
