// Starting the v2 proxy (--proxy on|readonly, or --discovery-fallback=proxy when the discovery
// cluster is full), as etcd 3.4's etcdmain.startProxy does:
//   * <data-dir>/proxy is created; when <data-dir>/proxy/cluster exists, the peer URLs come
//     from it and --discovery / --discovery-srv are ignored (with a warning);
//   * otherwise from --discovery (the registered members, without registering), from
//     --discovery-srv (the _etcd-server[-ssl] records) or from --initial-cluster;
//   * the members' client URLs are learnt with GET <peerURL>/members and refreshed every
//     --proxy-refresh-interval; the file is rewritten when they change;
//   * the proxy handler is served on every --listen-client-urls.
import type { Config } from "../config.ts";
import type { Listener, Runtime } from "../runtime.ts";
import { getDiscoveredCluster } from "../server/discovery.ts";
import { srvServerCluster } from "../server/srv.ts";
import { ClusterEndpoints } from "./endpoints.ts";
import { createProxyHandler } from "./handler.ts";

export interface RunningProxy {
  /** The bound client ports, in --listen-client-urls order (useful with port 0). */
  readonly clientPorts: number[];
  /** The cluster view (endpoints, refresh). */
  readonly cluster: ClusterEndpoints;
  /** Stop serving and refreshing. */
  stop(): Promise<void>;
  /** Resolves once the proxy has stopped (a proxy never stops by itself); rejects on a fatal error. */
  readonly done: Promise<void>;
}

export interface StartProxyOptions {
  /**
   * Peer URLs already known (e.g. discoverCluster's "full" result), used when there is no
   * saved cluster file instead of asking the discovery service again.
   */
  peerURLs?: string[];
  /** Client URLs already known; tried with GET /v2/members when no peer answers. */
  clientURLs?: string[];
}

function bindAddress(url: string): { hostname: string; port: number } {
  const u = new URL(url);
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
  return { hostname, port };
}

/** Go's %v of a []string. */
const goList = (l: readonly string[]): string => `[${l.join(" ")}]`;

/** The peer URLs to start from: the saved file, discovery, DNS SRV or --initial-cluster. */
async function initialPeers(rt: Runtime, cfg: Config, file: string, opts: StartProxyOptions): Promise<{ peerURLs: string[]; clientURLs: string[] }> {
  const saved = await ClusterEndpoints.load(rt.fs, file);
  if (saved !== null) {
    if (cfg.discovery !== "") {
      rt.log.warn(`etcdmain: discovery token ignored since the proxy has already been initialized. Valid cluster file found at "${file}"`);
    }
    if (cfg.discoverySrv !== "") {
      rt.log.warn(`etcdmain: DNS SRV discovery ignored since the proxy has already been initialized. Valid cluster file found at "${file}"`);
    }
    rt.log.info(`etcdmain: proxy: using peer urls ${goList(saved.peerURLs)} from cluster file "${file}"`);
    return { peerURLs: saved.peerURLs, clientURLs: [...saved.clientURLs, ...(opts.clientURLs ?? [])] };
  }
  let peerURLs: string[];
  if (opts.peerURLs !== undefined) {
    peerURLs = [...opts.peerURLs];
  } else if (cfg.discovery !== "") {
    const s = await getDiscoveredCluster(rt, { url: cfg.discovery, log: rt.log });
    peerURLs = s.split(",").filter((x) => x !== "").map((x) => x.slice(x.indexOf("=") + 1));
  } else if (cfg.discoverySrv !== "") {
    const entries = await srvServerCluster(rt, {
      domain: cfg.discoverySrv,
      srvName: cfg.discoverySrvName,
      name: cfg.name,
      advertisePeerURLs: cfg.initialAdvertisePeerUrls,
      log: rt.log,
    });
    peerURLs = entries.map((e) => e.url);
  } else {
    peerURLs = cfg.initialCluster.map((m) => m.url);
  }
  peerURLs = [...new Set(peerURLs)].sort();
  rt.log.info(`etcdmain: proxy: using peer urls ${goList(peerURLs)} `);
  return { peerURLs, clientURLs: opts.clientURLs ?? [] };
}

export async function startProxy(rt: Runtime, cfg: Config, opts: StartProxyOptions = {}): Promise<RunningProxy> {
  rt.log.info("etcdmain: proxy: this proxy supports v2 API only!");
  const dir = `${cfg.dataDir}/proxy`;
  await rt.fs.mkdir(dir);
  const file = `${dir}/cluster`;
  const initial = await initialPeers(rt, cfg, file, opts);

  const cluster = new ClusterEndpoints({
    fetch: (r) => rt.fetch(r),
    setTimer: (ms, fn) => rt.setTimer(ms, fn),
    peerURLs: initial.peerURLs,
    clientURLs: initial.clientURLs,
    refreshIntervalMs: cfg.proxyRefreshIntervalMs,
    fs: rt.fs,
    file,
    log: rt.log,
    random: () => rt.random(),
  });
  await cluster.start();

  const handler = createProxyHandler({
    fetch: (r) => rt.fetch(r),
    endpoints: () => cluster.endpoints(),
    readonly: cfg.proxy === "readonly",
    failureWaitMs: cfg.proxyFailureWaitMs,
    log: rt.log,
    now: () => rt.monotonic(),
    cors: cfg.cors,
  });

  const listeners: Listener[] = [];
  const clientPorts: number[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(listeners.splice(0).map((l) => l.close().catch(() => {})));
  };
  try {
    for (const url of cfg.listenClientUrls) {
      const l = await rt.serve(bindAddress(url), (req, info) => handler(req, { rawTarget: info.rawTarget }));
      listeners.push(l);
      clientPorts.push(l.port);
      rt.log.info(`etcdmain: v2 proxy started listening on client requests on "${url}"`);
    }
  } catch (e) {
    cluster.stop();
    await closeAll();
    throw e;
  }

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      cluster.stop();
      await closeAll();
      resolveDone();
    })();
    return stopping;
  };
  return { clientPorts, cluster, stop, done };
}
