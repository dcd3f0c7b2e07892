// Command-line parsing as etcdctl 3.4 (v2 mode) does it: Go's `flag` package under urfave/cli
// v1. The rules that matter for byte-identical behaviour:
//  - `-name` and `--name` are the same; `-name=value`, `-name value` for non-bool flags;
//    bool flags take a value only as `-name=value` (strconv.ParseBool spellings);
//  - parsing stops at the first non-flag argument, or after a `--` (which is consumed);
//  - before a command's own flags are parsed, urfave/cli moves the command's flags (and a
//    value that may follow each) in front of the positional arguments ("reorderArgs"), so
//    `set /k v --ttl 5` works; unknown flags after a positional argument stay positional;
//  - error texts are Go's ("flag provided but not defined: -x", "invalid value ...").

export type FlagKind = "bool" | "string" | "int" | "duration";

export interface FlagDef {
  /** Names as urfave/cli declares them: the long name first, then aliases ("output", "o"). */
  names: string[];
  kind: FlagKind;
  usage: string;
  /** Default value (string / int / duration in ms); bools default to false. */
  def?: string | number;
  /** Hidden from help output (the implicit help/version flags). */
  hidden?: boolean;
}

export type FlagValues = Map<string, string | number | boolean>;

export class FlagError extends Error {}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean | null {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return null;
}

/** strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o / leading-0 octal, 0b binary, underscores. */
export function parseGoInt(s: string): { value: number } | { error: string } {
  let t = s;
  let neg = false;
  if (t.startsWith("+") || t.startsWith("-")) {
    neg = t[0] === "-";
    t = t.slice(1);
  }
  let base = 10;
  let digits = t;
  if (/^0[xX]/.test(t)) { base = 16; digits = t.slice(2); }
  else if (/^0[bB]/.test(t)) { base = 2; digits = t.slice(2); }
  else if (/^0[oO]/.test(t)) { base = 8; digits = t.slice(2); }
  else if (/^0./.test(t)) { base = 8; digits = t.slice(1); }
  if (base !== 10 && digits.includes("_")) digits = digits.replace(/^_/, "");
  if (digits.includes("_")) {
    if (base === 10 && !/^\d+(_\d+)*$/.test(digits)) return { error: "parse error" };
    digits = digits.replace(/_/g, "");
  }
  const re = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (digits === "" || !re.test(digits)) return { error: "parse error" };
  const big = BigInt(base === 10 ? digits : (base === 16 ? "0x" : base === 8 ? "0o" : "0b") + digits) * (neg ? -1n : 1n);
  if (big > 9223372036854775807n || big < -9223372036854775808n) return { error: "value out of range" };
  return { value: Number(big) };
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** time.ParseDuration, in milliseconds (null when Go would refuse it). */
export function parseGoDuration(s: string): number | null {
  let t = s;
  let sign = 1;
  if (t.startsWith("-") || t.startsWith("+")) {
    if (t[0] === "-") sign = -1;
    t = t.slice(1);
  }
  if (t === "0") return 0;
  if (t === "") return null;
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (t !== "") {
    const m = re.exec(t);
    if (!m || (m[1] === "" && (m[2] === undefined || m[2] === ""))) return null;
    const num = Number(`${m[1] || "0"}.${m[2] ?? "0"}`);
    total += num * UNITS[m[3]!]!;
    t = t.slice(m[0].length);
  }
  return sign * total;
}

/** Go's time.Duration.String() for whole milliseconds and more (enough for defaults). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  let out = "";
  let rest = ms;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  if (ms < 1000) return `${ms}ms`;
  const secs = rest / 1000;
  return out + `${Number.isInteger(secs) ? secs : String(secs)}s`;
}

function lookup(defs: FlagDef[], name: string): FlagDef | undefined {
  return defs.find((d) => d.names.includes(name));
}

/** The value map with every flag at its default, keyed by the first name. */
export function defaults(defs: FlagDef[]): FlagValues {
  const v: FlagValues = new Map();
  for (const d of defs) v.set(d.names[0]!, d.kind === "bool" ? false : (d.def ?? (d.kind === "string" ? "" : 0)));
  return v;
}

export interface ParseResult {
  values: FlagValues;
  /** Names (first name) of the flags actually given. */
  given: Set<string>;
  args: string[];
}

/**
 * Go's FlagSet.Parse: flags until the first non-flag argument or `--`. Throws FlagError with
 * Go's message; `help` (when defined) is reported like any bool flag.
 */
export function parseFlags(defs: FlagDef[], argv: string[]): ParseResult {
  const values = defaults(defs);
  const given = new Set<string>();
  let i = 0;
  while (i < argv.length) {
    const s = argv[i]!;
    if (s.length < 2 || s[0] !== "-") break;
    let numMinuses = 1;
    if (s[1] === "-") {
      numMinuses = 2;
      if (s.length === 2) {
        i++;
        break; // "--" terminates the flags
      }
    }
    let name = s.slice(numMinuses);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") throw new FlagError(`bad flag syntax: ${s}`);
    i++;
    let hasValue = false;
    let value = "";
    const eq = name.indexOf("=");
    if (eq > 0) {
      value = name.slice(eq + 1);
      hasValue = true;
      name = name.slice(0, eq);
    }
    const def = lookup(defs, name);
    if (!def) throw new FlagError(`flag provided but not defined: -${name}`);
    const key = def.names[0]!;
    if (def.kind === "bool") {
      if (hasValue) {
        const b = parseGoBool(value);
        if (b === null) throw new FlagError(`invalid boolean value ${goQuote(value)} for -${name}: parse error`);
        values.set(key, b);
      } else {
        values.set(key, true);
      }
    } else {
      if (!hasValue && i < argv.length) {
        hasValue = true;
        value = argv[i]!;
        i++;
      }
      if (!hasValue) throw new FlagError(`flag needs an argument: -${name}`);
      if (def.kind === "string") values.set(key, value);
      else if (def.kind === "int") {
        const r = parseGoInt(value);
        if ("error" in r) throw new FlagError(`invalid value ${goQuote(value)} for flag -${name}: ${r.error}`);
        values.set(key, r.value);
      } else {
        const d = parseGoDuration(value);
        if (d === null) throw new FlagError(`invalid value ${goQuote(value)} for flag -${name}: parse error`);
        values.set(key, d);
      }
    }
    given.add(key);
  }
  return { values, given, args: argv.slice(i) };
}

/** urfave/cli v1 reorderArgs: the command's flags (and a possible value) first. */
export function reorderArgs(defs: FlagDef[], args: string[]): string[] {
  const remaining: string[] = [];
  const reordered: string[] = [];
  let nextMayBeValue = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      remaining.push(...args.slice(i));
      break;
    } else if (nextMayBeValue && !arg.startsWith("-")) {
      nextMayBeValue = false;
      reordered.push(arg);
    } else if (argIsFlag(defs, arg)) {
      reordered.push(arg);
      nextMayBeValue = !arg.includes("=");
    } else {
      remaining.push(arg);
    }
  }
  return [...reordered, ...remaining];
}

function argIsFlag(defs: FlagDef[], arg: string): boolean {
  if (arg === "-" || !arg.startsWith("-")) return false;
  let a = arg;
  // strings.Replace(arg, "-", "", 2) / (..., 1): removes the first dashes anywhere.
  if (a.startsWith("--")) a = a.replace("-", "").replace("-", "");
  if (a.startsWith("-")) a = a.replace("-", "");
  a = a.split("=")[0]!;
  return defs.some((d) => d.names.includes(a));
}

/** Go's %q for the strings that reach error messages (printable ASCII/UTF-8 in practice). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}
