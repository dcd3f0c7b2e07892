// The table of etcd 3.4's member flags: name, value kind, default, help section and text, and
// whether etcd-ts acts on it. The command-line parser, the ETCD_* environment, the config
// file reader and --help are all driven by this one table.

/**
 * How a flag's value is read (mirrors the Go flag.Value type etcd uses):
 * urls: comma-separated URL list (flags.UniqueURLs); cors: the same but "*" allowed;
 * uniqueStrings: comma-separated set (flags.UniqueStringsValue); strings: comma list;
 * choice: one of `choices`; uint32: etcd's own base-10 parser; ignored: pre-v3 flags that
 * only log that they are no longer supported.
 */
export type FlagKind =
  | "string"
  | "bool"
  | "uint"
  | "uint64"
  | "int"
  | "int64"
  | "uint32"
  | "duration"
  | "urls"
  | "cors"
  | "choice"
  | "uniqueStrings"
  | "strings"
  | "ignored";

export type Section =
  | "Member"
  | "Clustering"
  | "Security"
  | "Auth"
  | "Profiling and Monitoring"
  | "Logging"
  | "v2 Proxy (to be deprecated in v4)"
  | "Experimental feature"
  | "Unsafe feature"
  | "TO BE DEPRECATED"
  | "hidden";

export interface FlagDef {
  readonly name: string;
  readonly kind: FlagKind;
  /** The default, written as a command-line value. */
  readonly default: string;
  /** The default as --help shows it, when that differs. */
  readonly shownDefault?: string;
  readonly section: Section;
  readonly help: string;
  readonly choices?: readonly string[];
  /** Values a URL list accepts without parsing them (etcd's "exceptions"). */
  readonly exceptions?: readonly string[];
  /** Set when etcd-ts accepts the flag but does not act on it yet: the reason, for the warning. */
  readonly unsupported?: string;
  /**
   * Where the value sits in a --config-file: by default at the flag's own name, typed after
   * its kind; a path for the TLS blocks; null when the file cannot set it.
   */
  readonly fileKey?: readonly string[] | null;
  /** The config-file type when it differs from the flag's (lists are YAML sequences there). */
  readonly fileType?: "stringList";
}

const TLS = "TLS is not supported by etcd-ts yet";
const AUTH = "v3 authentication is not supported by etcd-ts yet";
const GRPC = "etcd-ts serves no gRPC (only HTTP)";
const BACKEND = "etcd-ts has no bbolt backend";
const NOEFFECT = "etcd-ts does not implement it";

const f = (def: FlagDef): FlagDef => def;

