// Helpers for the '/'-separated paths that Runtime's FileSystem takes.

/** Join parts with '/', collapsing repeated slashes and dropping a trailing one. */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  if (joined === "") return ".";
  const collapsed = joined.replace(/\/+/g, "/");
  return collapsed.length > 1 && collapsed.endsWith("/") ? collapsed.slice(0, -1) : collapsed;
}

function trimTrailing(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

/** The directory part: "/a/b" -> "/a", "/a" -> "/", "a" -> ".", "/" -> "/". */
export function dirname(path: string): string {
  const p = trimTrailing(path);
  const i = p.lastIndexOf("/");
  if (i < 0) return ".";
  if (i === 0) return "/";
  return trimTrailing(p.slice(0, i));
}

/** The last component: "/a/b" -> "b", "/a/b/" -> "b", "/" -> "/". */
export function basename(path: string): string {
  const p = trimTrailing(path);
  if (p === "/") return "/";
  return p.slice(p.lastIndexOf("/") + 1);
}
