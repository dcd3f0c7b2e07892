// Exact-body matching for conformance cases. Expected bodies are written as object literals
// in etcd's field order; values that cannot be known in advance (expiration timestamps, TTLs
// that count down, IDs) are matchers. The actual body must then equal, byte for byte,
// JSON.stringify(expected-with-matchers-filled-in) plus the expected terminator, so field
// order, missing or extra fields and the trailing "\n" all count.
import * as assert from "uvu/assert";
import type { Res } from "../support/http.ts";

/**
 * Fail with a (possibly multi-line) message. The stack is cut to the throwing line, so that
 * uvu, which prints the stack after the message, does not print the message twice.
 */
export function fail(message: string): never {
  const e = new Error(message);
  const frames = (e.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l));
  e.stack = `Error: failed\n${frames.slice(1, 3).join("\n")}`;
  throw e;
}

export class Matcher {
  constructor(
    readonly desc: string,
    /** Returns an error message, or null when the actual value is acceptable. */
    readonly check: (v: unknown) => string | null,
    /** When true the field may be missing from the actual object. */
    readonly optional = false,
  ) {}
}

const RFC3339_NANO_UTC = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d*[1-9])?Z$/;

/** Parse a Go RFC 3339 (nano) UTC timestamp into ms since the epoch (NaN if malformed). */
export function parseRfc3339NanoUtc(s: string): number {
  const m = RFC3339_NANO_UTC.exec(s);
  if (m === null) return NaN;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const frac = m[7] ? Number("0" + m[7]) * 1000 : 0;
  return ms + frac;
}

export const M = {
  /** Any value of the given JS type. */
  any(type: "string" | "number" | "boolean" | "object" = "string"): Matcher {
    return new Matcher(`any ${type}`, (v) => (typeof v === type ? null : `expected a ${type}, got ${JSON.stringify(v)}`));
  },
  /** A string matching the regular expression. */
  re(rx: RegExp): Matcher {
    return new Matcher(`string ${rx}`, (v) => (typeof v === "string" && rx.test(v) ? null : `expected a string matching ${rx}, got ${JSON.stringify(v)}`));
  },
  /** A non-negative integer. */
  uint(): Matcher {
    return new Matcher("uint", (v) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? null : `expected an unsigned integer, got ${JSON.stringify(v)}`));
  },
  /**
   * An `expiration`: Go RFC3339Nano in UTC ("Z", fraction without trailing zeros), about
   * ttlSec seconds after `from` (ms; default now), within slack seconds.
   */
  expiration(ttlSec: number, from = Date.now(), slackSec = 3): Matcher {
    return new Matcher(`expiration ≈ now+${ttlSec}s`, (v) => {
      if (typeof v !== "string") return `expiration: expected a string, got ${JSON.stringify(v)}`;
      const t = parseRfc3339NanoUtc(v);
      if (Number.isNaN(t)) return `expiration ${JSON.stringify(v)} is not RFC 3339 nano UTC (Go time.RFC3339Nano, ending in Z)`;
      const want = from + ttlSec * 1000;
      if (Math.abs(t - want) > slackSec * 1000) return `expiration ${v} is ${((t - from) / 1000).toFixed(3)} s from now, expected about ${ttlSec} s`;
      return null;
    });
  },
  /** Any syntactically valid expiration (in the past or future). */
  anyExpiration(): Matcher {
    return new Matcher("expiration", (v) =>
      typeof v === "string" && !Number.isNaN(parseRfc3339NanoUtc(v)) ? null : `expected an RFC 3339 nano UTC timestamp, got ${JSON.stringify(v)}`,
    );
  },
  /** A `ttl` between lo and hi inclusive (it counts down: ttl=5 may read 4 a moment later). */
  ttl(hi: number, lo = hi - 1): Matcher {
    return new Matcher(`ttl in [${lo}, ${hi}]`, (v) =>
      typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi ? null : `expected ttl in [${lo}, ${hi}], got ${JSON.stringify(v)}`,
    );
  },
  /** A field that may be missing; if present it must satisfy m. */
  optional(m: Matcher): Matcher {
    return new Matcher(`optional ${m.desc}`, m.check, true);
  },
  /** An exact value, but the field may be missing. */
  maybe(value: unknown): Matcher {
    return new Matcher(`optional ${JSON.stringify(value)}`, (v) => (JSON.stringify(v) === JSON.stringify(value) ? null : `expected ${JSON.stringify(value)}, got ${JSON.stringify(v)}`), true);
  },
};

