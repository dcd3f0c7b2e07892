// Go ServeMux's cleanPath: the canonical form of a request path. A request whose path
// differs from it is redirected (301) instead of served.

/** Lexical cleaning as Go's path.Clean, keeping a trailing slash as ServeMux does. */
export function cleanServePath(p: string): string {
  if (p === "") return "/";
  if (p[0] !== "/") p = "/" + p;
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  let out = "/" + parts.join("/");
  if (p.endsWith("/") && out !== "/") out += "/";
  return out;
}
