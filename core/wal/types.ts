// What the write-ahead log stores, shaped for Raft.

export interface Entry {
  index: number;
  term: number;
  type: "normal" | "conf";
  data: Uint8Array;
}

export interface HardState {
  term: number;
  /** Member id in hex; "" means no vote. */
  vote: string;
  commit: number;
}

export interface SnapshotRef {
  index: number;
  term: number;
}
