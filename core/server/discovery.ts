// Bootstrap through a discovery service (--discovery <url>): the v2 discovery protocol of
// etcd 3.4 (etcdserver/api/v2discovery), spoken over plain v2 keys requests through rt.fetch.
//
// The discovery URL's path is the token directory <T> (for a self-hosted service
// http://disc:2379/v2/keys/_etcd/registry/<token>; for https://discovery.etcd.io/<token> the
// service maps the path onto its registry). A joining member:
//   1. GET <T>/_config/size                      the expected cluster size N
//   2. GET <T>                                   registered members, sorted by createdIndex;
//      if N are registered and this member is not among them: the cluster is full (before
//      registering, so an extra member never registers)
//   3. PUT <T>/<id>?prevExist=false value=<name>=<peerURL>,...   (105 -> duplicate id)
//   4. GET <T>/<id>?wait=true&waitIndex=<createdIndex>            its own registration
//   5. GET <T> again (the full check once more)
//   6. GET <T>?wait=true&recursive=true&waitIndex=<X-Etcd-Index+1> until N members are known
//   7. the first N values joined with "," are the initial cluster
// Connection errors (and 5xx answers, which etcd's client treats alike) while checking the
// cluster or waiting are retried after 2^k seconds (k = 1, 2, ... capped at 8), like etcd.
// Registration itself is not retried (etcd does not: a retry could find its own key).
import { formatInitialCluster, parseInitialCluster } from "../config/initial-cluster.ts";
import { clientURLsOf, fetchMembersFromPeers } from "../proxy/cluster.ts";
import type { Logger, Runtime } from "../runtime.ts";
import { goDuration } from "./go-format.ts";
import { memberId as deriveMemberId } from "./ids.ts";

export const ERR_INVALID_URL = "discovery: invalid URL";
export const ERR_BAD_SIZE_KEY = "discovery: size key is bad";
export const ERR_SIZE_NOT_FOUND = "discovery: size key not found";
export const ERR_TOKEN_NOT_FOUND = "discovery: token not found";
export const ERR_DUPLICATE_ID = "discovery: found duplicate id";
export const ERR_DUPLICATE_NAME = "discovery: found duplicate name";
export const ERR_FULL_CLUSTER = "discovery: cluster is full";
export const ERR_TOO_MANY_RETRIES = "discovery: too many retries";
export const ERR_BAD_DISCOVERY_ENDPOINT = "discovery: bad discovery endpoint";
/** Ours: the overall timeout (etcd has none; it waits forever). */
export const ERR_TIMEOUT = "discovery: timed out";
/** Ours: discovery was cancelled through opts.signal. */
export const ERR_CANCELLED = "discovery: cancelled";

/**
 * A discovery failure. `message` is etcd's own error text ("discovery: size key is bad", or
 * a v2 client error such as "100: Key not found (/_etcd) [4]"); etcdmain logs it wrapped as
 * `failed to join discovery cluster (<message>)` (see joinFailureMessage).
 */
export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";
}

/** The line etcd 3.4 logs (etcdmain, error level) when joining through discovery fails. */
export function joinFailureMessage(e: unknown): string {
  return `failed to join discovery cluster (${e instanceof Error ? e.message : String(e)})`;
}

/** What discovery needs from the Runtime. */
export type DiscoveryRuntime = Pick<Runtime, "fetch" | "setTimer">;

export interface DiscoveryOptions {
  /** --discovery: the token URL. */
  url: string;
  /** --name */
  name: string;
  /** This member's ID (hex). Default: memberId(peerURLs, url), the discovery URL being the token. */
  memberId?: string;
  /** --initial-advertise-peer-urls */
  peerURLs: string[];
  log?: Logger;
  /** Bound on the whole discovery, ms. Default: none (etcd waits for the other members forever). */
  timeoutMs?: number;
  /** Back-off unit: the k-th retry waits retryBaseMs * 2^min(k, 8). Default 1000 (etcd: 2^k s). */
  retryBaseMs?: number;
  /** Timeout of each non-waiting request (etcd's client.DefaultRequestTimeout: 5 s). */
  requestTimeoutMs?: number;
  /** Timeout of each GET <peerURL>/members when a full cluster's client URLs are looked up. Default 10 s. */
  membersTimeoutMs?: number;
  /** Aborting it stops discovery with ERR_CANCELLED (or the signal's reason when it is an Error). */
  signal?: AbortSignal;
}

