// Go's strconv.Quote and the printability test behind it, for the error texts that quote
// raw bytes (url.EscapeError, encoding/json's quoteChar).
import { codePointAt, validSequenceLength } from "../store/byte-string.ts";

const HEX = "0123456789abcdef";
// Go's unicode.IsPrint outside Latin-1: letters, marks, numbers, punctuation, symbols.
const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's strconv.IsPrint. */
export function goIsPrint(r: number): boolean {
  if (r <= 0xff) {
    if (r >= 0x20 && r <= 0x7e) return true;
    if (r >= 0xa1 && r <= 0xff) return r !== 0xad;
    return false;
  }
  return GRAPHIC.test(String.fromCodePoint(r));
}

function hex(n: number, width: number): string {
  let s = "";
  for (let shift = (width - 1) * 4; shift >= 0; shift -= 4) s += HEX[(n >> shift) & 15];
  return s;
}

/** The escaped form of one rune inside a Go double-quoted literal (appendEscapedRune). */
export function goEscapeRune(r: number, quote = 34): string {
  if (r === quote || r === 92) return "\\" + String.fromCodePoint(r);
  if (goIsPrint(r)) return String.fromCodePoint(r);
  switch (r) {
    case 7: return "\\a";
    case 8: return "\\b";
    case 12: return "\\f";
    case 10: return "\\n";
    case 13: return "\\r";
    case 9: return "\\t";
    case 11: return "\\v";
  }
  if (r < 0x20 || r === 0x7f) return "\\x" + hex(r, 2);
  if (r < 0x10000) return "\\u" + hex(r, 4);
  return "\\U" + hex(r, 8);
}

/** Go's strconv.Quote of raw bytes: invalid UTF-8 bytes are written as \xNN. */
export function goQuote(bytes: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const len = validSequenceLength(bytes, i);
    if (len === 0) {
      out += "\\x" + hex(bytes[i]!, 2);
      i++;
      continue;
    }
    out += goEscapeRune(codePointAt(bytes, i, len));
    i += len;
  }
  return out + '"';
}

