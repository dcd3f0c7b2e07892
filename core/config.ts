// etcd's member configuration: flags (Go flag syntax), ETCD_* environment variables, or a
// YAML --config-file, with etcd 3.4's defaults, precedence, checks, messages and exit codes.
// The pieces live in core/config/; this module runs them in etcd's order.
import { buildConfig, unsupportedWarnings } from "./config/build.ts";
import { applyEnv } from "./config/env.ts";
import { settingsFromFile } from "./config/file.ts";
import { flagDef } from "./config/flags.ts";
import { parseGoFlags } from "./config/goflag.ts";
import { goQuote, parseGoDuration } from "./config/goparse.ts";
import { usageLine, usageText, versionText, type HostInfo } from "./config/help.ts";
import { parseInitialCluster } from "./config/initial-cluster.ts";
import { ConfigSchema } from "./config/schema.ts";
import { FlagStore, type Settings } from "./config/store.ts";
import type { Config } from "./config/types.ts";
import { ERR_UNSET_ADVERTISE_CLIENT_URLS, list, setupLogging, str, validateMember } from "./config/validate.ts";

export type { Config, TlsFiles } from "./config/types.ts";
export type { ClusterMember } from "./config/initial-cluster.ts";
export type { HostInfo } from "./config/help.ts";
export { VERSION, ETCD_TS_VERSION, usageText, usageLine, versionText } from "./config/help.ts";
export { checkNewClusterBootstrap, formatInitialCluster, parseInitialCluster } from "./config/initial-cluster.ts";
export { FLAGS, flagToEnv } from "./config/flags.ts";

export type ParseResult =
  | {
      kind: "ok";
      config: Config;
      /** Lines to log at warn level (unknown ETCD_* variables, inert flags, defaults taken). */
      warnings: string[];
      /** Lines to log at info level (environment variables used, config file loaded). */
      info: string[];
    }
  | { kind: "help"; text: string }
  | { kind: "version"; text: string }
  | { kind: "error"; message: string; exitCode: number };

export interface ParseOptions {
  /** Reads --config-file (synchronously). Without it a config file cannot be used. */
  readTextFile?: (path: string) => string;
  /** Shown by --version in place of etcd's Go lines. */
  host?: HostInfo;
}

const DEFAULT_INITIAL_CLUSTER = flagDef("initial-cluster")!.default;

type Failure = Extract<ParseResult, { kind: "error" }>;

/** An error as etcd's main reports a configuration it rejects (exit status 1). */
function verifyError(msg: string): Failure {
  let message = `error verifying flags, ${msg}. See 'etcd --help'.`;
  if (msg === ERR_UNSET_ADVERTISE_CLIENT_URLS) {
    message += "\nWhen listening on specific address(es), this etcd process must advertise accessible url(s) to each connected client.";
  }
  return { kind: "error", message, exitCode: 1 };
}

const fatal = (message: string): Failure => ({ kind: "error", message, exitCode: 1 });

function readError(path: string, e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const name = (e as { name?: unknown } | null)?.name;
  if (code === "ENOENT" || name === "NotFound") return `open ${path}: no such file or directory`;
  if (code === "EACCES" || name === "PermissionDenied") return `open ${path}: permission denied`;
  if (code === "EISDIR" || name === "IsADirectory") return `read ${path}: is a directory`;
  return `open ${path}: ${e instanceof Error ? e.message : String(e)}`;
}

interface Loaded {
  settings: Settings;
  advertiseClientUrls: string[];
  warnings: string[];
  info: string[];
}

/** The config-file path: etcd reads the file and ignores every other flag and variable. */
function loadFromFile(path: string, opts: ParseOptions): Loaded | Failure {
  const info = [
    `Loading server configuration from ${goQuote(path)}. Other configuration command line flags and environment variables will be ignored if provided.`,
  ];
  if (!opts.readTextFile) return verifyError(`open ${path}: reading a config file is not available here`);
  let text: string;
  try {
    text = opts.readTextFile(path);
  } catch (e) {
    return verifyError(readError(path, e));
  }
  const r = settingsFromFile(text);
  if (!r.ok) return r.kind === "verify" ? verifyError(r.message) : { ...fatal(r.message), exitCode: r.kind === "panic" ? 2 : 1 };
  const s = r.settings;
  if ((str(s, "discovery") !== "" || str(s, "discovery-srv") !== "") && str(s, "initial-cluster") === DEFAULT_INITIAL_CLUSTER) {
    s.values.set("initial-cluster", "");
  }
  if (str(s, "initial-cluster-state") === "") s.values.set("initial-cluster-state", "new");
  const advertiseClientUrls = list(s, "advertise-client-urls");
  const err = checkLoggingAndMember(s, advertiseClientUrls);
  if (err) return err;
  // etcdmain reads these two after embed's checks, and treats a bad value as fatal.
  for (const [name, what] of [["discovery-fallback", "discovery-fallback flag"], ["proxy", "proxyFlag"]] as const) {
    const v = str(s, name);
    if (v === "") s.values.set(name, flagDef(name)!.default);
    else if (!flagDef(name)!.choices!.includes(v)) return fatal(`unexpected error setting up ${what}: invalid value`);
  }
  return { settings: s, advertiseClientUrls, warnings: r.warnings, info };
}

