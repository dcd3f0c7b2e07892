// The parsed member configuration handed to startMember. Names follow etcd's flags in
// camelCase; durations are milliseconds; URL lists are normalised strings, sorted.
import type { LogLevel } from "../runtime.ts";
import type { ClusterMember } from "./initial-cluster.ts";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  crlFile: string;
  clientCertAuth: boolean;
  autoTls: boolean;
  /** --client-cert-allowed-hostname / --peer-cert-allowed-hostname */
  allowedHostname: string;
  /** --peer-cert-allowed-cn (peer only; "" for the client side) */
  allowedCn: string;
}

export interface Config {
  // --- member
  name: string;
  /** --data-dir, or "<name>.etcd" when not given. */
  dataDir: string;
  /** --wal-dir; "" = <data-dir>/member/wal. */
  walDir: string;
  snapshotCount: number;
  /** --heartbeat-interval, ms (raft tick). */
  heartbeatInterval: number;
  /** --election-timeout, ms; >= 5 x heartbeat, <= 50000. */
  electionTimeout: number;
  initialElectionTickAdvance: boolean;
  /** Addresses to bind: each has an IP or "localhost" host (or is a unix socket URL). */
  listenPeerUrls: string[];
  listenClientUrls: string[];
  /** Extra listeners for /metrics and /health; empty = none. */
  listenMetricsUrls: string[];
  maxSnapshots: number;
  maxWals: number;
  quotaBackendBytes: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  maxConcurrentStreams: number;
  backendBatchIntervalMs: number;
  backendBatchLimit: number;
  grpcKeepAliveMinTimeMs: number;
  grpcKeepAliveIntervalMs: number;
  grpcKeepAliveTimeoutMs: number;

  // --- clustering
  initialAdvertisePeerUrls: string[];
  /** Published client URLs. Empty only for a proxy or a member that may fall back to one. */
  advertiseClientUrls: string[];
  /** Parsed --initial-cluster; empty when bootstrapping by discovery. */
  initialCluster: ClusterMember[];
  initialClusterState: "new" | "existing";
  initialClusterToken: string;
  discovery: string;
  discoveryFallback: "proxy" | "exit";
  discoveryProxy: string;
  discoverySrv: string;
  discoverySrvName: string;
  strictReconfigCheck: boolean;
  preVote: boolean;
  autoCompactionMode: "periodic" | "revision";
  /** --auto-compaction-retention as given ("0" = off). */
  autoCompactionRetention: string;
  /** The retention parsed: ms for periodic, a revision count for revision; 0 = off. */
  autoCompactionRetentionValue: number;
  /** etcd-ts serves v2 unless --enable-v2=false (etcd 3.4's default is false). */
  enableV2: boolean;
  enableGrpcGateway: boolean;

  // --- v2 proxy
  proxy: "off" | "on" | "readonly";
  proxyFailureWaitMs: number;
  proxyRefreshIntervalMs: number;
  proxyDialTimeoutMs: number;
  proxyWriteTimeoutMs: number;
  proxyReadTimeoutMs: number;

  // --- security
  clientTls: TlsFiles;
  peerTls: TlsFiles;
  cipherSuites: string[];
  /** Allowed CORS origins; ["*"] = all. */
  cors: string[];
  /** Allowed Host headers for non-TLS requests; ["*"] (or [""]) = all. */
  hostWhitelist: string[];

  // --- auth
  authToken: string;
  bcryptCost: number;
  authTokenTtl: number;

  // --- monitoring and logging
  enablePprof: boolean;
  metrics: string;
  logger: "capnslog" | "zap";
  /** "default" | "stderr" | "stdout" (| file paths or "systemd/journal" with zap). */
  logOutputs: string[];
  /** Effective level: --debug wins; etcd's panic/fatal/dpanic map to "error". */
  logLevel: LogLevel;
  debug: boolean;
  logPackageLevels: string;

  // --- experimental and unsafe
  experimentalInitialCorruptCheck: boolean;
  experimentalCorruptCheckTimeMs: number;
  experimentalEnableV2v3: string;
  experimentalBackendBboltFreelistType: string;
  experimentalEnableLeaseCheckpoint: boolean;
  experimentalEnableLeaseCheckpointPersist: boolean;
  experimentalCompactionBatchLimit: number;
  experimentalPeerSkipClientSanVerification: boolean;
  experimentalWatchProgressNotifyIntervalMs: number;
  experimentalWarningApplyDurationMs: number;
  forceNewCluster: boolean;
  unsafeNoFsync: boolean;

  // --- provenance
  /** The --config-file that was read ("" when the configuration came from flags and env). */
  configFile: string;
  /** Flags given explicitly (command line, ETCD_* variable or config file), sorted. */
  explicitFlags: string[];
}
