// Argument checks done before any request, and the URL path of a key.

/**
 * The URL path (after /v2/keys) of a key: a leading "/" added, repeated and trailing
 * slashes dropped, and each segment percent-encoded, so spaces, "%", "?", "#" and "+" reach the
 * server as part of the key. "." and ".." segments are refused: the server would resolve them
 * (and redirect), addressing another key.
 */
export function keyPath(key: string, what = "key"): string {
  if (typeof key !== "string") throw new TypeError(`${what} must be a string, got ${typeof key}`);
  if (key === "") throw new TypeError(`${what} must not be empty (use "/" for the root)`);
  const segments = key.split("/").filter((s) => s !== "");
  for (const s of segments) {
    if (s === "." || s === "..") throw new TypeError(`${what} ${JSON.stringify(key)}: "." and ".." segments are not allowed`);
  }
  return "/" + segments.map(encodeURIComponent).join("/");
}

/** The canonical form of a key ("/a/b"), as etcd reports it. */
export function canonicalKey(key: string): string {
  keyPath(key);
  return "/" + key.split("/").filter((s) => s !== "").join("/");
}

export function checkTtl(ttl: unknown, what = "ttl"): number {
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 0 || !Number.isSafeInteger(ttl)) {
    throw new TypeError(`${what} must be a whole number of seconds ≥ 0, got ${JSON.stringify(ttl) ?? String(ttl)}`);
  }
  return ttl;
}

export function checkIndex(i: unknown, what: string): number {
  if (typeof i !== "number" || !Number.isSafeInteger(i) || i < 1) {
    throw new TypeError(`${what} must be a whole number ≥ 1, got ${JSON.stringify(i) ?? String(i)}`);
  }
  return i;
}

export function checkString(v: unknown, what: string): string {
  if (typeof v !== "string") throw new TypeError(`${what} must be a string, got ${typeof v}`);
  return v;
}

/** prevValue: a non-empty string (etcd answers error 201 for an empty one). */
export function checkPrevValue(v: unknown): string {
  checkString(v, "prevValue");
  if (v === "") throw new TypeError("prevValue must not be empty (etcd refuses it: error 201)");
  return v as string;
}

export function checkBool(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") throw new TypeError(`${what} must be a boolean, got ${typeof v}`);
  return v;
}

export function checkMemberId(id: unknown): string {
  if (typeof id !== "string" || !/^[0-9a-fA-F]{1,16}$/.test(id)) {
    throw new TypeError(`member id must be a hex string (as /v2/members shows it), got ${JSON.stringify(id)}`);
  }
  return id.toLowerCase();
}

export function checkPeerURLs(urls: unknown): string[] {
  if (!Array.isArray(urls) || urls.length === 0) throw new TypeError("peerURLs must be a non-empty array of URLs");
  for (const u of urls) {
    if (typeof u !== "string") throw new TypeError("peerURLs must be strings");
    let p: URL;
    try {
      p = new URL(u);
    } catch {
      throw new TypeError(`peer URL ${JSON.stringify(u)} is not a URL`);
    }
    if (!["http:", "https:", "unix:", "unixs:"].includes(p.protocol)) throw new TypeError(`peer URL ${JSON.stringify(u)}: scheme must be http, https, unix or unixs`);
  }
  return urls as string[];
}
