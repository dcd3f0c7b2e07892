// A member's data on start: an existing data dir is reopened (the --initial-* and discovery
// flags are then ignored, as in etcd); an empty one is bootstrapped — statically, by a
// discovery service, by DNS SRV records, or by joining a running cluster.
import type { ClusterMember, Config } from "../config.ts";
import { parseInitialCluster } from "../config.ts";
import type { Runtime } from "../runtime.ts";
import { type Identity, joinIdentity, newClusterIdentity } from "./bootstrap.ts";
import { discoverCluster } from "./discovery.ts";
import { srvInitialCluster } from "./srv.ts";
import { type OpenedData, createNew, forceNewCluster, hasData, openExisting } from "./storage.ts";

/** Discovery found the cluster already complete: this process should become a proxy (or exit). */
export class ClusterFullError extends Error {
  constructor(readonly peerURLs: string[], readonly clientURLs: string[]) {
    super("discovery: cluster is full");
  }
}

function parseCluster(text: string): ClusterMember[] {
  const parsed = parseInitialCluster(text);
  if (!parsed.ok) throw new Error(`error setting up initial cluster: ${parsed.error}`);
  return parsed.value;
}

/** Who this member is, for an empty data dir. */
async function bootstrapIdentity(rt: Runtime, cfg: Config): Promise<Identity> {
  if (cfg.initialClusterState === "existing") return joinIdentity(rt, cfg);
  if (cfg.discovery !== "") {
    const found = await discoverCluster(rt, { url: cfg.discovery, name: cfg.name, peerURLs: cfg.initialAdvertisePeerUrls, log: rt.log });
    if (found.kind === "full") throw new ClusterFullError(found.peerURLs, found.clientURLs);
    rt.log.info(`discovery: found the initial cluster ${found.initialCluster}`);
    // With discovery, the token mixed into member IDs is the discovery URL itself.
    return newClusterIdentity(cfg, parseCluster(found.initialCluster), cfg.discovery);
  }
  if (cfg.discoverySrv !== "") {
    const text = await srvInitialCluster(rt, {
      domain: cfg.discoverySrv, srvName: cfg.discoverySrvName, name: cfg.name, advertisePeerURLs: cfg.initialAdvertisePeerUrls, log: rt.log,
    });
    rt.log.info(`discovery: DNS SRV records give the initial cluster ${text}`);
    return newClusterIdentity(cfg, parseCluster(text), cfg.initialClusterToken);
  }
  return newClusterIdentity(cfg, cfg.initialCluster, cfg.initialClusterToken);
}

export async function openMemberData(rt: Runtime, cfg: Config): Promise<OpenedData> {
  if (await hasData(rt, cfg)) {
    const data = await openExisting(rt, cfg);
    if (cfg.forceNewCluster) await forceNewCluster(rt, data);
    return data;
  }
  const identity = await bootstrapIdentity(rt, cfg);
  const data = await createNew(rt, cfg, identity);
  rt.log.info(`etcdserver: ${identity.joining ? "joining" : "starting a new"} cluster ${identity.clusterId} as member ${identity.memberId} (${cfg.name})`);
  return data;
}