export type DiscoveryResult =
  | { kind: "ok"; initialCluster: string }
  | {
      kind: "full";
      /** The first N registrations, joined as etcd's GetCluster returns them. */
      initialCluster: string;
      /** Their peer URLs, sorted (what a fallback proxy saves in <data-dir>/proxy/cluster). */
      peerURLs: string[];
      /** Client URLs learnt from GET <peerURL>/members; empty when no member answered yet. */
      clientURLs: string[];
    };

interface V2Node {
  key: string;
  value?: string;
  dir?: boolean;
  nodes?: V2Node[];
  createdIndex: number;
  modifiedIndex: number;
}

interface V2Response {
  action: string;
  node: V2Node;
  /** X-Etcd-Index */
  index: number;
}

/** Why a request failed, classified as etcd's v2 client classifies it. */
class RequestFailure extends Error {
  constructor(
    readonly kind: "cluster" | "etcd" | "invalid-json" | "empty-body",
    message: string,
    readonly errorCode?: number,
  ) {
    super(message);
  }
}

/** The whole discovery is over (timeout or cancellation): stop at once. */
class Stop extends Error {}

const MAX_EXPONENTIAL_RETRIES = 8;
/** etcd's nRetries = math.MaxUint32. */
const MAX_RETRIES = 0xffffffff;

/** Go's path.Clean for '/'-rooted paths. */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

/** Go's path.Base. */
function baseName(p: string): string {
  const c = cleanPath(p);
  return c === "/" ? "/" : c.slice(c.lastIndexOf("/") + 1);
}

/** strconv.Atoi: optional sign and decimal digits, within int64. */
function atoi(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return null;
  return Number(n);
}

