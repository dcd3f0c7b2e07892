// Output formats of etcdctl 3.4 v2 (`-o simple|extended|json`) and its error texts. The JSON
// form is Go's encoding/json of the Go client's Response/Node structs: field order
// action, node, prevNode; node: key, dir (omitempty), value (always), nodes (null when
// absent), createdIndex, modifiedIndex, expiration (omitempty), ttl (omitempty); and Go's
// string escaping (<, >, & and U+2028/9 as \u00XX, \b and \f as \u0008 / \u000c).
import type { EtcdNode, EtcdResponse } from "../client/index.ts";

/** encoding/json's string encoding (HTML-safe, as json.Marshal does). */
export function goJSONString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) out += "\\u" + c.toString(16).padStart(4, "0");
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += ch + s[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd"; // a lone surrogate: invalid UTF-8 in Go
    else out += ch;
  }
  return out + '"';
}

/** Go's RFC3339Nano (what time.Time marshals to): trailing zeros of the fraction dropped. */
export function goTime(s: string): string {
  return s.replace(/\.(\d+)(Z|[+-]\d\d:\d\d)$/, (_m, frac: string, zone: string) => {
    const f = frac.replace(/0+$/, "");
    return (f === "" ? "" : "." + f) + zone;
  });
}

export function goJSONNode(n: EtcdNode | undefined, rootKey = false): string {
  if (n === undefined) return "null";
  let s = `{"key":${goJSONString(rootKey ? "" : n.key)}`;
  if (n.dir) s += `,"dir":true`;
  s += `,"value":${goJSONString(n.value ?? "")}`;
  s += `,"nodes":${n.nodes === undefined ? "null" : "[" + n.nodes.map((c) => goJSONNode(c)).join(",") + "]"}`;
  s += `,"createdIndex":${n.createdIndex ?? 0},"modifiedIndex":${n.modifiedIndex ?? 0}`;
  if (n.expiration !== undefined && n.expiration !== null) s += `,"expiration":${goJSONString(goTime(n.expiration))}`;
  if (n.ttl) s += `,"ttl":${n.ttl}`;
  return s + "}";
}

/**
 * The response as etcdctl's json output. The server leaves the key out on the root
 * directory; the Go client then prints "" (our client fills in "/": `root` undoes that).
 */
export function goJSONResponse(r: EtcdResponse, root = false): string {
  return `{"action":${goJSONString(r.action)},"node":${goJSONNode(r.node, root)},"prevNode":${goJSONNode(r.prevNode)}}`;
}

export interface Printer {
  out(s: string): void;
  err(s: string): void;
}

/** printResponseKey of etcdctl's format.go. */
export function printResponseKey(p: Printer, r: EtcdResponse, format: string, root = false): void {
  switch (format) {
    case "simple":
      if (r.action !== "delete") p.out(`${r.node.value ?? ""}\n`);
      else p.out(`PrevNode.Value: ${r.prevNode?.value ?? ""}\n`);
      break;
    case "extended": {
      let s = `Key: ${root ? "" : r.node.key}\nCreated-Index: ${r.node.createdIndex}\nModified-Index: ${r.node.modifiedIndex}\n`;
      if (r.prevNode !== undefined) s += `PrevNode.Value: ${r.prevNode.value ?? ""}\n`;
      s += `TTL: ${r.node.ttl ?? 0}\nIndex: ${r.etcdIndex}\n`;
      if (r.action !== "delete") s += `\n${r.node.value ?? ""}\n`;
      p.out(s);
      break;
    }
    case "json":
      p.out(goJSONResponse(r, root) + "\n");
      break;
    default:
      p.err(`Unsupported output format: ${format}\n`);
  }
}
