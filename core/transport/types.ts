// The transport's public options and tuning, and the context its parts share.
import type { Message, MessageType } from "../raft/types.ts";
import type { Runtime } from "../runtime.ts";

export interface TransportOptions {
  rt: Runtime;
  /** This member's id (hex). */
  memberId: string;
  /** The cluster id (hex). */
  clusterId: string;
  /** A Raft message from a peer (already identity-checked). */
  receive(m: Message): void;
  /** IDs removed from the cluster: their messages are refused (HTTP 410) and logged. */
  isRemoved(id: string): boolean;
  /** The peer could not be reached (a send failed, a stream dropped); rate-limited per peer. */
  onUnreachable?(id: string): void;
  /** A snapshot send finished (ok) or failed. */
  onSnapshotStatus?(id: string, ok: boolean): void;
  /** A message to a peer was delivered (written to its stream, or its POST answered 2xx) or dropped. */
  onSent?(id: string, ok: boolean): void;
  /**
   * A peer answered 410 Gone: it considers this member removed from the cluster (etcd stops
   * the member then: "the member has been permanently removed from the cluster"). Called once.
   */
  onRemovedSelf?(byPeer: string): void;
  /**
   * This member's advertised peer URLs, sent with every request (X-PeerURLs) so that a member
   * that does not know this one yet (it has not applied the change that added it) can still
   * answer it, as etcd's "remotes" do.
   */
  peerURLs?: string[];
  /** Timing and size limits; defaults in DEFAULT_TUNING. */
  tuning?: Partial<TransportTuning>;
}

export interface TransportTuning {
  /** The stream writer sends a zero-length frame after this long without writing. */
  keepaliveMs: number;
  /** The stream reader drops a stream (or a dial) silent for this long. */
  deadMs: number;
  /** The stream writer drops a stream whose consumer has not read for this long. */
  writerStallMs: number;
  /** Stream redial backoff, doubling from min to max. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** Per peer, per queue (stream, pipeline): beyond either bound a message is dropped. */
  queueMessages: number;
  queueBytes: number;
  /** Encoded messages larger than this go by POST /raft even when the stream is up. */
  streamMessageMaxBytes: number;
  /** Largest message (stream frame or POST /raft body) sent or accepted. */
  maxMessageBytes: number;
  /** Largest POST /raft/snapshot body sent or accepted. */
  maxSnapshotBytes: number;
  /** POST /raft requests in flight per peer. */
  pipelineConcurrency: number;
  /** One POST /raft carries at most this many messages / bytes (but always one). */
  pipelineBatchMessages: number;
  pipelineBatchBytes: number;
  /** Timeout of one POST /raft, plus 1 s per `minBytesPerSecond` of body. */
  requestTimeoutMs: number;
  /** Timeout of one snapshot POST, plus 1 s per `minBytesPerSecond` of body. */
  snapshotTimeoutMs: number;
  minBytesPerSecond: number;
  /** The stream writer writes chunks of at most this many bytes (but always one frame). */
  chunkBytes: number;
  /** onUnreachable at most once per this interval per peer. */
  unreachableIntervalMs: number;
  /** Each kind of warning is logged at most once per this interval (per peer). */
  logIntervalMs: number;
  /** Inbound POST bodies being read at once (pipeline, snapshot); beyond: 503. */
  inboundPipelineRequests: number;
  inboundSnapshotRequests: number;
}

export const DEFAULT_TUNING: TransportTuning = {
  keepaliveMs: 1000,
  deadMs: 3000,
  writerStallMs: 5000,
  backoffMinMs: 100,
  backoffMaxMs: 1000,
  queueMessages: 4096,
  queueBytes: 64 * 1024 * 1024,
  streamMessageMaxBytes: 4 * 1024 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxSnapshotBytes: 1024 * 1024 * 1024,
  pipelineConcurrency: 4,
  pipelineBatchMessages: 256,
  pipelineBatchBytes: 1024 * 1024,
  requestTimeoutMs: 5000,
  snapshotTimeoutMs: 30000,
  minBytesPerSecond: 1024 * 1024,
  chunkBytes: 256 * 1024,
  unreachableIntervalMs: 100,
  logIntervalMs: 5000,
  inboundPipelineRequests: 16,
  inboundSnapshotRequests: 4,
};

/** The version this transport announces (X-Server-Version). */
export const SERVER_VERSION = "3.4.23";
export const MIN_CLUSTER_VERSION = "3.0.0";

export const HEADER = {
  clusterId: "X-Etcd-Cluster-ID",
  from: "X-Server-From",
  version: "X-Server-Version",
  minClusterVersion: "X-Min-Cluster-Version",
  to: "X-Raft-To",
  /** The sender's advertised peer URLs (comma-separated), for a receiver that does not know it yet. */
  peerURLs: "X-PeerURLs",
} as const;

export const PATH = {
  prefix: "/raft",
  pipeline: "/raft",
  snapshot: "/raft/snapshot",
  stream: "/raft/stream/",
  probing: "/raft/probing",
} as const;

export const CONTENT_TYPE_MSGPACK = "application/msgpack";
export const CONTENT_TYPE_STREAM = "application/octet-stream";

/** A message encoded once, queued for a peer. */
export interface Outgoing {
  type: MessageType;
  bytes: Uint8Array;
}
