// Go's net/url percent-decoding and path escaping, over store strings (byte-string.ts), so
// that %XX escapes of bytes that are not UTF-8 keep those bytes.
import { fromBytes, toBytes } from "../store/byte-string.ts";
import { goQuote } from "./go-quote.ts";

/** Go's url.EscapeError; the message is its Error() text. */
export class EscapeError extends Error {}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Go's url.unescape: %XX is a byte (a malformed escape is an EscapeError quoting up to
 * three bytes from the '%'); '+' is a space in query components (url.QueryUnescape) and
 * itself in paths (url.PathUnescape, as the request path is decoded).
 */
export function unescape(s: string, plusIsSpace: boolean): string {
  if (s.indexOf("%") < 0 && (!plusIsSpace || s.indexOf("+") < 0)) return s;
  const src = toBytes(s);
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 37 /* % */) {
      const hi = i + 2 < src.length ? hexVal(src[i + 1]!) : -1;
      const lo = i + 2 < src.length ? hexVal(src[i + 2]!) : -1;
      if (hi < 0 || lo < 0) {
        throw new EscapeError("invalid URL escape " + goQuote(src.subarray(i, Math.min(i + 3, src.length))));
      }
      out[n++] = hi * 16 + lo;
      i += 2;
    } else if (c === 43 /* + */ && plusIsSpace) {
      out[n++] = 32;
    } else {
      out[n++] = c;
    }
  }
  return fromBytes(out.subarray(0, n));
}

const UPPER_HEX = "0123456789ABCDEF";

/** Go's shouldEscape(c, encodePath). */
function shouldEscapeInPath(c: number): boolean {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)) return false;
  // - _ . ~ and the reserved characters a path keeps: $ & + , / : ; = @
  return !"-_.~$&+,/:;=@".includes(String.fromCharCode(c));
}

/** Go's url.URL{Path: p}.EscapedPath(): every byte but the unreserved and $&+,/:;=@ as %XX. */
export function escapePath(p: string): string {
  const bytes = toBytes(p);
  let out = "";
  for (const c of bytes) {
    out += shouldEscapeInPath(c) ? "%" + UPPER_HEX[c >> 4] + UPPER_HEX[c & 15] : String.fromCharCode(c);
  }
  return out;
}