/** The command-line path: flags, then ETCD_* variables for the flags not given. */
function loadFromFlags(store: FlagStore, env: Readonly<Record<string, string | undefined>>): Loaded | Failure {
  const e = applyEnv(store, env);
  if (e.conflict) return fatal(e.conflict);
  if (e.invalid) return verifyError(e.invalid);
  const s = store.settings();
  const mayBeProxy = str(s, "proxy") !== "off" || (str(s, "discovery") !== "" && str(s, "discovery-fallback") === "proxy");
  // The default advertise-client-urls does not apply once listen-client-urls is given.
  const missingAdvertise = store.isSet("listen-client-urls") && !store.isSet("advertise-client-urls");
  const advertise = !mayBeProxy && missingAdvertise ? null : list(s, "advertise-client-urls");
  // Discovery replaces the default initial cluster.
  if ((str(s, "discovery") !== "" || str(s, "discovery-srv") !== "") && !store.isSet("initial-cluster")) {
    s.values.set("initial-cluster", "");
  }
  const err = checkLoggingAndMember(s, advertise);
  if (err) return err;
  return { settings: s, advertiseClientUrls: advertise ?? [], warnings: e.warnings, info: e.info };
}

function checkLoggingAndMember(s: Settings, advertise: readonly string[] | null): Failure | undefined {
  const logging = setupLogging(s);
  if (!logging.ok) return { ...verifyError(logging.error), exitCode: logging.exitCode };
  const err = validateMember(s, advertise);
  return err === undefined ? undefined : verifyError(err);
}

/**
 * Parses etcd's command line and environment (or the config file they name) into a Config.
 * `argv` excludes the program name. Never throws for bad input; never exits.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  opts: ParseOptions = {},
): ParseResult {
  const first = argv[0];
  if (first === "gateway" || first === "grpc-proxy") {
    return fatal(`etcd-ts does not implement "etcd ${first}"; it runs etcd members (and the v2 proxy) only`);
  }
  const store = new FlagStore();
  const flags = parseGoFlags(argv, store);
  if (flags.kind === "help") return { kind: "help", text: usageText };
  if (flags.kind === "error") return { kind: "error", message: `${flags.message}\n${usageLine}`, exitCode: 2 };
  if (flags.args.length > 0) return verifyError(`'${flags.args[0]}' is not a valid flag`);
  const cmdline = store.settings();
  if (cmdline.values.get("version") === true) return { kind: "version", text: versionText(opts.host) };

  const configFile = str(cmdline, "config-file") || env["ETCD_CONFIG_FILE"] || "";
  const loaded = configFile !== "" ? loadFromFile(configFile, opts) : loadFromFlags(store, env);
  if ("kind" in loaded) return loaded;
  const s = loaded.settings;
  const warnings = [...store.warnings, ...loaded.warnings];
  const info = loaded.info;

  const logging = setupLogging(s);
  if (!logging.ok) return verifyError(logging.error); // unreachable: checked above
  warnings.push(...logging.value.warnings);

  const name = str(s, "name");
  let dataDir = str(s, "data-dir");
  if (dataDir === "") {
    dataDir = `${name}.etcd`;
    warnings.push(`no data-dir provided, using default data-dir ./${dataDir}`);
  }

  // --name alone names the default one-member cluster after this member.
  let initialCluster = str(s, "initial-cluster");
  if (name !== "default" && initialCluster === DEFAULT_INITIAL_CLUSTER) {
    initialCluster = list(s, "initial-advertise-peer-urls")
      .map((u) => `${name || "default"}=${u}`)
      .join(",");
    s.values.set("initial-cluster", initialCluster);
  }
  const cluster = parseInitialCluster(initialCluster);
  if (!cluster.ok) return fatal(`error setting up initial cluster: ${cluster.error}`);

  const mode = str(s, "auto-compaction-mode") === "revision" ? "revision" : "periodic";
  const retention = parseRetention(mode, str(s, "auto-compaction-retention"));
  if (typeof retention === "string") return fatal(`error parsing CompactionRetention: ${retention}`);

  warnings.push(...unsupportedWarnings(s));
  const config = buildConfig(s, {
    dataDir,
    advertiseClientUrls: loaded.advertiseClientUrls,
    initialCluster: cluster.value,
    autoCompactionMode: mode,
    autoCompactionRetentionValue: retention,
    logging: logging.value,
    configFile,
  });
  const checked = ConfigSchema.safeParse(config);
  if (!checked.success) throw new Error(`config: built an invalid configuration: ${checked.error.message}`);
  return { kind: "ok", config: checked.data, warnings, info };
}

/**
 * --auto-compaction-retention: a non-negative integer is hours (periodic) or revisions
 * (revision); anything else must be a Go duration. Returns ms / revisions, or Go's error.
 */
function parseRetention(mode: "periodic" | "revision", v: string): number | string {
  if (/^[+-]?\d+$/.test(v) && Number(v) >= 0) return mode === "periodic" ? Number(v) * 3600_000 : Number(v);
  const d = parseGoDuration(v);
  if (!d.ok) return d.error;
  // etcd reads a duration as nanoseconds for revision mode; keep its count.
  return mode === "periodic" ? d.value : d.value * 1e6;
}
