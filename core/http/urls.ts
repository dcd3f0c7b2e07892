// Validation of member URL lists as etcd's types.NewURLs does it, with its error texts.

/** Go's url.Parse failure text for inputs that have no scheme but a colon in the first segment. */
function goParse(s: string): { scheme: string; host: string; path: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/.exec(s);
  if (!m) {
    const firstSegment = s.split("/")[0]!;
    if (firstSegment.includes(":")) {
      throw new Error(`parse "${s}": first path segment in URL cannot contain colon`);
    }
    return { scheme: "", host: "", path: s };
  }
  const scheme = m[1]!.toLowerCase();
  let rest = m[2]!;
  const q = rest.search(/[?#]/);
  if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith("//")) return { scheme, host: "", path: rest };
  rest = rest.slice(2);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  return { scheme, host, path: slash < 0 ? "" : rest.slice(slash) };
}

/** Go's net.SplitHostPort, reduced to a yes/no. */
function hasHostPort(host: string): boolean {
  if (host.startsWith("[")) return /^\[[^\]]*\]:[^:]*$/.test(host);
  const i = host.lastIndexOf(":");
  return i >= 0 && !host.slice(0, i).includes(":");
}

/** Validates and sorts a URL list; throws Error with etcd's message. */
export function validateURLs(list: unknown): string[] {
  if (!Array.isArray(list) || list.length === 0) throw new Error("no valid URLs given");
  const out: string[] = [];
  for (const raw of list) {
    if (typeof raw !== "string") throw new Error("json: cannot unmarshal value into Go value of type string");
    const s = raw.trim();
    const u = goParse(s);
    if (!["http", "https", "unix", "unixs"].includes(u.scheme)) {
      throw new Error(`URL scheme must be http, https, unix, or unixs: ${s}`);
    }
    if (!hasHostPort(u.host)) throw new Error(`URL address does not have the form "host:port": ${s}`);
    if (u.path !== "") throw new Error(`URL must not contain a path: ${s}`);
    out.push(s);
  }
  return out.sort();
}
