// Starting a member from a parsed configuration: open its data, serve clients and peers.
import type { Config } from "../config.ts";
import { createClientApp } from "../http/app.ts";
import { createPeerApp } from "../http/peer.ts";
import type { Listener, Runtime } from "../runtime.ts";
import { Member } from "./member.ts";

export interface RunningMember {
  readonly member: Member;
  /** The bound client ports, in --listen-client-urls order (useful with port 0). */
  readonly clientPorts: number[];
  /** Graceful stop: stop serving, finish in-flight writes, close the WAL. */
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

export async function startMember(rt: Runtime, cfg: Config): Promise<RunningMember> {
  if (cfg.proxy !== "off") throw new Error("proxy mode (--proxy on|readonly) is not built yet");
  const member = await Member.open(rt, cfg);
  const listeners: Listener[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(listeners.splice(0).map((l) => l.close().catch(() => {})));
  };
  try {
    const peerApp = createPeerApp(member);
    for (const url of cfg.listenPeerUrls) {
      listeners.push(await rt.serve(bindAddress(url), (req, info) => peerApp.fetch(req, info)));
      rt.log.info(`embed: listening for peers on ${url}`);
    }
    const clientApp = createClientApp(member, { cors: cfg.cors, enableV2: cfg.enableV2 });
    const clientPorts: number[] = [];
    for (const url of cfg.listenClientUrls) {
      const l = await rt.serve(bindAddress(url), (req, info) => clientApp.fetch(req, info));
      listeners.push(l);
      clientPorts.push(l.port);
      rt.log.info(`embed: serving insecure client requests on ${url}`);
    }
    await member.publish();
    rt.log.info(`etcdserver: published {Name:${cfg.name} ClientURLs:[${cfg.advertiseClientUrls.join(" ")}]} to cluster ${member.clusterId}`);
    rt.log.info("etcdmain: ready to serve client requests");
    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        await closeAll();
        await member.stop();
      })();
      return stopping;
    };
    const done = member.done.finally(() => closeAll());
    return { member, clientPorts, stop, done };
  } catch (e) {
    await closeAll();
    await member.stop();
    throw e;
  }
}
