// The proxy's view of the cluster: the members' client URLs, refreshed every
// refreshIntervalMs (--proxy-refresh-interval, 30 s) so that membership changes are followed,
// and saved in <data-dir>/proxy/cluster so that a restarted proxy finds the cluster again.
//
// A refresh asks the known peer URLs for GET /members (what etcd's proxy does), and when no
// peer answers (or none is known, e.g. in an edge function given client URLs only), the
// known client URLs for GET /v2/members. The endpoint list is shuffled at each refresh, as
// etcd's director does, so that clients do not all stick to one member.
//
// The file is etcd's format, {"PeerURLs":[...]} (a real etcd proxy's file can be read), with
// our "ClientURLs" added (etcd ignores unknown fields). It is written to cluster.bak and renamed.
//
// Deviation: when a refresh fails, etcd's proxy drops to zero endpoints (every request then
// gets 503) until a refresh succeeds; we keep the last known endpoints, which the request
// handler leaves out one by one as they fail to connect.
import type { FileSystem, Logger } from "../runtime.ts";
import {
  type ClusterMemberInfo,
  type FetchFn,
  type SetTimerFn,
  clientURLsOf,
  fetchMembersFromClients,
  fetchMembersFromPeers,
  peerURLsOf,
} from "./cluster.ts";

export interface SavedCluster {
  peerURLs: string[];
  clientURLs: string[];
}

export interface ClusterEndpointsOptions {
  fetch: FetchFn;
  setTimer: SetTimerFn;
  /** Peer URLs to ask GET /members (from --initial-cluster, discovery, SRV or the saved file). */
  peerURLs?: string[];
  /** Client URLs to start with; also asked GET /v2/members when no peer answers. */
  clientURLs?: string[];
  /** Default 30000 (etcd's --proxy-refresh-interval). */
  refreshIntervalMs?: number;
  /** Timeout of each membership request; default 10000 (etcd's GetClusterFromRemotePeers). */
  requestTimeoutMs?: number;
  /** Where to save the cluster: fs and the file path (<data-dir>/proxy/cluster). */
  fs?: FileSystem;
  file?: string;
  log?: Logger;
  /** For the shuffle; default Math.random. */
  random?: () => number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

export class ClusterEndpoints {
  private readonly opts: ClusterEndpointsOptions;
  private peers: string[];
  private clients: string[];
  private order: string[];
  private memberList: ClusterMemberInfo[] = [];
  private cancelTimer: (() => void) | null = null;
  private stopped = false;
  private refreshing: Promise<boolean> | null = null;
  private announced = false;
  private saved: string | null = null;
  private readonly listeners = new Set<(clientURLs: string[]) => void>();

  constructor(opts: ClusterEndpointsOptions) {
    this.opts = opts;
    this.peers = [...new Set(opts.peerURLs ?? [])].sort();
    this.clients = [...new Set(opts.clientURLs ?? [])].sort();
    this.order = this.shuffle(this.clients);
  }

  /** Reads a saved cluster file (etcd's {"PeerURLs":[...]} or ours); null when it does not exist. */
  static async load(fs: FileSystem, file: string): Promise<SavedCluster | null> {
    if (!(await fs.exists(file))) return null;
    const text = decoder.decode(await fs.readFile(file));
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new Error(`proxy: cannot parse cluster file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof v !== "object" || v === null) throw new Error(`proxy: cannot parse cluster file ${file}: not an object`);
    const o = v as Record<string, unknown>;
    return { peerURLs: stringList(o["PeerURLs"]), clientURLs: stringList(o["ClientURLs"]) };
  }

  /** The client URLs to forward to, in this refresh's (shuffled) order. */
  endpoints(): string[] {
    return [...this.order];
  }

  /** Known peer URLs, sorted. */
  peerURLs(): string[] {
    return [...this.peers];
  }

  /** Known client URLs, sorted. */
  clientURLs(): string[] {
    return [...this.clients];
  }

  /** The members of the last successful refresh. */
  members(): ClusterMemberInfo[] {
    return this.memberList.map((m) => ({ ...m, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs] }));
  }

  /** Called with the new client URLs whenever they change. Returns an unsubscribe function. */
  onChange(fn: (clientURLs: string[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** First refresh, then one every refreshIntervalMs until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private schedule(): void {
    if (this.stopped) return;
    let ms = this.opts.refreshIntervalMs ?? 30_000;
    // etcd's director: with the default interval (or longer) and no endpoint, retry every second.
    if (ms >= 30_000 && this.clients.length === 0) ms = 1000;
    this.cancelTimer = this.opts.setTimer(ms, () => {
      this.cancelTimer = null;
      void this.refresh().finally(() => this.schedule());
    });
  }

  /** Asks the cluster for its members now. Resolves true when the member list was obtained. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const q = {
      fetch: this.opts.fetch,
      setTimer: this.opts.setTimer,
      timeoutMs: this.opts.requestTimeoutMs ?? 10_000,
      ...(this.opts.log ? { log: this.opts.log } : {}),
    };
    let members = this.peers.length > 0 ? await fetchMembersFromPeers(q, this.peers) : null;
    if (members === null && this.clients.length > 0) members = await fetchMembersFromClients(q, this.clients);
    if (this.stopped) return false;
    if (members === null) {
      this.opts.log?.warn(`proxy: could not get the cluster members from peer urls [${this.peers.join(" ")}] or client urls [${this.clients.join(" ")}]`);
      return false;
    }
    this.memberList = members;
    const peers = peerURLsOf(members);
    const clients = clientURLsOf(members);
    if (!sameList(peers, this.peers)) {
      if (this.peers.length > 0) this.opts.log?.info(`proxy: updated peer urls in cluster file from [${this.peers.join(" ")}] to [${peers.join(" ")}]`);
      this.peers = peers;
    }
    const changed = !sameList(clients, this.clients);
    this.clients = clients;
    this.order = this.shuffle(clients);
    if (!this.announced && clients.length > 0) {
      this.announced = true;
      this.opts.log?.info(`httpproxy: endpoints found [${clients.map((c) => JSON.stringify(c)).join(" ")}]`);
    }
    await this.save();
    if (changed) for (const fn of this.listeners) fn([...clients]);
    return true;
  }

  private async save(): Promise<void> {
    const { fs, file } = this.opts;
    if (!fs || !file) return;
    const text = JSON.stringify({ PeerURLs: this.peers, ClientURLs: this.clients });
    if (text === this.saved) return;
    try {
      await fs.writeFile(file + ".bak", encoder.encode(text));
      await fs.rename(file + ".bak", file);
      this.saved = text;
    } catch (e) {
      this.opts.log?.warn(`proxy: error on writing urls ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Fisher-Yates, as etcd's director shuffles its endpoints. */
  private shuffle(list: readonly string[]): string[] {
    const out = [...list];
    const random = this.opts.random ?? Math.random;
    for (let i = 0; i < out.length; i++) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
