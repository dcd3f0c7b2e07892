// URL lists as etcd reads them (pkg/types.NewURLs over Go's net/url), so that the same
// strings are accepted, rejected and normalised as by etcd, with the same error texts.
// WHATWG URL is not used: it would drop default ports (http://a:80 -> http://a) and
// lowercase host names, and it accepts and rejects different strings than Go.
import { goQuote } from "./goparse.ts";

export interface GoUrl {
  scheme: string;
  /** Set for "scheme:opaque" forms (no "//"). */
  opaque: string;
  userinfo: string | undefined;
  /** host[:port] as written (brackets kept for IPv6). */
  host: string;
  path: string;
  rawQuery: string;
  forceQuery: boolean;
  fragment: string | undefined;
}

type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** A host character that Go's url parser accepts unescaped. */
function hostCharOK(c: string): boolean {
  return /[A-Za-z0-9\-_.~!$&'()*+,;=:\[\]<>"]/.test(c);
}

function validOptionalPort(port: string): boolean {
  if (port === "") return true;
  return /^:\d*$/.test(port);
}

function checkEscapes(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "%") continue;
    const h = s.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
  }
  return undefined;
}

function parseHost(host: string): string | undefined {
  if (host.startsWith("[")) {
    const end = host.lastIndexOf("]");
    if (end < 0) return "missing ']' in host";
    const colonPort = host.slice(end + 1);
    if (!validOptionalPort(colonPort)) return `invalid port ${goQuote(colonPort)} after host`;
    return undefined;
  }
  const i = host.lastIndexOf(":");
  if (i >= 0) {
    const colonPort = host.slice(i);
    if (!validOptionalPort(colonPort)) return `invalid port ${goQuote(colonPort)} after host`;
  }
  for (let i = 0; i < host.length; i++) {
    const c = host[i]!;
    if (c === "%") {
      // Go allows only %25 and escapes of non-ASCII bytes in a host.
      const esc = host.slice(i, i + 3);
      if (!/^%[0-9a-fA-F]{2}$/.test(esc) || (parseInt(esc[1]!, 16) < 8 && esc !== "%25")) {
        return `invalid URL escape ${goQuote(esc)}`;
      }
      i += 2;
      continue;
    }
    if (c.charCodeAt(0) < 0x80 && !hostCharOK(c)) return `invalid character ${goQuote(c)} in host name`;
  }
  return undefined;
}

/** net/url.Parse. Errors read `parse "raw": reason`. */
export function parseGoUrl(raw: string): Result<GoUrl> {
  const err = (why: string): Result<GoUrl> => ({ ok: false, error: `parse ${goQuote(raw)}: ${why}` });
  if (/[\x00-\x1f\x7f]/.test(raw)) return err("net/url: invalid control character in URL");
  let rest = raw;
  let fragment: string | undefined;
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  const u: GoUrl = { scheme: "", opaque: "", userinfo: undefined, host: "", path: "", rawQuery: "", forceQuery: false, fragment };
  if (rest === "*") {
    u.path = "*";
    return { ok: true, value: u };
  }
  // Scheme: letters first, then letters, digits, + - .
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ":") {
      if (i === 0) return err("missing protocol scheme");
      u.scheme = rest.slice(0, i).toLowerCase();
      rest = rest.slice(i + 1);
    }
    break;
  }
  if (rest.endsWith("?") && rest.split("?").length === 2) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith("/")) {
    if (u.scheme !== "") {
      u.opaque = rest;
      return { ok: true, value: u };
    }
    const colon = rest.indexOf(":");
    const slash = rest.indexOf("/");
    if (colon >= 0 && (slash < 0 || colon < slash)) return err("first path segment in URL cannot contain colon");
  }
  if (rest.startsWith("//") && !rest.startsWith("///")) {
    let authority = rest.slice(2);
    const slash = authority.indexOf("/");
    rest = slash >= 0 ? authority.slice(slash) : "";
    if (slash >= 0) authority = authority.slice(0, slash);
    const at = authority.lastIndexOf("@");
    let host = authority;
    if (at >= 0) {
      u.userinfo = authority.slice(0, at);
      host = authority.slice(at + 1);
    }
    const hostErr = parseHost(host);
    if (hostErr) return err(hostErr);
    u.host = host;
  }
  const pathErr = checkEscapes(rest);
  if (pathErr) return err(pathErr);
  u.path = rest;
  return { ok: true, value: u };
}

