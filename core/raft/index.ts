// Public API of the pure Raft module.
export { RawNode, ProposalDroppedError, StepLocalMessageError } from "./raw-node.ts";
export {
  MemoryStorage,
  CompactedError,
  UnavailableError,
  SnapshotOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  emptySnapshot,
  isEmptySnapshot,
} from "./storage.ts";
export { encodeConfChange, decodeConfChange } from "./conf-change.ts";
export { bootstrapEntries } from "./bootstrap.ts";
export { isLocalMsg, isResponseMsg } from "./util.ts";
export { NONE } from "./types.ts";
export type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  MessageType,
  NodeId,
  ProgressView,
  RaftConfig,
  ReadState,
  Ready,
  Snapshot,
  SnapshotMetadata,
  SoftState,
  StateType,
  Status,
  Storage,
} from "./types.ts";
