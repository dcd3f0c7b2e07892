// --initial-cluster: "name=peerURL,name=peerURL,...", a name repeated for each of its URLs.
// Parsed as etcd's types.NewURLsMap: empty items are skipped, an item without "=" is a name
// with an empty URL (which then fails URL checks), each member's URLs are checked and sorted.
import { goQuote } from "./goparse.ts";
import { newUrls } from "./urls.ts";

export interface ClusterMember {
  name: string;
  url: string;
}

export type ClusterParse = { ok: true; value: ClusterMember[] } | { ok: false; error: string };

/** Members in order of first appearance of their name, each name's URLs sorted. */
export function parseInitialCluster(s: string): ClusterParse {
  const byName = new Map<string, string[]>();
  for (const item of s.split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const name = eq >= 0 ? item.slice(0, eq) : item;
    const url = eq >= 0 ? item.slice(eq + 1) : "";
    const urls = byName.get(name) ?? [];
    urls.push(url);
    byName.set(name, urls);
  }
  const out: ClusterMember[] = [];
  for (const [name, urls] of byName) {
    const r = newUrls(urls);
    if (!r.ok) return r;
    for (const url of r.value) out.push({ name, url });
  }
  return { ok: true, value: out };
}

/** etcd's URLsMap.String(): "name=url" pairs sorted and joined by commas. */
export function formatInitialCluster(members: readonly ClusterMember[]): string {
  return members
    .map((m) => `${m.name}=${m.url}`)
    .sort()
    .join(",");
}

/** The URLs of one member, sorted. */
export function memberUrls(members: readonly ClusterMember[], name: string): string[] {
  return members.filter((m) => m.name === name).map((m) => m.url);
}

/**
 * The checks etcd makes before bootstrapping a new cluster statically (no WAL yet,
 * --initial-cluster-state new), except the comparison of this member's entry with
 * --initial-advertise-peer-urls, which needs DNS resolution and is left to the caller.
 * Returns etcd's message, or undefined when the configuration passes.
 */
export function checkNewClusterBootstrap(cfg: {
  name: string;
  initialCluster: readonly ClusterMember[];
  discovery: string;
}): string | undefined {
  if (memberUrls(cfg.initialCluster, cfg.name).length === 0) {
    return `couldn't find local name ${goQuote(cfg.name)} in the initial cluster configuration`;
  }
  const seen = new Set<string>();
  for (const m of cfg.initialCluster) {
    if (seen.has(m.url)) return `initial cluster ${formatInitialCluster(cfg.initialCluster)} has duplicate url`;
    seen.add(m.url);
  }
  if (cfg.initialCluster.length === 0 && cfg.discovery === "") return "initial cluster unset and no discovery URL found";
  return undefined;
}
