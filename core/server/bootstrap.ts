// Who this member is and who its first peers are, for a member without data: a new cluster
// from --initial-cluster (static, or as discovery / DNS SRV produced it), or a member joining
// a running cluster (--initial-cluster-state existing) that learns the IDs from its peers.
import type { ClusterMember, Config } from "../config.ts";
import type { Runtime } from "../runtime.ts";
import { clusterId as deriveClusterId, memberId as deriveMemberId } from "./ids.ts";

export interface Peer {
  id: string;
  name: string;
  peerURLs: string[];
}

export interface Identity {
  memberId: string;
  clusterId: string;
  /** Every member of the initial configuration (this one included). */
  peers: Peer[];
  /** True when joining a running cluster: the log comes from the leader, not from bootstrap entries. */
  joining: boolean;
}

function group(initialCluster: ClusterMember[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const { name, url } of initialCluster) byName.set(name, [...(byName.get(name) ?? []), url]);
  return byName;
}

/** A new cluster: every member derives the same IDs from the same --initial-cluster and token. */
export async function newClusterIdentity(cfg: Config, initialCluster: ClusterMember[], token: string): Promise<Identity> {
  const byName = group(initialCluster);
  if (!byName.has(cfg.name)) {
    throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  }
  const peers = await Promise.all(
    [...byName.entries()].map(async ([name, urls]) => ({ id: await deriveMemberId(urls, token), name, peerURLs: [...urls].sort() })),
  );
  const self = peers.find((p) => p.name === cfg.name)!;
  return { memberId: self.id, clusterId: await deriveClusterId(peers.map((p) => p.id)), peers, joining: false };
}

interface RemoteMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** The peer /members answer, whose IDs are raw uint64 JSON numbers (too big for a double). */
function parseRemoteMembers(text: string): RemoteMember[] {
  const quoted = text.replace(/"id":\s*(\d+)/g, '"id":"$1"');
  const list = JSON.parse(quoted) as Array<{ id: string; name: string; peerURLs: string[]; clientURLs: string[] }>;
  return list.map((m) => ({ ...m, id: BigInt(m.id).toString(16) }));
}

/**
 * Joining a running cluster: ask the listed peers for the membership, check it matches
 * --initial-cluster (same count, same peer URLs), and take the IDs from the cluster.
 */
export async function joinIdentity(rt: Runtime, cfg: Config): Promise<Identity> {
  const byName = group(cfg.initialCluster);
  const own = new Set(cfg.initialAdvertisePeerUrls);
  const urls = cfg.initialCluster.map((m) => m.url).filter((u) => !own.has(u));
  let remote: RemoteMember[] | null = null;
  let clusterId = "";
  for (const url of urls) {
    try {
      const res = await rt.fetch(new Request(`${url.replace(/\/$/, "")}/members`, { signal: AbortSignal.timeout(2000) }));
      if (!res.ok) continue;
      remote = parseRemoteMembers(await res.text());
      clusterId = res.headers.get("x-etcd-cluster-id") ?? "";
      break;
    } catch {
      // try the next peer
    }
  }
  if (remote === null || clusterId === "") throw new Error("cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs");
  if (remote.length !== byName.size) {
    throw new Error(`error validating peerURLs ${JSON.stringify(remote.map((m) => m.peerURLs))}: member count is unequal`);
  }
  const wanted = new Set([...byName.values()].map((u) => [...u].sort().join(",")));
  for (const m of remote) {
    if (!wanted.has([...m.peerURLs].sort().join(","))) {
      throw new Error(`error validating peerURLs: PeerURLs: no match found for existing member (${m.id}, ${m.peerURLs.join(",")})`);
    }
  }
  const mine = [...own].sort().join(",");
  const self = remote.find((m) => [...m.peerURLs].sort().join(",") === mine);
  if (!self) throw new Error(`member with peer URLs ${mine} has not been added to the cluster (use member add first)`);
  return {
    memberId: self.id,
    clusterId,
    peers: remote.map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerURLs })),
    joining: true,
  };
}
