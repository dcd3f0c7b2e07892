// Byte-exact etcd v2 JSON for events and nodes, as Go's encoding/json writes them.

import { MARK } from "./byte-string.ts";
import { externalKey } from "./path.ts";
import type { NodeView, StoreEvent } from "./types.ts";

const HEX = "0123456789abcdef";
// Characters Go's encoder escapes (with HTML escaping on, the default for json.Encoder),
// lone surrogates, and the MARK of byte-string.ts.
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff\ufdd0]/;

/**
 * A JSON string literal exactly as Go's encoding/json writes it, for a store string
 * (byte-string.ts): each byte that is not valid UTF-8 becomes the escape \ufffd, while a
 * genuine U+FFFD is written as is.
 */
export function jsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | null = null;
    if (c === 34) rep = '\\"';
    else if (c === 92) rep = "\\\\";
    else if (c === 10) rep = "\\n";
    else if (c === 13) rep = "\\r";
    else if (c === 9) rep = "\\t";
    else if (c < 0x20 || c === 60 || c === 62 || c === 38) rep = "\\u00" + HEX[c >> 4] + HEX[c & 15];
    else if (c === 0x2028) rep = "\\u2028";
    else if (c === 0x2029) rep = "\\u2029";
    else if (c === MARK) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next === MARK) {
        out += s.slice(last, i + 1); // a genuine U+FDD0, written as is
        last = ++i + 1;
        continue;
      }
      if (next < 0x80 || next > 0xff) continue; // a lone MARK is an ordinary character
      out += s.slice(last, i) + "\\ufffd"; // an invalid byte
      last = ++i + 1;
      continue;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair: written as is
        continue;
      }
      rep = "\\ufffd"; // invalid UTF-16 (Go: invalid UTF-8) becomes U+FFFD
    }
    if (rep !== null) {
      out += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return out + s.slice(last) + '"';
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/**
 * Go time.RFC3339Nano in UTC: "2026-11-21T09:02:58.978967658Z", fraction trimmed of
 * trailing zeros (and left out when zero). expireAt is ms since the epoch; its fraction
 * is printed with the precision the number carries, at most 9 digits in all.
 */
export function formatExpiration(expireAt: number): string {
  let ms: number;
  let sub: string; // digits below the millisecond
  const text = String(expireAt);
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (m !== null) {
    ms = Number(m[1]);
    sub = m[2] ?? "";
  } else {
    // Negative or exponent notation: not produced by real clocks; keep 6 digits.
    ms = Math.floor(expireAt);
    sub = (expireAt - ms).toFixed(6).slice(2);
  }
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return text;
  const frac = (pad(d.getUTCMilliseconds(), 3) + sub).slice(0, 9).replace(/0+$/, "");
  return (
    pad(d.getUTCFullYear(), 4) +
    "-" +
    pad(d.getUTCMonth() + 1, 2) +
    "-" +
    pad(d.getUTCDate(), 2) +
    "T" +
    pad(d.getUTCHours(), 2) +
    ":" +
    pad(d.getUTCMinutes(), 2) +
    ":" +
    pad(d.getUTCSeconds(), 2) +
    (frac === "" ? "" : "." + frac) +
    "Z"
  );
}

/**
 * Seconds to live as etcd computes it from a Go duration: the quotient by 1 s truncated,
 * plus one when the remainder is positive (ceil when positive, toward zero when negative).
 * The difference is rounded to whole microseconds so float noise in expireAt - now (a
 * fraction of a microsecond) cannot turn 5 s into 6.
 */
export function ttlSeconds(expireAt: number, now: number): number {
  const us = Math.round((expireAt - now) * 1000);
  let ttl = Math.trunc(us / 1e6);
  if (us % 1e6 > 0) ttl++;
  return ttl === 0 ? 0 : ttl; // no -0
}

/** A node object, fields in etcd's order, zero values left out (value never is). */
export function nodeJSON(node: NodeView, now: number): string {
  let out = "{";
  let sep = "";
  const key = externalKey(node.key);
  if (key !== "") {
    out += '"key":' + jsonString(key);
    sep = ",";
  }
  if (node.value !== undefined && node.value !== null) {
    out += sep + '"value":' + jsonString(node.value);
    sep = ",";
  }
  if (node.dir === true) {
    out += sep + '"dir":true';
    sep = ",";
  }
  if (node.expireAt !== undefined && node.expireAt !== null) {
    out += sep + '"expiration":"' + formatExpiration(node.expireAt) + '"';
    sep = ",";
    const ttl = ttlSeconds(node.expireAt, now);
    if (ttl !== 0) out += ',"ttl":' + ttl;
  }
  if (node.nodes !== undefined && node.nodes !== null && node.nodes.length > 0) {
    out += sep + '"nodes":[';
    for (let i = 0; i < node.nodes.length; i++) {
      if (i > 0) out += ",";
      out += nodeJSON(node.nodes[i]!, now);
    }
    out += "]";
    sep = ",";
  }
  if (node.modifiedIndex) {
    out += sep + '"modifiedIndex":' + node.modifiedIndex;
    sep = ",";
  }
  if (node.createdIndex) out += sep + '"createdIndex":' + node.createdIndex;
  return out + "}";
}

/**
 * An event body as etcd writes it, without the trailing "\n". `noValue`
 * (noValueOnSuccess) leaves out node and prevNode. The refresh flag is never written.
 */
export function eventJSON(ev: StoreEvent, now: number, noValue = false): string {
  let out = '{"action":' + jsonString(ev.action);
  if (!noValue) {
    if (ev.node !== undefined && ev.node !== null) out += ',"node":' + nodeJSON(ev.node, now);
    if (ev.prevNode !== undefined && ev.prevNode !== null) out += ',"prevNode":' + nodeJSON(ev.prevNode, now);
  }
  return out + "}";
}

/** An etcd v2 error body as etcd's Error struct marshals: cause left out when empty. */
export function errorJSON(e: { errorCode: number; message: string; cause?: string | undefined; index: number }): string {
  let out = '{"errorCode":' + e.errorCode + ',"message":' + jsonString(e.message);
  if (e.cause !== undefined && e.cause !== "") out += ',"cause":' + jsonString(e.cause);
  return out + ',"index":' + e.index + "}";
}