/** The uri-encoded form body etcd's client sends. */
function formEncode(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v).replace(/%20/g, "+"))
    .join("&");
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class Discovery {
  private readonly endpoint: string;
  private readonly authorization: string | null;
  /** The token directory: the discovery URL's path. */
  private readonly cluster: string;
  private readonly id: string;
  private retries = 0;
  private readonly stop = new AbortController();
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly rt: DiscoveryRuntime,
    private readonly opts: { url: string; id: string; log?: Logger; timeoutMs?: number; retryBaseMs?: number; requestTimeoutMs?: number; signal?: AbortSignal },
  ) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch (e) {
      throw new DiscoveryError(`parse ${JSON.stringify(opts.url)}: ${describe(e)}`);
    }
    this.authorization = u.username !== "" ? "Basic " + btoa(decodeURIComponent(u.username) + ":" + decodeURIComponent(u.password)) : null;
    this.endpoint = `${u.protocol}//${u.host}`;
    this.cluster = u.pathname;
    this.id = opts.id;
    if (opts.timeoutMs !== undefined) {
      const ms = opts.timeoutMs;
      this.cleanups.push(rt.setTimer(ms, () => this.stop.abort(new DiscoveryError(`${ERR_TIMEOUT} after ${goDuration(ms)}`))));
    }
    const signal = opts.signal;
    if (signal) {
      const onAbort = (): void => {
        this.stop.abort(signal.reason instanceof Error ? signal.reason : new DiscoveryError(ERR_CANCELLED));
      };
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        this.cleanups.push(() => signal.removeEventListener("abort", onAbort));
      }
    }
  }

  /** The URL of the discovery service without the token path (what etcd logs). */
  get serviceURL(): string {
    return this.endpoint;
  }

  close(): void {
    for (const c of this.cleanups.splice(0)) c();
  }

  private selfKey(): string {
    return cleanPath(this.cluster + "/" + this.id);
  }

  private checkStopped(): void {
    if (this.stop.signal.aborted) throw new Stop();
  }

  /** The error to report once stopped. */
  stopReason(): Error {
    const r: unknown = this.stop.signal.reason;
    return r instanceof Error ? r : new DiscoveryError(ERR_CANCELLED);
  }

  /** One v2 keys request. `wait` requests have no per-request timeout. */
  private async request(method: string, key: string, query: Record<string, string>, body?: Record<string, string>, wait = false): Promise<V2Response> {
    this.checkStopped();
    const ac = new AbortController();
    const onStop = (): void => ac.abort();
    this.stop.signal.addEventListener("abort", onStop, { once: true });
    let timedOut = false;
    const reqTimeout = this.opts.requestTimeoutMs ?? 5000;
    const cancelTimer = wait ? () => {} : this.rt.setTimer(reqTimeout, () => {
      timedOut = true;
      ac.abort();
    });
    // etcd's client sorts the query (url.Values.Encode).
    const qs = Object.keys(query).sort().map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k]!)}`).join("&");
    const url = this.endpoint + key + (qs === "" ? "" : "?" + qs);
    const headers: Record<string, string> = {};
    if (this.authorization !== null) headers["Authorization"] = this.authorization;
    let payload: string | undefined;
    if (body !== undefined) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      payload = formEncode(body);
    }
    let status: number;
    let text: string;
    let index: number;
    try {
      const res = await this.rt.fetch(new Request(url, { method, headers, body: payload ?? null, signal: ac.signal, redirect: "follow" }));
      status = res.status;
      index = Number(res.headers.get("x-etcd-index") ?? "0");
      text = await res.text();
    } catch (e) {
      this.checkStopped();
      throw new RequestFailure("cluster", timedOut ? `client: request to ${this.endpoint} timed out after ${goDuration(reqTimeout)}` : `client: etcd cluster is unavailable or misconfigured; error #0: ${describe(e)}`);
    } finally {
      cancelTimer();
      this.stop.signal.removeEventListener("abort", onStop);
    }
    this.checkStopped();
    if (status >= 500) {
      throw new RequestFailure("cluster", `client: etcd cluster is unavailable or misconfigured; error #0: client: etcd member ${this.endpoint} has no leader (status ${status})`);
    }
    if (status === 200 || status === 201) {
      if (text === "") throw new RequestFailure("empty-body", "client: response body is empty");
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new RequestFailure("invalid-json", "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.");
      }
      const r = parsed as { action?: unknown; node?: unknown };
      if (typeof r !== "object" || r === null || typeof r.node !== "object" || r.node === null) {
        throw new RequestFailure("invalid-json", "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.");
      }
      return { action: String(r.action ?? ""), node: r.node as V2Node, index: Number.isFinite(index) ? index : 0 };
    }
    let err: { errorCode?: unknown; message?: unknown; cause?: unknown; index?: unknown };
    try {
      err = JSON.parse(text) as typeof err;
      if (typeof err !== "object" || err === null || typeof err.errorCode !== "number") throw new Error("not an etcd error");
    } catch {
      throw new RequestFailure("invalid-json", "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.");
    }
    // client.Error.Error(): "%v: %v (%v) [%v]"
    throw new RequestFailure("etcd", `${err.errorCode}: ${String(err.message ?? "")} (${String(err.cause ?? "")}) [${String(err.index ?? 0)}]`, err.errorCode);
  }

  private get(key: string): Promise<V2Response> {
    // etcd's client.Get always sends these three.
    return this.request("GET", key, { quorum: "false", recursive: "false", sorted: "false" });
  }

  /** A watch that returns the next event at or after waitIndex; empty answers are re-issued, as etcd's watcher does. */
  private async watch(key: string, waitIndex: number, recursive: boolean): Promise<V2Response> {
    for (;;) {
      try {
        return await this.request("GET", key, { recursive: String(recursive), wait: "true", waitIndex: String(waitIndex) }, undefined, true);
      } catch (e) {
        if (e instanceof RequestFailure && e.kind === "empty-body") continue;
        throw e;
      }
    }
  }

  private async sleep(ms: number): Promise<void> {
    this.checkStopped();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        cancel();
        this.stop.signal.removeEventListener("abort", done);
        resolve();
      };
      const cancel = this.rt.setTimer(ms, done);
      this.stop.signal.addEventListener("abort", done, { once: true });
    });
    this.checkStopped();
  }

  private async backoff(step: string): Promise<void> {
    this.retries++;
    const k = Math.min(this.retries, MAX_EXPONENTIAL_RETRIES);
    const ms = (this.opts.retryBaseMs ?? 1000) * 2 ** k;
    this.opts.log?.info(`discovery: ${step}: error connecting to ${this.endpoint}, retrying in ${goDuration(ms)}`);
    await this.sleep(ms);
  }

  /**
   * Size, registered members sorted by createdIndex, and the index to watch from. `full` is
   * set (with the first N members) when N members are registered and this one is not among them.
   */
  async checkCluster(): Promise<{ nodes: V2Node[]; size: number; index: number; full: boolean }> {
    for (;;) {
      const configKey = cleanPath(this.cluster + "/_config");
      let sizeResp: V2Response;
      try {
        sizeResp = await this.get(configKey + "/size");
      } catch (e) {
        if (!(e instanceof RequestFailure)) throw e;
        // etcd 3.4 means to report a missing size key as ErrSizeNotFound, but its type check
        // (err.(*client.Error) against a client.Error value) never matches, so 3.4.23 really
        // logs the raw client error ("100: Key not found (/_etcd) [4]"). We give the intended message.
        if (e.kind === "etcd" && e.errorCode === 100) throw new DiscoveryError(ERR_SIZE_NOT_FOUND);
        if (e.kind === "invalid-json") throw new DiscoveryError(ERR_BAD_DISCOVERY_ENDPOINT);
        if (e.kind === "cluster") {
          this.opts.log?.error(`discovery: ${e.message}`);
          await this.retryOrGiveUp("cluster status check");
          continue;
        }
        throw new DiscoveryError(e.message);
      }
      const size = atoi(sizeResp.node.value ?? "");
      // A size below 1 is refused too: etcd would panic (negative) or "bootstrap" nobody (0).
      if (size === null || size < 1) throw new DiscoveryError(ERR_BAD_SIZE_KEY);

      let list: V2Response;
      try {
        list = await this.get(this.cluster);
      } catch (e) {
        if (!(e instanceof RequestFailure)) throw e;
        if (e.kind === "cluster") {
          this.opts.log?.error(`discovery: ${e.message}`);
          await this.retryOrGiveUp("cluster status check");
          continue;
        }
        throw new DiscoveryError(e.message);
      }
      const configBase = baseName(configKey);
      const nodes = (list.node.nodes ?? []).filter((n) => baseName(n.key) !== configBase);
      // Stable sort by createdIndex, as etcd's sort.Sort of sortableNodes (ties cannot happen).
      nodes.sort((a, b) => a.createdIndex - b.createdIndex);
      const self = baseName(this.selfKey());
      for (let i = 0; i < nodes.length; i++) {
        if (baseName(nodes[i]!.key) === self) break;
        if (i >= size - 1) return { nodes: nodes.slice(0, size), size, index: list.index, full: true };
      }
      return { nodes, size, index: list.index, full: false };
    }
  }

  private async retryOrGiveUp(step: string): Promise<void> {
    if (this.retries >= MAX_RETRIES) throw new DiscoveryError(ERR_TOO_MANY_RETRIES);
    await this.backoff(step);
  }

  /** PUT <T>/<id>?prevExist=false, then wait until the registration is visible. */
  async createSelf(contents: string): Promise<void> {
    let created: V2Response;
    try {
      created = await this.request("PUT", this.selfKey(), { prevExist: "false" }, { value: contents });
    } catch (e) {
      if (e instanceof RequestFailure) {
        if (e.kind === "etcd" && e.errorCode === 105) throw new DiscoveryError(ERR_DUPLICATE_ID);
        throw new DiscoveryError(e.message);
      }
      throw e;
    }
    try {
      await this.watch(this.selfKey(), created.node.createdIndex, false);
    } catch (e) {
      if (e instanceof RequestFailure) throw new DiscoveryError(e.message);
      throw e;
    }
  }

  /** Watches the token directory until `size` members are known (or the cluster turned out full). */
  async waitNodes(nodes: V2Node[], size: number, index: number): Promise<{ full: boolean; nodes: V2Node[]; size: number }> {
    for (;;) {
      const all = nodes.slice(0, size);
      const self = baseName(this.selfKey());
      for (const n of all) {
        if (baseName(n.key) === self) this.opts.log?.info(`discovery: found self ${self} in the cluster`);
        else this.opts.log?.info(`discovery: found peer ${baseName(n.key)} in the cluster`);
      }
      const known = new Set(all.map((n) => baseName(n.key)));
      let waitIndex = index + 1;
      let restart = false;
      while (all.length < size) {
        this.opts.log?.info(`discovery: found ${all.length} peer(s), waiting for ${size - all.length} more`);
        let ev: V2Response;
        try {
          ev = await this.watch(this.cluster, waitIndex, true);
        } catch (e) {
          if (!(e instanceof RequestFailure)) throw e;
          if (e.kind === "cluster") {
            this.opts.log?.error(`discovery: ${e.message}`);
            await this.retryOrGiveUp("waiting for other nodes");
          } else if (!(e.kind === "etcd" && e.errorCode === 401)) {
            throw new DiscoveryError(e.message);
          }
          // Ours: etcd 3.4 gives up when its waitIndex has left the event history (401);
          // we list the directory again instead, as after a connection error.
          restart = true;
          break;
        }
        waitIndex = ev.node.modifiedIndex + 1;
        // Ours: etcd appends every event's node; only new registrations are counted here,
        // so a change below _config, a deletion or an update cannot be taken for a member.
        const key = baseName(ev.node.key);
        const isCreate = ev.action === "create" || ev.action === "set";
        if (!isCreate || ev.node.dir === true || key === "_config" || ev.node.key.includes("/_config/") || known.has(key)) continue;
        known.add(key);
        this.opts.log?.info(`discovery: found peer ${key} in the cluster`);
        all.push(ev.node);
      }
      if (!restart) {
        this.opts.log?.info(`discovery: found ${all.length} needed peer(s)`);
        return { full: false, nodes: all, size };
      }
      const c = await this.checkCluster();
      if (c.full) return { full: true, nodes: c.nodes, size: c.size };
      nodes = c.nodes;
      size = c.size;
      index = c.index;
    }
  }
}

