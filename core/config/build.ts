// Settings (after etcd's checks) -> the typed Config, plus the warnings about flags etcd-ts
// accepts but does not act on.
import { FLAGS } from "./flags.ts";
import type { ClusterMember } from "./initial-cluster.ts";
import { defaultSettings, type FlagValue, type Settings } from "./store.ts";
import type { Config, TlsFiles } from "./types.ts";
import { urlParts } from "./urls.ts";
import { bool, list, num, str, type Logging } from "./validate.ts";

export interface Derived {
  dataDir: string;
  advertiseClientUrls: string[];
  initialCluster: ClusterMember[];
  autoCompactionMode: "periodic" | "revision";
  autoCompactionRetentionValue: number;
  logging: Logging;
  configFile: string;
}

function tlsFiles(s: Settings, side: "client" | "peer"): TlsFiles {
  const p = side === "peer" ? "peer-" : "";
  return {
    certFile: str(s, `${p}cert-file`),
    keyFile: str(s, `${p}key-file`),
    trustedCaFile: str(s, `${p}trusted-ca-file`),
    crlFile: str(s, side === "peer" ? "peer-crl-file" : "client-crl-file"),
    clientCertAuth: bool(s, `${p}client-cert-auth`),
    autoTls: bool(s, `${p}auto-tls`),
    allowedHostname: str(s, side === "peer" ? "peer-cert-allowed-hostname" : "client-cert-allowed-hostname"),
    allowedCn: side === "peer" ? str(s, "peer-cert-allowed-cn") : "",
  };
}

