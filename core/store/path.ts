// Path helpers with Go's path package semantics (etcd cleans every key with path.Clean).

/** The prefix under which user keys live; stripped from keys and causes in output. */
export const KEYS_PREFIX = "/1";

/** True when p is already what Go's path.Clean would return for a rooted path. */
function isCleanRooted(p: string): boolean {
  const n = p.length;
  if (n === 0 || p.charCodeAt(0) !== 47) return false;
  if (n === 1) return true;
  if (p.charCodeAt(n - 1) === 47) return false;
  // Every element must be non-empty and not "." or "..".
  let start = 1;
  for (let i = 1; i <= n; i++) {
    if (i === n || p.charCodeAt(i) === 47) {
      const len = i - start;
      if (len === 0) return false;
      if (p.charCodeAt(start) === 46 && (len === 1 || (len === 2 && p.charCodeAt(start + 1) === 46))) {
        return false;
      }
      start = i + 1;
    }
  }
  return true;
}

/** Go path.Clean: collapse slashes, resolve "." and "..", drop the trailing slash. */
export function cleanPath(p: string): string {
  if (isCleanRooted(p)) return p;
  if (p === "") return ".";
  const rooted = p.charCodeAt(0) === 47;
  const out: string[] = [];
  // Number of leading ".." elements kept in a relative path (they cannot be cancelled).
  let dotdot = 0;
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > dotdot) out.pop();
      else if (!rooted) {
        out.push("..");
        dotdot++;
      }
      continue;
    }
    out.push(part);
  }
  const body = out.join("/");
  if (rooted) return "/" + body;
  return body === "" ? "." : body;
}

/** Go path.Join(a, b) for a rooted a. */
export function joinPath(a: string, b: string): string {
  if (b === "") return cleanPath(a);
  return cleanPath(a + "/" + b);
}

/** The key as clients see it: the "/1" prefix stripped (Go strings.TrimPrefix). */
export function externalKey(internal: string): string {
  return internal.startsWith(KEYS_PREFIX) ? internal.slice(KEYS_PREFIX.length) : internal;
}

/** Last element of a clean path ("" for "/"). */
export function baseName(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Go path.Split for a clean rooted path: ("/a/b", "c") for "/a/b/c"; ("/", "a") for "/a". */
export function splitPath(p: string): [dir: string, name: string] {
  const i = p.lastIndexOf("/");
  return [p.slice(0, i + 1), p.slice(i + 1)];
}