/** The first N registrations as an initial-cluster string, checked as etcd's nodesToCluster does. */
function nodesToCluster(nodes: readonly V2Node[], size: number): string {
  const us = nodes.map((n) => n.value ?? "").join(",");
  const parsed = parseInitialCluster(us);
  if (!parsed.ok) throw new DiscoveryError(ERR_INVALID_URL);
  if (new Set(parsed.value.map((m) => m.name)).size !== size) throw new DiscoveryError(ERR_DUPLICATE_NAME);
  return us;
}

function peerURLsOfCluster(initialCluster: string): string[] {
  const parsed = parseInitialCluster(initialCluster);
  return parsed.ok ? [...new Set(parsed.value.map((m) => m.url))].sort() : [];
}

async function run<T>(d: Discovery, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Stop) throw d.stopReason();
    throw e;
  } finally {
    d.close();
  }
}

/**
 * Joins the cluster being bootstrapped at opts.url: registers this member and waits until the
 * expected number of members registered. Resolves with the initial cluster ("name=url,...",
 * in registration order) or, when the cluster is already full, with the registered members
 * for a fallback proxy. Rejects with a DiscoveryError carrying etcd's message.
 */
export async function discoverCluster(rt: DiscoveryRuntime, opts: DiscoveryOptions): Promise<DiscoveryResult> {
  const id = opts.memberId ?? (await deriveMemberId(opts.peerURLs, opts.url));
  const d = new Discovery(rt, { ...opts, id });
  const full = async (nodes: V2Node[], size: number): Promise<DiscoveryResult> => {
    const initialCluster = nodesToCluster(nodes, size);
    const peerURLs = peerURLsOfCluster(initialCluster);
    const members = await fetchMembersFromPeers(
      { fetch: (r) => rt.fetch(r), setTimer: rt.setTimer.bind(rt), timeoutMs: opts.membersTimeoutMs ?? 10_000, ...(opts.log ? { log: opts.log } : {}) },
      peerURLs,
    );
    return { kind: "full", initialCluster, peerURLs, clientURLs: members === null ? [] : clientURLsOf(members) };
  };
  return run(d, async () => {
    // Fast path: a full cluster is detected before registering.
    const first = await d.checkCluster();
    if (first.full) return full(first.nodes, first.size);
    const contents = formatInitialCluster(opts.peerURLs.map((url) => ({ name: opts.name, url })));
    await d.createSelf(contents);
    const c = await d.checkCluster();
    if (c.full) return full(c.nodes, c.size);
    const w = await d.waitNodes(c.nodes, c.size, c.index);
    if (w.full) return full(w.nodes, w.size);
    return { kind: "ok", initialCluster: nodesToCluster(w.nodes, w.size) };
  });
}

export interface GetClusterOptions {
  url: string;
  log?: Logger;
  timeoutMs?: number;
  retryBaseMs?: number;
  requestTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * etcd's v2discovery.GetCluster, used by a proxy started with --discovery: reads the
 * registrations without registering; returns the first N when the cluster is full, or waits
 * until N members registered.
 */
export async function getDiscoveredCluster(rt: DiscoveryRuntime, opts: GetClusterOptions): Promise<string> {
  const d = new Discovery(rt, { ...opts, id: "0" });
  return run(d, async () => {
    const c = await d.checkCluster();
    if (c.full) return nodesToCluster(c.nodes, c.size);
    const w = await d.waitNodes(c.nodes, c.size, c.index);
    return nodesToCluster(w.nodes, w.size);
  });
}
