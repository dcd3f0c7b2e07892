// A member's data on start: an existing data dir is reopened (the --initial-* and discovery
// flags are then ignored, as in etcd); an empty one is bootstrapped.
import type { Config } from "../config.ts";
import type { Runtime } from "../runtime.ts";
import { type Identity, joinIdentity, newClusterIdentity } from "./bootstrap.ts";
import { type OpenedData, createNew, forceNewCluster, hasData, openExisting } from "./storage.ts";

/** Who this member is, for an empty data dir: static, discovery, DNS SRV, or joining. */
async function bootstrapIdentity(rt: Runtime, cfg: Config): Promise<Identity> {
  if (cfg.initialClusterState === "existing") return joinIdentity(rt, cfg);
  if (cfg.discovery !== "" || cfg.discoverySrv !== "") {
    throw new Error("bootstrap by --discovery or --discovery-srv is not wired in yet");
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
