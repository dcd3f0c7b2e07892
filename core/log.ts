// Text logger in the shape of etcd 3.4's default capnslog output:
//   2026-11-21 09:02:46.795797 I | etcdserver: message key=value key2="quoted if needed"
// Pure code: the runtime supplies the clock and where lines go (stderr).
import type { LogLevel, Logger } from "./runtime.ts";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const PACKAGE_PREFIX = /^([a-z][a-z0-9]*): /;
const LETTER: Record<LogLevel, string> = { debug: "D", info: "I", warn: "W", error: "E" };

export interface LoggerOptions {
  /** Lowest level written; default "info". */
  level?: LogLevel;
  /** capnslog package name shown before the message; default "etcdserver". */
  package?: string;
}

export function createLogger(
  write: (line: string) => void,
  now: () => number,
  opts: LoggerOptions = {},
): Logger {
  const min = RANK[opts.level ?? "info"];
  const pkg = opts.package ?? "etcdserver";
  const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[level] < min) return;
    // A message may name its own package ("embed: listening ..."), as etcd's lines do.
    const own = PACKAGE_PREFIX.exec(msg);
    const text = own ? msg.slice(own[0].length) : msg;
    let line = `${formatTime(now())} ${LETTER[level]} | ${own ? own[1] : pkg}: ${oneLine(text)}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        line += ` ${oneLine(k)}=${formatValue(v)}`;
      }
    }
    write(line);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** "YYYY-MM-DD HH:MM:SS.ffffff" in UTC from epoch milliseconds (the fraction gives µs). */
export function formatTime(ms: number): string {
  const us = Math.round(ms * 1000); // round, so 795.797 ms does not print as ...795796
  const micros = ((us % 1e6) + 1e6) % 1e6;
  const d = new Date(Math.floor(us / 1000));
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return (
    `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(micros, 6)}`
  );
}

/** A field value: bare when it reads as one token, JSON-quoted otherwise. */
export function formatValue(v: unknown): string {
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "string") return v !== "" && /^[^\s"=\\\x00-\x1f\x7f]+$/.test(v) ? v : JSON.stringify(v);
  if (v instanceof Error) return formatValue(v.message);
  if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
  // Objects print as JSON, which is already unambiguous unless it has spaces in it.
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return /^[^\s\x00-\x1f\x7f]+$/.test(s) ? s : JSON.stringify(s);
}

// Keeps the one-call-one-line promise even for messages with newlines in them.
function oneLine(s: string): string {
  return s.replace(/\r?\n/g, "\\n");
}