/** url.URL.String() for the URLs etcd keeps (no re-escaping). */
export function goUrlString(u: GoUrl): string {
  let s = "";
  if (u.scheme) s += u.scheme + ":";
  if (u.opaque) s += u.opaque;
  else {
    if (u.scheme || u.host || u.userinfo !== undefined) {
      s += "//";
      if (u.userinfo !== undefined) s += u.userinfo + "@";
      s += u.host;
    }
    s += u.path;
  }
  if (u.forceQuery || u.rawQuery) s += "?" + u.rawQuery;
  if (u.fragment !== undefined) s += "#" + u.fragment;
  return s;
}

/** net.SplitHostPort. */
export function splitHostPort(hostport: string): Result<{ host: string; port: string }> {
  const bad = (why: string): Result<{ host: string; port: string }> => ({ ok: false, error: `address ${hostport}: ${why}` });
  const i = hostport.lastIndexOf(":");
  if (i < 0) return bad("missing port in address");
  let host: string;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0) return bad("missing ']' in address");
    if (end + 1 === hostport.length) return bad("missing port in address");
    if (end + 1 !== i) return bad(hostport[end + 1] === ":" ? "too many colons in address" : "missing port in address");
    host = hostport.slice(1, end);
    if (host.includes("[") || hostport.slice(end + 1).includes("]")) return bad("unexpected '[' in address");
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) return bad("too many colons in address");
    if (host.includes("[")) return bad("unexpected '[' in address");
    if (host.includes("]")) return bad("unexpected ']' in address");
  }
  const port = hostport.slice(i + 1);
  if (port.includes("[")) return bad("unexpected '[' in address");
  if (port.includes("]")) return bad("unexpected ']' in address");
  return { ok: true, value: { host, port } };
}

function isIPv4(s: string): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  // Go rejects leading zeros ("01") since 1.17.
  return parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  if (s.includes("%")) return false; // net.ParseIP does not take zones
  let groups = s.split(":");
  let v4Groups = 0;
  const last = groups[groups.length - 1]!;
  if (last.includes(".")) {
    if (!isIPv4(last)) return false;
    groups = groups.slice(0, -1).concat(["0", "0"]);
    v4Groups = 2;
  }
  const dbl = s.indexOf("::");
  if (dbl >= 0) {
    if (s.indexOf("::", dbl + 1) >= 0) return false;
    const [left, right] = [s.slice(0, dbl), s.slice(dbl + 2)];
    const l = left === "" ? [] : left.split(":");
    let r = right === "" ? [] : right.split(":");
    if (v4Groups) r = r.slice(0, -1).concat(["0", "0"]);
    if (l.length + r.length > 7) return false;
    return [...l, ...r].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g));
  }
  return groups.length === 8 && groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g));
}

/** net.ParseIP(s) != nil. */
export function isIP(s: string): boolean {
  return isIPv4(s) || (s.includes(":") && isIPv6(s));
}

/**
 * types.NewURLs: each comma-separated item trimmed, parsed, and checked (scheme http, https,
 * unix or unixs; host:port; no path). Returns the normalised URLs sorted, without duplicates.
 */
export function newUrls(items: readonly string[]): Result<string[]> {
  if (items.length === 0) return { ok: false, error: "no valid URLs given" };
  const out: string[] = [];
  for (const item of items) {
    const s = item.trim();
    const p = parseGoUrl(s);
    if (!p.ok) return p;
    const u = p.value;
    if (!["http", "https", "unix", "unixs"].includes(u.scheme)) {
      return { ok: false, error: `URL scheme must be http, https, unix, or unixs: ${s}` };
    }
    if (!splitHostPort(u.host).ok) return { ok: false, error: `URL address does not have the form "host:port": ${s}` };
    if (u.path !== "") return { ok: false, error: `URL must not contain a path: ${s}` };
    out.push(goUrlString(u));
  }
  return { ok: true, value: [...new Set(out)].sort() };
}

/** Parses an already-normalised URL from a list made by newUrls. */
export function urlParts(url: string): { scheme: string; host: string; port: string } {
  const p = parseGoUrl(url);
  if (!p.ok) throw new Error(p.error);
  const hp = splitHostPort(p.value.host);
  return { scheme: p.value.scheme, host: hp.ok ? hp.value.host : "", port: hp.ok ? hp.value.port : "" };
}

/** embed's checkBindURLs: listen URLs must name an IP address or localhost. */
export function checkBindUrls(urls: readonly string[]): string | undefined {
  for (const url of urls) {
    const { scheme, host } = urlParts(url);
    if (scheme === "unix" || scheme === "unixs") continue;
    if (host === "localhost") continue;
    if (!isIP(host)) return `expected IP in URL for binding (${url})`;
  }
  return undefined;
}

/** embed's checkHostURLs: advertised URLs need a non-empty host. */
export function checkHostUrls(urls: readonly string[]): string | undefined {
  for (const url of urls) {
    if (urlParts(url).host === "") return `unexpected empty host (${url})`;
  }
  return undefined;
}