export const FLAGS: readonly FlagDef[] = [
  // Member
  f({ name: "name", kind: "string", default: "default", section: "Member", help: "Human-readable name for this member." }),
  f({ name: "data-dir", kind: "string", default: "", shownDefault: "${name}.etcd", section: "Member", help: "Path to the data directory." }),
  f({ name: "wal-dir", kind: "string", default: "", section: "Member", help: "Path to the dedicated wal directory." }),
  f({ name: "snapshot-count", kind: "uint64", default: "100000", section: "Member", help: "Number of committed transactions to trigger a snapshot to disk." }),
  f({ name: "heartbeat-interval", kind: "uint", default: "100", section: "Member", help: "Time (in milliseconds) of a heartbeat interval." }),
  f({ name: "election-timeout", kind: "uint", default: "1000", section: "Member", help: "Time (in milliseconds) for an election to timeout. See tuning documentation for details." }),
  f({ name: "initial-election-tick-advance", kind: "bool", default: "true", section: "Member", help: "Whether to fast-forward initial election ticks on boot for faster election." }),
  f({ name: "listen-peer-urls", kind: "urls", default: "http://localhost:2380", exceptions: [""], section: "Member", help: "List of URLs to listen on for peer traffic." }),
  f({ name: "listen-client-urls", kind: "urls", default: "http://localhost:2379", exceptions: [""], section: "Member", help: "List of URLs to listen on for client traffic." }),
  f({ name: "max-snapshots", kind: "uint", default: "5", section: "Member", help: "Maximum number of snapshot files to retain (0 is unlimited)." }),
  f({ name: "max-wals", kind: "uint", default: "5", section: "Member", help: "Maximum number of wal files to retain (0 is unlimited)." }),
  f({ name: "quota-backend-bytes", kind: "int64", default: "0", section: "Member", help: "Raise alarms when backend size exceeds the given quota (0 defaults to low space quota)." }),
  f({ name: "backend-batch-interval", kind: "duration", default: "0", shownDefault: "", section: "Member", unsupported: BACKEND, help: "BackendBatchInterval is the maximum time before commit the backend transaction." }),
  f({ name: "backend-batch-limit", kind: "int", default: "0", section: "Member", unsupported: BACKEND, help: "BackendBatchLimit is the maximum operations before commit the backend transaction." }),
  f({ name: "max-txn-ops", kind: "uint", default: "128", section: "Member", help: "Maximum number of operations permitted in a transaction." }),
  f({ name: "max-request-bytes", kind: "uint", default: "1572864", section: "Member", help: "Maximum client request size in bytes the server will accept." }),
  f({ name: "max-concurrent-streams", kind: "uint32", default: "4294967295", shownDefault: "math.MaxUint32", section: "Member", unsupported: GRPC, help: "Maximum concurrent streams that each client can open at a time." }),
  f({ name: "grpc-keepalive-min-time", kind: "duration", default: "5s", section: "Member", unsupported: GRPC, help: "Minimum duration interval that a client should wait before pinging server." }),
  f({ name: "grpc-keepalive-interval", kind: "duration", default: "2h", section: "Member", unsupported: GRPC, help: "Frequency duration of server-to-client ping to check if a connection is alive (0 to disable)." }),
  f({ name: "grpc-keepalive-timeout", kind: "duration", default: "20s", section: "Member", unsupported: GRPC, help: "Additional duration of wait before closing a non-responsive connection (0 to disable)." }),

  // Clustering
  f({ name: "initial-advertise-peer-urls", kind: "urls", default: "http://localhost:2380", exceptions: [""], section: "Clustering", help: "List of this member's peer URLs to advertise to the rest of the cluster." }),
  f({ name: "initial-cluster", kind: "string", default: "default=http://localhost:2380", section: "Clustering", help: "Initial cluster configuration for bootstrapping." }),
  f({ name: "initial-cluster-state", kind: "choice", choices: ["new", "existing"], default: "new", section: "Clustering", help: "Initial cluster state ('new' or 'existing')." }),
  f({ name: "initial-cluster-token", kind: "string", default: "etcd-cluster", section: "Clustering", help: "Initial cluster token for the etcd cluster during bootstrap.\nSpecifying this can protect you from unintended cross-cluster interaction when running multiple clusters." }),
  f({ name: "advertise-client-urls", kind: "urls", default: "http://localhost:2379", exceptions: [""], section: "Clustering", help: "List of this member's client URLs to advertise to the public.\nThe client URLs advertised should be accessible to machines that talk to etcd cluster. etcd client libraries parse these URLs to connect to the cluster." }),
  f({ name: "discovery", kind: "string", default: "", section: "Clustering", help: "Discovery URL used to bootstrap the cluster." }),
  f({ name: "discovery-fallback", kind: "choice", choices: ["proxy", "exit"], default: "proxy", section: "Clustering", help: "Expected behavior ('exit' or 'proxy') when discovery services fails.\n\"proxy\" supports v2 API only." }),
  f({ name: "discovery-proxy", kind: "string", default: "", section: "Clustering", unsupported: "etcd-ts reaches the discovery service directly", help: "HTTP proxy to use for traffic to discovery service." }),
  f({ name: "discovery-srv", kind: "string", default: "", section: "Clustering", help: "DNS srv domain used to bootstrap the cluster." }),
  f({ name: "discovery-srv-name", kind: "string", default: "", section: "Clustering", help: "Suffix to the dns srv name queried when bootstrapping." }),
  f({ name: "strict-reconfig-check", kind: "bool", default: "true", section: "Clustering", help: "Reject reconfiguration requests that would cause quorum loss." }),
  f({ name: "pre-vote", kind: "bool", default: "false", section: "Clustering", help: "Enable to run an additional Raft election phase." }),
  f({ name: "auto-compaction-retention", kind: "string", default: "0", section: "Clustering", help: "Auto compaction retention length. 0 means disable auto compaction." }),
  f({ name: "auto-compaction-mode", kind: "string", default: "periodic", section: "Clustering", help: "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention." }),
  f({ name: "enable-v2", kind: "bool", default: "true", section: "Clustering", help: "Accept etcd V2 client requests. (etcd-ts: on by default.)" }),
  f({ name: "enable-grpc-gateway", kind: "bool", default: "true", section: "Clustering", help: "Enable GRPC gateway (the /v3 JSON API)." }),

  // Security
  f({ name: "cert-file", kind: "string", default: "", section: "Security", unsupported: TLS, fileKey: ["client-transport-security", "cert-file"], help: "Path to the client server TLS cert file." }),
  f({ name: "key-file", kind: "string", default: "", section: "Security", unsupported: TLS, fileKey: ["client-transport-security", "key-file"], help: "Path to the client server TLS key file." }),
  f({ name: "client-cert-auth", kind: "bool", default: "false", section: "Security", unsupported: TLS, fileKey: ["client-transport-security", "client-cert-auth"], help: "Enable client cert authentication." }),
  f({ name: "client-crl-file", kind: "string", default: "", section: "Security", unsupported: TLS, help: "Path to the client certificate revocation list file." }),
  f({ name: "client-cert-allowed-hostname", kind: "string", default: "", section: "Security", unsupported: TLS, help: "Allowed TLS hostname for client cert authentication." }),
  f({ name: "trusted-ca-file", kind: "string", default: "", section: "Security", unsupported: TLS, fileKey: ["client-transport-security", "trusted-ca-file"], help: "Path to the client server TLS trusted CA cert file." }),
  f({ name: "auto-tls", kind: "bool", default: "false", section: "Security", unsupported: TLS, fileKey: ["client-transport-security", "auto-tls"], help: "Client TLS using generated certificates." }),
  f({ name: "peer-cert-file", kind: "string", default: "", section: "Security", unsupported: TLS, fileKey: ["peer-transport-security", "cert-file"], help: "Path to the peer server TLS cert file." }),
  f({ name: "peer-key-file", kind: "string", default: "", section: "Security", unsupported: TLS, fileKey: ["peer-transport-security", "key-file"], help: "Path to the peer server TLS key file." }),
  f({ name: "peer-client-cert-auth", kind: "bool", default: "false", section: "Security", unsupported: TLS, fileKey: ["peer-transport-security", "client-cert-auth"], help: "Enable peer client cert authentication." }),
  f({ name: "peer-trusted-ca-file", kind: "string", default: "", section: "Security", unsupported: TLS, fileKey: ["peer-transport-security", "trusted-ca-file"], help: "Path to the peer server TLS trusted CA file." }),
  f({ name: "peer-cert-allowed-cn", kind: "string", default: "", section: "Security", unsupported: TLS, help: "Required CN for client certs connecting to the peer endpoint." }),
  f({ name: "peer-cert-allowed-hostname", kind: "string", default: "", section: "Security", unsupported: TLS, help: "Allowed TLS hostname for inter peer authentication." }),
  f({ name: "peer-auto-tls", kind: "bool", default: "false", section: "Security", unsupported: TLS, fileKey: ["peer-transport-security", "auto-tls"], help: "Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided." }),
  f({ name: "peer-crl-file", kind: "string", default: "", section: "Security", unsupported: TLS, help: "Path to the peer certificate revocation list file." }),
  f({ name: "cipher-suites", kind: "strings", default: "", section: "Security", unsupported: TLS, fileType: "stringList", help: "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go)." }),
  f({ name: "cors", kind: "cors", default: "*", exceptions: ["*"], section: "Security", help: "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all)." }),
  f({ name: "host-whitelist", kind: "uniqueStrings", default: "*", section: "Security", help: "Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all)." }),

  // Auth
  f({ name: "auth-token", kind: "string", default: "simple", section: "Auth", unsupported: AUTH, help: "Specify a v3 authentication token type and its options ('simple' or 'jwt')." }),
  f({ name: "bcrypt-cost", kind: "uint", default: "10", section: "Auth", unsupported: AUTH, help: "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31." }),
  f({ name: "auth-token-ttl", kind: "uint", default: "300", section: "Auth", unsupported: AUTH, help: "Time (in seconds) of the auth-token-ttl." }),

  // Profiling and Monitoring
  f({ name: "enable-pprof", kind: "bool", default: "false", section: "Profiling and Monitoring", unsupported: "there is no Go profiler", help: "Enable runtime profiling data via HTTP server. Address is at client URL + \"/debug/pprof/\"" }),
  f({ name: "metrics", kind: "string", default: "basic", section: "Profiling and Monitoring", unsupported: "etcd-ts exports basic metrics only", help: "Set level of detail for exported metrics, specify 'extensive' to include histogram metrics." }),
  f({ name: "listen-metrics-urls", kind: "urls", default: "", exceptions: [""], section: "Profiling and Monitoring", help: "List of URLs to listen on for the metrics and health endpoints." }),

  // Logging
  f({ name: "logger", kind: "string", default: "capnslog", section: "Logging", help: "Specify 'zap' for structured logging or 'capnslog'. (etcd-ts writes capnslog-style lines with either.)" }),
  f({ name: "log-outputs", kind: "uniqueStrings", default: "default", section: "Logging", fileType: "stringList", help: "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets." }),
  f({ name: "log-level", kind: "string", default: "info", section: "Logging", help: "Configures log level. Only supports debug, info, warn, error, panic, or fatal." }),

  // v2 proxy
  f({ name: "proxy", kind: "choice", choices: ["off", "readonly", "on"], default: "off", section: "v2 Proxy (to be deprecated in v4)", help: "Proxy mode setting ('off', 'readonly' or 'on')." }),
  f({ name: "proxy-failure-wait", kind: "uint", default: "5000", section: "v2 Proxy (to be deprecated in v4)", help: "Time (in milliseconds) an endpoint will be held in a failed state." }),
  f({ name: "proxy-refresh-interval", kind: "uint", default: "30000", section: "v2 Proxy (to be deprecated in v4)", help: "Time (in milliseconds) of the endpoints refresh interval." }),
  f({ name: "proxy-dial-timeout", kind: "uint", default: "1000", section: "v2 Proxy (to be deprecated in v4)", help: "Time (in milliseconds) for a dial to timeout." }),
  f({ name: "proxy-write-timeout", kind: "uint", default: "5000", section: "v2 Proxy (to be deprecated in v4)", help: "Time (in milliseconds) for a write to timeout." }),
  f({ name: "proxy-read-timeout", kind: "uint", default: "0", section: "v2 Proxy (to be deprecated in v4)", help: "Time (in milliseconds) for a read to timeout." }),

  // Experimental
  f({ name: "experimental-initial-corrupt-check", kind: "bool", default: "false", section: "Experimental feature", unsupported: NOEFFECT, help: "Enable to check data corruption before serving any client/peer traffic." }),
  f({ name: "experimental-corrupt-check-time", kind: "duration", default: "0s", section: "Experimental feature", unsupported: NOEFFECT, help: "Duration of time between cluster corruption check passes." }),
  f({ name: "experimental-enable-v2v3", kind: "string", default: "", section: "Experimental feature", unsupported: NOEFFECT, help: "Serve v2 requests through the v3 backend under a given prefix." }),
  f({ name: "experimental-backend-bbolt-freelist-type", kind: "string", default: "array", section: "Experimental feature", unsupported: BACKEND, help: "ExperimentalBackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types)." }),
  f({ name: "experimental-enable-lease-checkpoint", kind: "bool", default: "false", section: "Experimental feature", unsupported: NOEFFECT, help: "ExperimentalEnableLeaseCheckpoint enables primary lessor to persist lease remainingTTL to prevent indefinite auto-renewal of long lived leases." }),
  f({ name: "experimental-enable-lease-checkpoint-persist", kind: "bool", default: "false", section: "Experimental feature", unsupported: NOEFFECT, help: "Enable persisting remainingTTL to prevent indefinite auto-renewal of long lived leases." }),
  f({ name: "experimental-compaction-batch-limit", kind: "int", default: "1000", section: "Experimental feature", unsupported: NOEFFECT, help: "ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch." }),
  f({ name: "experimental-peer-skip-client-san-verification", kind: "bool", default: "false", section: "Experimental feature", unsupported: TLS, help: "Skip verification of SAN field in client certificate for peer connections." }),
  f({ name: "experimental-watch-progress-notify-interval", kind: "duration", default: "10m", section: "Experimental feature", help: "Duration of periodical watch progress notification." }),
  f({ name: "experimental-warning-apply-duration", kind: "duration", default: "100ms", section: "Experimental feature", unsupported: NOEFFECT, help: "Warning is generated if requests take more than this duration." }),

  // Unsafe
  f({ name: "force-new-cluster", kind: "bool", default: "false", section: "Unsafe feature", help: "Force to create a new one-member cluster." }),
  f({ name: "unsafe-no-fsync", kind: "bool", default: "false", section: "Unsafe feature", unsupported: "etcd-ts always syncs its WAL", help: "Disables fsync, unsafe, will cause data loss." }),

  // Deprecated
  f({ name: "debug", kind: "bool", default: "false", section: "TO BE DEPRECATED", help: "Enable debug-level logging for etcd. [WARN] Will be deprecated in v3.5. Use '--log-level=debug' instead." }),
  f({ name: "log-package-levels", kind: "string", default: "", section: "TO BE DEPRECATED", unsupported: NOEFFECT, help: "Specify a particular log level for each etcd package (eg: 'etcdmain=CRITICAL,etcdserver=DEBUG')." }),
  f({ name: "log-output", kind: "uniqueStrings", default: "default", section: "hidden", fileType: "stringList", help: "[DEPRECATED] Use --log-outputs." }),

  // Not listed by --help
  f({ name: "config-file", kind: "string", default: "", section: "hidden", fileKey: null, help: "Path to the server configuration file." }),
  f({ name: "version", kind: "bool", default: "false", section: "hidden", fileKey: null, help: "Print the version and exit." }),
  // Flags of etcd 0.4/2.x that etcd 3.4 still accepts, only to log that it ignores them.
  ...[
    "cluster-active-size",
    "cluster-remove-delay",
    "cluster-sync-interval",
    "config",
    "force",
    "max-result-buffer",
    "max-retry-attempts",
    "peer-heartbeat-interval",
    "peer-election-timeout",
    "retry-interval",
    "snapshot",
    "v",
    "vv",
  ].map((name) => f({ name, kind: "ignored", default: "", section: "hidden", fileKey: null, help: "" })),
];

const byName = new Map(FLAGS.map((d) => [d.name, d]));

export function flagDef(name: string): FlagDef | undefined {
  return byName.get(name);
}

/** pkg/flags.FlagToEnv: --foo-bar is ETCD_FOO_BAR. */
export function flagToEnv(name: string): string {
  return "ETCD_" + name.toUpperCase().replace(/-/g, "_");
}

/** Flags that take no value on the command line (Go's boolFlag). */
export function isBoolKind(kind: FlagKind): boolean {
  return kind === "bool" || kind === "ignored";
}
