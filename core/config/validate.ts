// etcd's checks of a complete configuration (embed.Config.Validate and setupLogging), in
// etcd's order, with etcd's messages. The callers wrap a failure as etcd prints it.
import type { LogLevel } from "../runtime.ts";
import { goQuote, goQuoteList } from "./goparse.ts";
import type { Settings } from "./store.ts";
import { checkBindUrls, checkHostUrls } from "./urls.ts";

/** Typed reads of settings (a wrong type is a bug in this module, not a user error). */
export function str(s: Settings, name: string): string {
  const v = s.values.get(name);
  if (typeof v !== "string") throw new Error(`config: ${name} is not a string`);
  return v;
}
export function num(s: Settings, name: string): number {
  const v = s.values.get(name);
  if (typeof v !== "number") throw new Error(`config: ${name} is not a number`);
  return v;
}
export function bool(s: Settings, name: string): boolean {
  const v = s.values.get(name);
  if (typeof v !== "boolean") throw new Error(`config: ${name} is not a boolean`);
  return v;
}
export function list(s: Settings, name: string): string[] {
  const v = s.values.get(name);
  if (!Array.isArray(v)) throw new Error(`config: ${name} is not a list`);
  return [...(v as readonly string[])];
}

export interface Logging {
  logger: "capnslog" | "zap";
  outputs: string[];
  level: LogLevel;
  warnings: string[];
}

export type LoggingResult = { ok: true; value: Logging } | { ok: false; error: string; exitCode: number };

const LEVELS: Record<string, LogLevel> = {
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  dpanic: "error",
  panic: "error",
  fatal: "error",
};

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** embed.Config.setupLogging: --logger, --log-outputs (and the deprecated --log-output), --log-level. */
export function setupLogging(s: Settings): LoggingResult {
  const warnings: string[] = [];
  const bad = (error: string, exitCode = 1): LoggingResult => ({ ok: false, error, exitCode });
  let deprecated = list(s, "log-output");
  let outputs = list(s, "log-outputs");
  if (deprecated.length !== outputs.length) {
    if (deprecated.length > outputs.length) {
      warnings.push("'--log-output' flag has been deprecated! Please use '--log-outputs'!");
      outputs = deprecated;
    } else deprecated = [];
  } else {
    if (deprecated.length > 1) return bad("both '--log-output' and '--log-outputs' are set; only set '--log-outputs'");
    if (deprecated.length < 1) return bad("either '--log-output' or '--log-outputs' flag must be set");
    if (sameList(deprecated, outputs) && deprecated[0] !== "default") {
      return bad(`'--log-output=${goQuoteList(deprecated)}' and '--log-outputs=${goQuoteList(outputs)}' are incompatible; only set --log-outputs`);
    }
    if (!sameList(deprecated, ["default"])) {
      warnings.push(`Deprecated '--log-output' flag is set to ${goQuoteList(deprecated)}; please use '--log-outputs' flag`);
    }
  }

  const logger = str(s, "logger");
  const levelName = str(s, "log-level");
  const level = LEVELS[levelName];
  // etcd panics on an unknown level, so its exit status is Go's 2.
  if (level === undefined) {
    return bad(`unknown log level ${goQuote(levelName)} (only supports debug, info, warn, error, dpanic, panic, or fatal)`, 2);
  }
  if (logger === "capnslog") {
    if (outputs.length !== 1) return bad(`--logger=capnslog supports only 1 value in '--log-outputs', got ${goQuoteList(outputs)}`);
    const out = outputs[0]!;
    if (!["default", "stderr", "stdout"].includes(out)) {
      return bad(`unknown log-output ${goQuote(out)} (only supports "default", "stderr", "stdout")`);
    }
  } else if (logger === "zap") {
    if (outputs.length === 0) outputs = ["default"];
    if (outputs.length > 1 && outputs.includes("default")) return bad(`multi logoutput for "default" is not supported yet`);
    if (outputs.includes("systemd/journal") && outputs.length > 1) {
      return bad(
        `running with systemd/journal but other '--log-outputs' values (${goQuoteList(outputs)}) are configured with 'default'; override 'default' value with something else`,
      );
    }
    for (const out of outputs) {
      if (!["default", "stderr", "stdout"].includes(out)) warnings.push(`--log-outputs=${out} is not supported by etcd-ts; logging to stderr`);
    }
  } else {
    return bad(`unknown logger option ${goQuote(logger)}`);
  }
  return { ok: true, value: { logger, outputs, level: bool(s, "debug") ? "debug" : level, warnings } };
}

export const ERR_CONFLICT_BOOTSTRAP =
  'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"';
export const ERR_UNSET_ADVERTISE_CLIENT_URLS = "--advertise-client-urls is required when --listen-client-urls is set explicitly";

/**
 * embed.Config.Validate after logging: listen URLs must bind to IPs, advertised URLs need a
 * host, one bootstrap method, raft timing, advertise-client-urls present, compaction mode.
 * `advertiseClientUrls` is null when etcd cleared it (listen-client-urls set without it).
 */
export function validateMember(s: Settings, advertiseClientUrls: readonly string[] | null): string | undefined {
  for (const name of ["listen-peer-urls", "listen-client-urls", "listen-metrics-urls"]) {
    const err = checkBindUrls(list(s, name));
    if (err) return err;
  }
  const ap = list(s, "initial-advertise-peer-urls");
  const apErr = checkHostUrls(ap);
  if (apErr) return `--initial-advertise-peer-urls ${goQuote(ap.join(","))} must be "host:port" (${apErr})`;
  const ac = advertiseClientUrls ?? [];
  const acErr = checkHostUrls(ac);
  if (acErr) return `--advertise-client-urls ${goQuote(ac.join(","))} must be "host:port" (${acErr})`;

  const state = str(s, "initial-cluster-state");
  if (state !== "new" && state !== "existing") return `unexpected clusterState ${goQuote(state)}`;
  const bootstrap = [str(s, "discovery"), str(s, "initial-cluster"), str(s, "discovery-srv")].filter((v) => v !== "");
  if (bootstrap.length > 1) return ERR_CONFLICT_BOOTSTRAP;

  const tick = num(s, "heartbeat-interval");
  const election = num(s, "election-timeout");
  if (tick <= 0) return `--heartbeat-interval must be >0 (set to ${tick}ms)`;
  if (election <= 0) return `--election-timeout must be >0 (set to ${election}ms)`;
  if (5 * tick > election) {
    return `--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`;
  }
  if (election > 50000) return `--election-timeout[${election}ms] is too long, and should be set less than 50000ms`;

  if (advertiseClientUrls === null) return ERR_UNSET_ADVERTISE_CLIENT_URLS;

  const mode = str(s, "auto-compaction-mode");
  if (!["", "periodic", "revision"].includes(mode)) return `unknown auto-compaction-mode ${goQuote(mode)}`;
  return undefined;
}