/** An array whose order is not specified (directory listings without sorted=true). Elements are paired by `key`. */
export class Unordered {
  constructor(readonly items: unknown[]) {}
}
export function unordered(items: unknown[]): Unordered {
  return new Unordered(items);
}

/**
 * Fill the matchers of `expected` with the actual values they accept; collect mismatches.
 * The result has expected's shape and key order, so it can be serialised and compared.
 */
export function fill(expected: unknown, actual: unknown, path: string, errors: string[]): unknown {
  if (expected instanceof Matcher) {
    const e = expected.check(actual);
    if (e !== null) {
      errors.push(`${path}: ${e}`);
      return `<${expected.desc}>`;
    }
    return actual;
  }
  if (expected instanceof Unordered) {
    if (!Array.isArray(actual)) {
      errors.push(`${path}: expected an array`);
      return expected.items;
    }
    const pool = [...expected.items];
    const out: unknown[] = [];
    for (let i = 0; i < actual.length; i++) {
      const a = actual[i] as Record<string, unknown> | null;
      const k = a && typeof a === "object" ? a.key : undefined;
      const j = pool.findIndex((e) => e !== null && typeof e === "object" && (e as Record<string, unknown>).key === k);
      if (j < 0) {
        out.push(a);
        errors.push(`${path}[${i}]: unexpected element with key ${JSON.stringify(k)}`);
        continue;
      }
      out.push(fill(pool[j], a, `${path}[${i}]`, errors));
      pool.splice(j, 1);
    }
    for (const e of pool) {
      errors.push(`${path}: missing element ${JSON.stringify(e)}`);
      out.push(e);
    }
    return out;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return expected.map((e, i) => fill(e, undefined, `${path}[${i}]`, errors));
    return expected.map((e, i) => fill(e, actual[i], `${path}[${i}]`, errors));
  }
  if (expected !== null && typeof expected === "object") {
    const out: Record<string, unknown> = {};
    const act = actual !== null && typeof actual === "object" && !Array.isArray(actual) ? (actual as Record<string, unknown>) : {};
    for (const [k, ev] of Object.entries(expected as Record<string, unknown>)) {
      if (ev === undefined) continue;
      if (ev instanceof Matcher && ev.optional && !(k in act)) continue;
      if (!(k in act) && (ev instanceof Matcher || ev instanceof Unordered)) {
        errors.push(`${path}.${k}: missing`);
        out[k] = ev instanceof Matcher ? `<${ev.desc}>` : ev.items;
        continue;
      }
      out[k] = fill(ev, act[k], `${path}.${k}`, errors);
    }
    return out;
  }
  return expected;
}

/**
 * Assert that `text` is exactly expected (serialised in its key order, matchers filled from
 * the actual body) followed by `terminator`.
 */
export function assertBody(text: string, expected: unknown, terminator: "\n" | "" , what = "body"): any {
  let actual: unknown;
  try {
    actual = JSON.parse(text);
  } catch {
    fail(`${what} is not JSON: ${JSON.stringify(text.slice(0, 400))}`);
  }
  const errors: string[] = [];
  const filled = fill(expected, actual, "$", errors);
  const want = JSON.stringify(filled) + terminator;
  if (errors.length > 0) {
    fail(`${what} mismatch:\n  ${errors.join("\n  ")}\n  actual:   ${JSON.stringify(text)}\n  expected: ${JSON.stringify(want)}`);
  }
  assert.is(text, want, `${what}: exact text (field order, escaping, terminator)`);
  return actual;
}

/** Assert one header's exact value (null = must be absent). */
export function assertHeader(res: Res, name: string, want: string | null | RegExp): void {
  const got = res.header(name);
  if (want instanceof RegExp) {
    assert.ok(got !== null && want.test(got), `${res.describe()}: header ${name} = ${JSON.stringify(got)}, expected ${want}`);
  } else {
    assert.is(got, want, `${res.describe()}: header ${name}`);
  }
}

export function assertStatus(res: Res, status: number): void {
  if (res.status !== status) {
    fail(`${res.describe()}: expected status ${status}; body ${JSON.stringify(res.text.slice(0, 600))}`);
  }
}
