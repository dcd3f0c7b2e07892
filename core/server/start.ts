// Starting a member from a parsed configuration: open (or bootstrap) its data, join the
// Raft cluster through the peer listeners, serve clients, publish itself.
import type { Config } from "../config.ts";
import { createClientApp } from "../http/app.ts";
import { createPeerApp } from "../http/peer.ts";
import type { Listener, RequestInfo, Runtime } from "../runtime.ts";
import { type RunningProxy, startProxy } from "../proxy/start.ts";
import { Member } from "./member.ts";
import { DiscoveryError, joinFailureMessage } from "./discovery.ts";
import { ClusterFullError, openMemberData } from "./open.ts";
import { hasData } from "./storage.ts";

export interface RunningMember {
  readonly member: Member;
  /** The bound client ports, in --listen-client-urls order (useful with port 0). */
  readonly clientPorts: number[];
  /** Resolves once the member has published itself to the cluster (ready for clients). */
  readonly ready: Promise<void>;
  /** Graceful stop: hand over leadership, stop serving, finish in-flight writes, close the WAL. */
  stop(): Promise<void>;
  /** Resolves when the member stops by itself (removal); rejects with a fatal error. */
  readonly done: Promise<void>;
}

function bindAddress(url: string): { hostname: string; port: number } {
  const u = new URL(url);
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
  return { hostname, port };
}

/**
 * Starts what the configuration and data dir call for: a member, or a v2 proxy (--proxy on|
 * readonly, a data dir holding a proxy's state, or a discovery that found the cluster full
 * with --discovery-fallback proxy).
 */
export async function startMember(rt: Runtime, cfg: Config): Promise<RunningMember | RunningProxy> {
  const isMemberDir = await hasData(rt, cfg);
  const isProxyDir = !isMemberDir && (await rt.fs.exists(`${cfg.dataDir}/proxy`));
  if (!isMemberDir && (cfg.proxy !== "off" || isProxyDir)) return startProxy(rt, cfg);
  let data;
  try {
    data = await openMemberData(rt, cfg);
  } catch (e) {
    if (e instanceof ClusterFullError && cfg.discoveryFallback === "proxy") {
      rt.log.warn("etcdmain: discovery cluster full, falling back to proxy");
      return startProxy(rt, cfg, { peerURLs: e.peerURLs, clientURLs: e.clientURLs });
    }
    // etcdmain logs a failed discovery as "failed to join discovery cluster (<err>)".
    if (e instanceof ClusterFullError || e instanceof DiscoveryError) throw new Error(joinFailureMessage(e), { cause: e });
    throw e;
  }
  return serveMember(rt, cfg, new Member(rt, cfg, data));
}

async function serveMember(rt: Runtime, cfg: Config, member: Member): Promise<RunningMember> {
  const listeners: Listener[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(listeners.splice(0).map((l) => l.close().catch(() => {})));
  };
  try {
    const peerApp = createPeerApp(member, (req) => member.transport.handle(req));
    for (const url of cfg.listenPeerUrls) {
      listeners.push(await rt.serve(bindAddress(url), (req, info) => peerApp.fetch(req, info)));
      rt.log.info(`embed: listening for peers on ${url}`);
    }
    await member.start();
    let published = false;
    const ready = member.publish().then(() => {
      published = true;
      rt.log.info(`etcdserver: published {Name:${cfg.name} ClientURLs:[${cfg.advertiseClientUrls.join(" ")}]} to cluster ${member.clusterId}`);
      rt.log.info("etcdmain: ready to serve client requests");
    });
    ready.catch(() => {});
    const clientApp = createClientApp(member, { cors: cfg.cors, enableV2: cfg.enableV2 });
    // As etcd, client requests are held until the member has published itself through the
    // log: by then it has applied everything it had before a restart, so it never answers
    // from an older state than it showed before.
    const serveClient = (req: Request, info: RequestInfo): Response | Promise<Response> =>
      published ? clientApp.fetch(req, info) : ready.then(() => clientApp.fetch(req, info));
    const clientPorts: number[] = [];
    for (const url of cfg.listenClientUrls) {
      const l = await rt.serve(bindAddress(url), serveClient);
      listeners.push(l);
      clientPorts.push(l.port);
      rt.log.info(`embed: serving insecure client requests on ${url}`);
    }
    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        await member.transferLeadership(2000).catch(() => {});
        await closeAll();
        await member.stop();
      })();
      return stopping;
    };
    const done = member.done.finally(() => closeAll());
    return { member, clientPorts, ready, stop, done };
  } catch (e) {
    await closeAll();
    await member.stop();
    throw e;
  }
}
