// Learning a cluster's members over HTTP, as the v2 proxy and the discovery fallback need:
// the peer endpoint GET <peerURL>/members (etcd's GetClusterFromRemotePeers: the first peer
// that answers wins) and the client endpoint GET <clientURL>/v2/members.
import type { Logger } from "../runtime.ts";

export type FetchFn = (req: Request) => Promise<Response>;
/** Run fn once after ms; returns a function that cancels it (Runtime.setTimer). */
export type SetTimerFn = (ms: number, fn: () => void) => () => void;

export interface ClusterMemberInfo {
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

export interface MembersQueryOptions {
  fetch: FetchFn;
  setTimer: SetTimerFn;
  /** Per-request timeout; etcd's proxy uses 10 s for GetClusterFromRemotePeers. */
  timeoutMs?: number;
  log?: Logger;
}

const DEFAULT_MEMBERS_TIMEOUT_MS = 10_000;

/** The origin of a URL ("http://host:port"); etcd talks to scheme and host only. */
function originOf(u: string): string {
  const url = new URL(u);
  return `${url.protocol}//${url.host}`;
}

function strings(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) return null;
  return v as string[];
}

function toMember(v: unknown): ClusterMemberInfo | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  const peerURLs = strings(o["peerURLs"]);
  const clientURLs = strings(o["clientURLs"]);
  if (peerURLs === null || clientURLs === null) return null;
  return { name: typeof o["name"] === "string" ? o["name"] : "", peerURLs, clientURLs };
}

/** GET url with a timeout; resolves with the status, headers and body text. */
async function getText(opts: MembersQueryOptions, url: string): Promise<{ status: number; headers: Headers; text: string }> {
  const ac = new AbortController();
  const cancel = opts.setTimer(opts.timeoutMs ?? DEFAULT_MEMBERS_TIMEOUT_MS, () => ac.abort(new Error(`timeout after ${opts.timeoutMs ?? DEFAULT_MEMBERS_TIMEOUT_MS} ms`)));
  try {
    const res = await opts.fetch(new Request(url, { method: "GET", signal: ac.signal, redirect: "manual" }));
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } finally {
    cancel();
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * etcd's GetClusterFromRemotePeers: asks each peer URL in turn for GET /members and returns
 * the first valid answer (a 200 with an X-Etcd-Cluster-ID header and a JSON array of
 * members), or null when no peer answered.
 */
export async function fetchMembersFromPeers(opts: MembersQueryOptions, peerURLs: readonly string[]): Promise<ClusterMemberInfo[] | null> {
  for (const u of peerURLs) {
    let r: Awaited<ReturnType<typeof getText>>;
    try {
      r = await getText(opts, originOf(u) + "/members");
    } catch (e) {
      opts.log?.warn(`proxy: could not get cluster response from ${u}: ${describe(e)}`);
      continue;
    }
    if (r.status !== 200) {
      opts.log?.warn(`proxy: could not get cluster response from ${u}: unexpected status ${r.status}`);
      continue;
    }
    if (!/^[0-9a-fA-F]+$/.test(r.headers.get("x-etcd-cluster-id") ?? "")) {
      opts.log?.warn(`proxy: could not parse the cluster ID from cluster res from ${u}`);
      continue;
    }
    let list: unknown;
    try {
      // The IDs are raw uint64 numbers; they are not needed here, so precision does not matter.
      list = JSON.parse(r.text);
    } catch (e) {
      opts.log?.warn(`proxy: could not unmarshal cluster response from ${u}: ${describe(e)}`);
      continue;
    }
    const members = Array.isArray(list) ? list.map(toMember) : null;
    if (members === null || members.some((m) => m === null)) {
      opts.log?.warn(`proxy: could not unmarshal cluster response from ${u}: not a member list`);
      continue;
    }
    return members as ClusterMemberInfo[];
  }
  return null;
}

/** GET <clientURL>/v2/members on each client URL in turn; the first valid answer wins. */
export async function fetchMembersFromClients(opts: MembersQueryOptions, clientURLs: readonly string[]): Promise<ClusterMemberInfo[] | null> {
  for (const u of clientURLs) {
    let r: Awaited<ReturnType<typeof getText>>;
    try {
      r = await getText(opts, originOf(u) + "/v2/members");
    } catch (e) {
      opts.log?.warn(`proxy: could not get members from ${u}: ${describe(e)}`);
      continue;
    }
    if (r.status !== 200) {
      opts.log?.warn(`proxy: could not get members from ${u}: unexpected status ${r.status}`);
      continue;
    }
    let body: unknown;
    try {
      body = JSON.parse(r.text);
    } catch (e) {
      opts.log?.warn(`proxy: could not parse members from ${u}: ${describe(e)}`);
      continue;
    }
    const list = (body as { members?: unknown } | null)?.members;
    const members = Array.isArray(list) ? list.map(toMember) : null;
    if (members === null || members.some((m) => m === null)) {
      opts.log?.warn(`proxy: could not parse members from ${u}: not a member list`);
      continue;
    }
    return members as ClusterMemberInfo[];
  }
  return null;
}

/** Every member's client URLs, de-duplicated and sorted (etcd's Cluster.ClientURLs()). */
export function clientURLsOf(members: readonly ClusterMemberInfo[]): string[] {
  return [...new Set(members.flatMap((m) => m.clientURLs))].sort();
}

/** Every member's peer URLs, de-duplicated and sorted (etcd's Cluster.PeerURLs()). */
export function peerURLsOf(members: readonly ClusterMemberInfo[]): string[] {
  return [...new Set(members.flatMap((m) => m.peerURLs))].sort();
}
