// How store strings hold arbitrary bytes. etcd keys and values are Go strings: any bytes,
// not necessarily UTF-8. Here they are JS strings holding the UTF-8 decoding of those
// bytes, where every byte that is not part of a valid UTF-8 sequence (as Go's
// utf8.DecodeRune judges it) is written as MARK followed by the byte as a character
// U+0080..U+00FF, and a genuine MARK character is written twice.
//
// MARK is U+FDD0, a Unicode noncharacter (reserved for process-internal use). The form
// is made of valid characters only, so it survives every UTF-8 round trip (msgpack in
// the WAL and snapshots, TextEncoder/TextDecoder); lone surrogates would not. It is
// injective (distinct byte strings stay distinct, so comparisons keep Go's byte
// semantics), and a string of valid UTF-8 without U+FDD0 is held unchanged.

/** The escape character (a noncharacter). */
export const MARK = 0xfdd0;
const MARK_CHAR = "\ufdd0";

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Length of the valid UTF-8 sequence starting at bytes[i] by Go's rules (shortest form,
 * no surrogates, at most U+10FFFF), or 0 when bytes[i] starts none.
 */
export function validSequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const n = bytes.length;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < n && bytes[i + k]! >= lo && bytes[i + k]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** The code point of the valid sequence of length len at bytes[i]. */
export function codePointAt(bytes: Uint8Array, i: number, len: number): number {
  const b0 = bytes[i]!;
  switch (len) {
    case 1: return b0;
    case 2: return ((b0 & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
    case 3: return ((b0 & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
    default:
      return ((b0 & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
  }
}

/**
 * Decodes UTF-8 as Go walks it with utf8.DecodeRune: each byte that does not start a valid
 * sequence is one error (replaced by `invalid(byte)`), and decoding resumes at the next byte.
 * `valid(codePoint)` may rewrite valid characters.
 */
export function decodeUtf8(
  bytes: Uint8Array,
  invalid: (byte: number) => string,
  valid: (cp: number) => string = String.fromCodePoint,
): string {
  let out = "";
  let run = ""; // pending plain characters, flushed in chunks
  for (let i = 0; i < bytes.length; ) {
    const len = validSequenceLength(bytes, i);
    if (len === 0) {
      run += invalid(bytes[i]!);
      i++;
    } else {
      run += valid(codePointAt(bytes, i, len));
      i += len;
    }
    if (run.length >= 4096) {
      out += run;
      run = "";
    }
  }
  return out + run;
}

const markInvalid = (b: number): string => MARK_CHAR + String.fromCharCode(b);
const doubleMark = (cp: number): string => (cp === MARK ? MARK_CHAR + MARK_CHAR : String.fromCodePoint(cp));

/** The store string for raw bytes. */
export function fromBytes(bytes: Uint8Array): string {
  let s: string | null = null;
  try {
    s = fatal.decode(bytes);
  } catch {
    // Not valid UTF-8: decoded byte by byte below.
  }
  if (s !== null && s.indexOf(MARK_CHAR) < 0) return s;
  return decodeUtf8(bytes, markInvalid, doubleMark);
}

/** The raw bytes of a store string (the inverse of fromBytes). */
export function toBytes(s: string): Uint8Array {
  if (s.indexOf(MARK_CHAR) < 0) return encoder.encode(s);
  const parts: number[] = [];
  let last = 0;
  const flush = (end: number): void => {
    if (end > last) for (const b of encoder.encode(s.slice(last, end))) parts.push(b);
  };
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== MARK) continue;
    const next = i + 1 < s.length ? s.charCodeAt(i + 1) : -1;
    if (next === MARK) {
      flush(i + 1); // one genuine MARK
      i++;
      last = i + 1;
    } else if (next >= 0x80 && next <= 0xff) {
      flush(i);
      parts.push(next);
      i++;
      last = i + 1;
    }
    // A MARK followed by anything else is kept as a character.
  }
  flush(s.length);
  return Uint8Array.from(parts);
}

/** Go's string comparison (bytewise) of two store strings. */
export function compareByteStrings(a: string, b: string): number {
  const x = toBytes(a);
  const y = toBytes(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}
