// Transports on real ports in one process, for the transport tests.
import type { Message } from "../../../core/raft/types.ts";
import type { Listener, Logger, Runtime } from "../../../core/runtime.ts";
import { Transport } from "../../../core/transport/transport.ts";
import type { TransportTuning } from "../../../core/transport/types.ts";
import { RecordingLogger } from "../../support/memory-runtime.ts";

export const CID = "c1a5";

/** Makes the runtime each node uses (the suite runs on Node, Bun and Deno adapters). */
export type RuntimeFactory = (log: Logger) => Runtime;
let factory: RuntimeFactory | undefined;

export function useRuntime(f: RuntimeFactory): void {
  factory = f;
}

export function newRuntime(log: Logger = new RecordingLogger()): Runtime {
  if (!factory) throw new Error("useRuntime() first");
  return factory(log);
}

/** Short timings so that the tests run quickly. */
export const FAST: Partial<TransportTuning> = {
  keepaliveMs: 100,
  deadMs: 1500,
  writerStallMs: 1000,
  backoffMinMs: 20,
  backoffMaxMs: 200,
  requestTimeoutMs: 2000,
  snapshotTimeoutMs: 5000,
  unreachableIntervalMs: 0,
  logIntervalMs: 0,
};

export interface Node {
  id: string;
  rt: Runtime;
  t: Transport;
  log: RecordingLogger;
  listener: Listener;
  url: string;
  port: number;
  received: Message[];
  unreachable: string[];
  snapStatus: [string, boolean][];
  sent: { ok: number; failed: number };
  removedSelf: string[];
  removed: Set<string>;
  /** Requests seen by this node's peer server, by "METHOD path". */
  requests: Map<string, number>;
  /** X-PeerURLs of the requests seen, by sender (X-Server-From). */
  advertised: Map<string, string>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  clusterId?: string;
  port?: number;
  tuning?: Partial<TransportTuning>;
  removed?: string[];
  /** Called after each received message is recorded. */
  onReceive?: (m: Message) => void;
  /** The transport's own advertised peer URLs (sent as X-PeerURLs). */
  peerURLs?: string[];
}

export async function startNode(id: string, o: NodeOptions = {}): Promise<Node> {
  const log = new RecordingLogger();
  const rt = newRuntime(log);
  const n = {
    id, rt, log,
    received: [] as Message[],
    unreachable: [] as string[],
    snapStatus: [] as [string, boolean][],
    sent: { ok: 0, failed: 0 },
    removedSelf: [] as string[],
    removed: new Set(o.removed ?? []),
    requests: new Map<string, number>(),
    advertised: new Map<string, string>(),
  } as Node;
  n.t = new Transport({
    rt,
    memberId: id,
    clusterId: o.clusterId ?? CID,
    receive: (m) => {
      n.received.push(m);
      o.onReceive?.(m);
    },
    isRemoved: (x) => n.removed.has(x),
    onUnreachable: (x) => n.unreachable.push(x),
    onSnapshotStatus: (x, ok) => n.snapStatus.push([x, ok]),
    onSent: (_x, ok) => void (ok ? n.sent.ok++ : n.sent.failed++),
    onRemovedSelf: (by) => n.removedSelf.push(by),
    tuning: { ...FAST, ...o.tuning },
    ...(o.peerURLs ? { peerURLs: o.peerURLs } : {}),
  });
  n.listener = await rt.serve({ hostname: "127.0.0.1", port: o.port ?? 0 }, (req) => {
    const key = `${req.method} ${new URL(req.url).pathname}`;
    n.requests.set(key, (n.requests.get(key) ?? 0) + 1);
    const adv = req.headers.get("X-PeerURLs");
    if (adv !== null) n.advertised.set(req.headers.get("X-Server-From") ?? "", adv);
    return n.t.handle(req) ?? new Response("not found\n", { status: 404 });
  });
  n.port = n.listener.port;
  n.url = `http://127.0.0.1:${n.port}`;
  n.stop = async () => {
    await n.t.stop();
    await n.listener.close();
  };
  return n;
}

/** Every node knows every other one. */
export function mesh(nodes: Node[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) a.t.addPeer(b.id, [b.url]);
}

export function count(n: Node, key: string): number {
  return n.requests.get(key) ?? 0;
}

let gcFn: (() => void) | undefined;

/**
 * A full garbage collection where the runtime allows one: Bun.gc, or V8's gc() (exposed at
 * run time through node:v8 on Node and Deno). False when none is available.
 */
export async function collectGarbage(): Promise<boolean> {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) {
    g.Bun.gc(true);
    return true;
  }
  if (!gcFn && typeof g.gc === "function") gcFn = g.gc;
  if (!gcFn) {
    try {
      const v8 = await import("node:v8");
      const vm = await import("node:vm");
      v8.setFlagsFromString("--expose-gc");
      gcFn = vm.runInNewContext("gc") as () => void;
    } catch {
      return false;
    }
  }
  gcFn();
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

export function msg(from: string, to: string, over: Partial<Message> = {}): Message {
  return { type: "MsgHeartbeat", to, from, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...over };
}

export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Headers a legitimate peer `from` would send to `to`. */
export function peerHeaders(from: string, to: string, cid = CID): Record<string, string> {
  return { "X-Etcd-Cluster-ID": cid, "X-Server-From": from, "X-Server-Version": "3.4.23", "X-Raft-To": to };
}
