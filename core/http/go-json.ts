// json.Unmarshal of a /v2/members request body into etcd's
// struct{ PeerURLs []string `json:"peerURLs"` }, with Go's (1.19) results and error texts:
// the syntax check over the whole input first, then decoding that keeps the first type
// error and goes on, case-insensitive field matching, unknown fields ignored.
import { decodeUtf8 } from "../store/byte-string.ts";
import { goJSONSyntaxError } from "./go-json-scanner.ts";

const TARGET_TYPE = 'struct { PeerURLs []string "json:\\"peerURLs\\"" }';
const FIELD = "peerURLs";

export type PeerURLsResult = { ok: true; peerURLs: string[] } | { ok: false; message: string };

type Kind = "object" | "array" | "string" | "bool" | "null" | "number";

const replaceInvalid = (): string => "\ufffd";

/** A cursor over input the scanner has accepted (so no bounds or syntax checks here). */
class Reader {
  i = 0;
  constructor(readonly b: Uint8Array) {}

  ws(): void {
    for (let c = this.b[this.i]; c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = this.b[this.i]) this.i++;
  }

  peek(): number {
    return this.b[this.i]!;
  }

  kind(): Kind {
    switch (this.b[this.i]) {
      case 0x7b: return "object";
      case 0x5b: return "array";
      case 0x22: return "string";
      case 0x74: case 0x66: return "bool";
      case 0x6e: return "null";
      default: return "number";
    }
  }

  /** Four hex digits at i as a number. */
  private hex4(i: number): number {
    return parseInt(String.fromCharCode(this.b[i]!, this.b[i + 1]!, this.b[i + 2]!, this.b[i + 3]!), 16);
  }

  /** A string literal, unquoted as Go's unquoteBytes does (bad UTF-8 and lone surrogates become U+FFFD). */
  string(): string {
    const b = this.b;
    let out = "";
    let i = this.i + 1;
    let start = i;
    for (;;) {
      const c = b[i]!;
      if (c !== 0x22 && c !== 0x5c) {
        i++;
        continue;
      }
      out += decodeUtf8(b.subarray(start, i), replaceInvalid);
      if (c === 0x22) break;
      const e = b[i + 1]!;
      i += 2;
      switch (e) {
        case 0x62: out += "\b"; break;
        case 0x66: out += "\f"; break;
        case 0x6e: out += "\n"; break;
        case 0x72: out += "\r"; break;
        case 0x74: out += "\t"; break;
        case 0x75: {
          const r = this.hex4(i);
          i += 4;
          if (r >= 0xd800 && r < 0xe000) {
            // A pair only when a low surrogate escape follows a high one.
            const pair = r < 0xdc00 && b[i] === 0x5c && b[i + 1] === 0x75 ? this.hex4(i + 2) : -1;
            if (pair >= 0xdc00 && pair < 0xe000) {
              out += String.fromCharCode(r, pair);
              i += 6;
            } else {
              out += "\ufffd";
            }
          } else {
            out += String.fromCharCode(r);
          }
          break;
        }
        default: out += String.fromCharCode(e); // " \ /
      }
      start = i;
    }
    this.i = i + 1;
    return out;
  }

  /** Moves past one value of any kind, without recursion. */
  skip(): void {
    const b = this.b;
    let depth = 0;
    do {
      const c = b[this.i]!;
      if (c === 0x22) {
        let i = this.i + 1;
        while (b[i] !== 0x22) i += b[i] === 0x5c ? 2 : 1;
        this.i = i + 1;
      } else if (c === 0x7b || c === 0x5b) {
        depth++;
        this.i++;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
        this.i++;
      } else if (depth > 0) {
        this.i++; // , : space
      } else {
        // A literal or number ends at a delimiter, a space or the end.
        while (this.i < b.length && !" \t\r\n,]}".includes(String.fromCharCode(b[this.i]!))) this.i++;
      }
    } while (depth > 0);
  }
}

/** Go's field matching for "peerURLs" (equalFoldRight: ASCII case folding, and ſ for s). */
function matchesField(key: string): boolean {
  const chars = Array.from(key);
  if (chars.length !== FIELD.length) return false;
  for (let j = 0; j < FIELD.length; j++) {
    const f = FIELD[j]!;
    const k = chars[j]!;
    if (k.charCodeAt(0) < 0x80) {
      if (k.toLowerCase() !== f.toLowerCase()) return false;
    } else if (!((f === "s" || f === "S") && k === "\u017f")) {
      return false;
    }
  }
  return true;
}

function typeError(kind: Kind, field: boolean, type: string): string {
  return field
    ? `json: cannot unmarshal ${kind} into Go struct field .${FIELD} of type ${type}`
    : `json: cannot unmarshal ${kind} into Go value of type ${type}`;
}

/**
 * A Go []string as json.Unmarshal fills it: decoding into a slice reuses its backing array,
 * so elements past the length can reappear, and null leaves a string element unchanged.
 */
class GoStringSlice {
  backing: string[] = [];
  len = 0;

  setNil(): void {
    this.backing = [];
    this.len = 0;
  }

  /** Makes index i addressable, growing as reflect does in decodeState.array. */
  reach(i: number): void {
    if (i >= this.backing.length) {
      const cap = this.backing.length;
      const newCap = Math.max(cap + Math.floor(cap / 2), 4);
      const grown = this.backing.slice(0, this.len);
      while (grown.length < newCap) grown.push("");
      this.backing = grown;
    }
    if (i >= this.len) this.len = i + 1;
  }

  values(): string[] {
    return this.backing.slice(0, this.len);
  }
}

/** json.Unmarshal(body, &struct{ PeerURLs []string `json:"peerURLs"` }{}). */
export function goUnmarshalPeerURLs(body: Uint8Array): PeerURLsResult {
  const syntax = goJSONSyntaxError(body);
  if (syntax !== null) return { ok: false, message: syntax };
  const r = new Reader(body);
  r.ws();
  const top = r.kind();
  if (top === "null") return { ok: true, peerURLs: [] };
  if (top !== "object") return { ok: false, message: typeError(top, false, TARGET_TYPE) };

  let saved: string | null = null; // Go keeps the first type error and decodes on
  const urls = new GoStringSlice();
  r.i++; // {
  r.ws();
  while (r.peek() !== 0x7d) {
    const key = r.string();
    r.ws();
    r.i++; // :
    r.ws();
    if (!matchesField(key)) {
      r.skip();
    } else {
      const kind = r.kind();
      if (kind === "null") {
        r.skip();
        urls.setNil();
      } else if (kind !== "array") {
        saved ??= typeError(kind, true, "[]string");
        r.skip();
      } else {
        r.i++; // [
        r.ws();
        let i = 0;
        while (r.peek() !== 0x5d) {
          urls.reach(i);
          const elem = r.kind();
          if (elem === "string") urls.backing[i] = r.string();
          else {
            if (elem !== "null") saved ??= typeError(elem, true, "string");
            r.skip();
          }
          i++;
          r.ws();
          if (r.peek() === 0x2c) {
            r.i++;
            r.ws();
          }
        }
        r.i++; // ]
        if (i < urls.len) urls.len = i;
        if (i === 0) urls.setNil();
      }
    }
    r.ws();
    if (r.peek() === 0x2c) {
      r.i++;
      r.ws();
    }
  }
  if (saved !== null) return { ok: false, message: saved };
  return { ok: true, peerURLs: urls.values() };
}