export function buildConfig(s: Settings, d: Derived): Config {
  return {
    name: str(s, "name"),
    dataDir: d.dataDir,
    walDir: str(s, "wal-dir"),
    snapshotCount: num(s, "snapshot-count"),
    heartbeatInterval: num(s, "heartbeat-interval"),
    electionTimeout: num(s, "election-timeout"),
    initialElectionTickAdvance: bool(s, "initial-election-tick-advance"),
    listenPeerUrls: list(s, "listen-peer-urls"),
    listenClientUrls: list(s, "listen-client-urls"),
    listenMetricsUrls: list(s, "listen-metrics-urls"),
    maxSnapshots: num(s, "max-snapshots"),
    maxWals: num(s, "max-wals"),
    quotaBackendBytes: num(s, "quota-backend-bytes"),
    maxTxnOps: num(s, "max-txn-ops"),
    maxRequestBytes: num(s, "max-request-bytes"),
    maxConcurrentStreams: num(s, "max-concurrent-streams"),
    backendBatchIntervalMs: num(s, "backend-batch-interval"),
    backendBatchLimit: num(s, "backend-batch-limit"),
    grpcKeepAliveMinTimeMs: num(s, "grpc-keepalive-min-time"),
    grpcKeepAliveIntervalMs: num(s, "grpc-keepalive-interval"),
    grpcKeepAliveTimeoutMs: num(s, "grpc-keepalive-timeout"),
    initialAdvertisePeerUrls: list(s, "initial-advertise-peer-urls"),
    advertiseClientUrls: d.advertiseClientUrls,
    initialCluster: d.initialCluster,
    initialClusterState: str(s, "initial-cluster-state") as Config["initialClusterState"],
    initialClusterToken: str(s, "initial-cluster-token"),
    discovery: str(s, "discovery"),
    discoveryFallback: str(s, "discovery-fallback") as Config["discoveryFallback"],
    discoveryProxy: str(s, "discovery-proxy"),
    discoverySrv: str(s, "discovery-srv"),
    discoverySrvName: str(s, "discovery-srv-name"),
    strictReconfigCheck: bool(s, "strict-reconfig-check"),
    preVote: bool(s, "pre-vote"),
    autoCompactionMode: d.autoCompactionMode,
    autoCompactionRetention: str(s, "auto-compaction-retention"),
    autoCompactionRetentionValue: d.autoCompactionRetentionValue,
    enableV2: bool(s, "enable-v2"),
    enableGrpcGateway: bool(s, "enable-grpc-gateway"),
    proxy: str(s, "proxy") as Config["proxy"],
    proxyFailureWaitMs: num(s, "proxy-failure-wait"),
    proxyRefreshIntervalMs: num(s, "proxy-refresh-interval"),
    proxyDialTimeoutMs: num(s, "proxy-dial-timeout"),
    proxyWriteTimeoutMs: num(s, "proxy-write-timeout"),
    proxyReadTimeoutMs: num(s, "proxy-read-timeout"),
    clientTls: tlsFiles(s, "client"),
    peerTls: tlsFiles(s, "peer"),
    cipherSuites: list(s, "cipher-suites"),
    cors: list(s, "cors"),
    hostWhitelist: list(s, "host-whitelist"),
    authToken: str(s, "auth-token"),
    bcryptCost: num(s, "bcrypt-cost"),
    authTokenTtl: num(s, "auth-token-ttl"),
    enablePprof: bool(s, "enable-pprof"),
    metrics: str(s, "metrics"),
    logger: d.logging.logger,
    logOutputs: d.logging.outputs,
    logLevel: d.logging.level,
    debug: bool(s, "debug"),
    logPackageLevels: str(s, "log-package-levels"),
    experimentalInitialCorruptCheck: bool(s, "experimental-initial-corrupt-check"),
    experimentalCorruptCheckTimeMs: num(s, "experimental-corrupt-check-time"),
    experimentalEnableV2v3: str(s, "experimental-enable-v2v3"),
    experimentalBackendBboltFreelistType: str(s, "experimental-backend-bbolt-freelist-type"),
    experimentalEnableLeaseCheckpoint: bool(s, "experimental-enable-lease-checkpoint"),
    experimentalEnableLeaseCheckpointPersist: bool(s, "experimental-enable-lease-checkpoint-persist"),
    experimentalCompactionBatchLimit: num(s, "experimental-compaction-batch-limit"),
    experimentalPeerSkipClientSanVerification: bool(s, "experimental-peer-skip-client-san-verification"),
    experimentalWatchProgressNotifyIntervalMs: num(s, "experimental-watch-progress-notify-interval"),
    experimentalWarningApplyDurationMs: num(s, "experimental-warning-apply-duration"),
    forceNewCluster: bool(s, "force-new-cluster"),
    unsafeNoFsync: bool(s, "unsafe-no-fsync"),
    configFile: d.configFile,
    explicitFlags: [...s.explicit].sort(),
  };
}

const same = (a: FlagValue | undefined, b: FlagValue | undefined): boolean =>
  Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((x, i) => x === b[i]) : a === b;

function show(v: FlagValue | undefined): string {
  return Array.isArray(v) ? JSON.stringify(v.join(",")) : typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** One line per accepted-but-inert flag whose value differs from its default, and per URL etcd-ts cannot serve. */
export function unsupportedWarnings(s: Settings): string[] {
  const defaults = defaultSettings();
  const out: string[] = [];
  for (const def of FLAGS) {
    if (!def.unsupported) continue;
    const v = s.values.get(def.name);
    if (same(v, defaults.values.get(def.name))) continue;
    out.push(`--${def.name}=${show(v)} has no effect: ${def.unsupported}`);
  }
  for (const name of ["listen-client-urls", "listen-peer-urls", "listen-metrics-urls"]) {
    for (const url of list(s, name)) {
      const { scheme } = urlParts(url);
      if (scheme === "https" || scheme === "unixs") out.push(`--${name} ${url} needs TLS, which etcd-ts does not support yet`);
      if (scheme === "unix" || scheme === "unixs") out.push(`--${name} ${url}: unix socket listeners are not supported by etcd-ts yet`);
    }
  }
  return out;
}
