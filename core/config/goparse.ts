// Scalar parsing with the exact acceptance rules of Go's strconv and time packages, which is
// what etcd's flag set uses: the same strings must be accepted and rejected as by etcd.

/** Outcome of parsing one value: the value, or Go's error text ("parse error", ...). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

type IntError = "syntax" | "range";

/** Go's rule for where underscores may appear in a base-prefixed literal. */
function underscoreOK(s: string): boolean {
  let saw = "^";
  let i = 0;
  if (s.startsWith("-") || s.startsWith("+")) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c))) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

/**
 * strconv.ParseUint(s, base, bits) for base 0 (prefixes 0x, 0o, 0b, leading 0 = octal,
 * underscores) or base 10. The first problem met decides the error, as in Go.
 */
export function goParseUint(s: string, base: 0 | 10, bits: number): { value: bigint } | { error: IntError } {
  if (s === "") return { error: "syntax" };
  const s0 = s;
  let b = 10;
  const base0 = base === 0;
  if (base0 && s[0] === "0") {
    const p = s[1];
    if (s.length >= 3 && (p === "b" || p === "B")) [b, s] = [2, s.slice(2)];
    else if (s.length >= 3 && (p === "o" || p === "O")) [b, s] = [8, s.slice(2)];
    else if (s.length >= 3 && (p === "x" || p === "X")) [b, s] = [16, s.slice(2)];
    else [b, s] = [8, s.slice(1)];
  }
  const max = (1n << BigInt(bits)) - 1n;
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === "_" && base0) {
      underscores = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= b || !/[0-9a-zA-Z]/.test(c)) return { error: "syntax" };
    n = n * BigInt(b) + BigInt(d);
    if (n > max) return { error: "range" };
  }
  if (underscores && !underscoreOK(s0)) return { error: "syntax" };
  return { value: n };
}

/** strconv.ParseInt(s, 0, bits): an optional sign, then ParseUint's rules. */
export function goParseInt(s: string, bits: number): { value: bigint } | { error: IntError } {
  if (s === "") return { error: "syntax" };
  let neg = false;
  let rest = s;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    rest = s.slice(1);
  }
  const u = goParseUint(rest, 0, 64);
  if ("error" in u) return u;
  // A leading sign is allowed only in front of the number proper, and underscores are checked
  // against the whole literal including its sign.
  if (rest.includes("_") && !underscoreOK(s)) return { error: "syntax" };
  const cutoff = 1n << BigInt(bits - 1);
  if (!neg && u.value >= cutoff) return { error: "range" };
  if (neg && u.value > cutoff) return { error: "range" };
  return { value: neg ? -u.value : u.value };
}

/** The message Go's flag package gives for a bad number. */
export function flagNumError(e: IntError): string {
  return e === "syntax" ? "parse error" : "value out of range";
}

/** A flag holding an unsigned integer of `bits` bits (Go's uint, uint64). */
export function parseUintFlag(s: string, bits = 64): Parsed<number> {
  const r = goParseUint(s, 0, bits);
  return "error" in r ? fail(flagNumError(r.error)) : ok(Number(r.value));
}

/** A flag holding a signed integer (Go's int, int64). */
export function parseIntFlag(s: string, bits = 64): Parsed<number> {
  const r = goParseInt(s, bits);
  return "error" in r ? fail(flagNumError(r.error)) : ok(Number(r.value));
}

/** etcd's uint32 flag (--max-concurrent-streams): base 10, and strconv's own error text. */
export function parseUint32Flag(s: string): Parsed<number> {
  const r = goParseUint(s, 10, 32);
  if ("error" in r) {
    const why = r.error === "syntax" ? "invalid syntax" : "value out of range";
    return fail(`strconv.ParseUint: parsing ${goQuote(s)}: ${why}`);
  }
  return ok(Number(r.value));
}

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3, // U+00B5
  "μs": 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * time.ParseDuration, returning milliseconds (fractions keep sub-ms precision).
 * Errors read like Go's: `time: invalid duration "x"`, `time: missing unit in duration "1"`.
 */
export function parseGoDuration(orig: string): Parsed<number> {
  let s = orig;
  const q = goQuote(orig);
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return ok(0);
  if (s === "") return fail(`time: invalid duration ${q}`);
  let totalNs = 0;
  while (s !== "") {
    if (!(s[0] === "." || (s[0]! >= "0" && s[0]! <= "9"))) return fail(`time: invalid duration ${q}`);
    const m = /^(\d*)(\.(\d*))?/.exec(s)!;
    const intPart = m[1]!;
    const fracPart = m[3] ?? "";
    if (intPart === "" && fracPart === "") return fail(`time: invalid duration ${q}`);
    s = s.slice(m[0].length);
    const um = /^[^0-9.]*/.exec(s)!;
    const unit = um[0];
    if (unit === "") return fail(`time: missing unit in duration ${q}`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) return fail(`time: unknown unit ${goQuote(unit)} in duration ${q}`);
    s = s.slice(unit.length);
    const v = Number(intPart || "0") + (fracPart ? Number("0." + fracPart) : 0);
    totalNs += v * scale;
    if (totalNs > 9223372036854775807) return fail(`time: invalid duration ${q}`);
  }
  return ok((neg ? -totalNs : totalNs) / 1e6);
}

/** Go's %q for a string (strconv.Quote): double quotes, Go escapes for control characters. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

/** Go's %q for a []string: ["a" "b"]. */
export function goQuoteList(list: readonly string[]): string {
  return "[" + list.map(goQuote).join(" ") + "]";
}
