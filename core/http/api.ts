// What the HTTP layer needs from a member. The member (core/server) implements it; tests can
// implement it with a bare store.
import type { Store } from "../store/store.ts";
import type { StoreCommand, StoreEvent } from "../store/types.ts";

export interface MemberInfo {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

export interface SelfStats {
  name: string;
  id: string;
  state: string;
  startTime: string;
  leaderInfo: { leader: string; uptime: string; startTime: string };
  recvAppendRequestCnt: number;
  sendAppendRequestCnt: number;
  recvPkgRate?: number;
  recvBandwidthRate?: number;
  sendPkgRate?: number;
  sendBandwidthRate?: number;
}

/** Result of a membership change request, in /v2/members terms. */
export type MemberChangeError =
  | { kind: "exists"; message: string } // 409
  | { kind: "notFound"; id: string } // 404
  | { kind: "removed"; id: string } // 410
  | { kind: "internal"; message: string }; // 500

export interface MemberApi {
  readonly store: Store;
  readonly clusterId: string;
  readonly memberId: string;
  readonly name: string;
  /** Raft committed index and current term, for X-Raft-Index / X-Raft-Term. */
  raftIndex(): number;
  raftTerm(): number;
  /** Put a write (or quorum get) through the log; rejects with EtcdError (store errors, or 300). */
  propose(cmd: StoreCommand): Promise<StoreEvent>;
  /** Wall clock of this member, ms. */
  now(): number;
  members(): MemberInfo[];
  /** The leader's ID as this member knows it, or "" during an election. */
  leaderId(): string;
  selfStats(): SelfStats;
  /** /v2/stats/leader body, or null when this member is not the leader. */
  leaderStats(): object | null;
  /** Healthy: a leader exists and a quorum read completes in time. */
  health(): Promise<boolean>;
  addMember(peerURLs: string[]): Promise<MemberInfo | MemberChangeError>;
  removeMember(id: string): Promise<MemberChangeError | null>;
  updateMember(id: string, peerURLs: string[]): Promise<MemberChangeError | null>;
  /** Where the HTTP layer reports failures it answers with a bare 500. */
  readonly log?: { warn(msg: string): void };
  /** "3.4.0" once decided, else "not_decided". */
  clusterVersion(): string;
}
