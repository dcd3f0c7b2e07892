// EtcdClient: the v2 keys API, watches, members, leader, health and version, over fetch only.
import { EndpointPool } from "./endpoints.ts";
import { EtcdError, ErrorCodes } from "./errors.ts";
import { canonicalKey, checkBool, checkIndex, checkMemberId, checkPeerURLs, checkPrevValue, checkString, checkTtl, keyPath } from "./keys.ts";
import { keysResponse } from "./response.ts";
import { Transport, errorFromAnswer, type Attempt } from "./transport.ts";
import type {
  ClientOptions, DeleteOptions, FetchLike, EtcdMember, EtcdResponse, GetOptions, RefreshOptions, ResyncEvent, SetOptions, TtlOptions,
  WaitOptions, WatchOptions,
} from "./types.ts";
import { waitOnce, watchEvents } from "./watch.ts";

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === "" ? "" : "?" + s;
}

function form(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}

function checkSignal(s: unknown): AbortSignal | undefined {
  if (s === undefined) return undefined;
  if (typeof s !== "object" || s === null || typeof (s as AbortSignal).aborted !== "boolean") throw new TypeError("signal must be an AbortSignal");
  return s as AbortSignal;
}

export class EtcdClient {
  private readonly t: Transport;
  private readonly quorum: boolean;

  constructor(opts: ClientOptions = {}) {
    const timeoutMs = opts.timeoutMs ?? 5000;
    if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new TypeError(`timeoutMs must be a positive number, got ${String(timeoutMs)}`);
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new TypeError("no fetch available: pass options.fetch");
    const pool = new EndpointPool(opts.endpoints ?? ["http://127.0.0.1:2379"]);
    // Bound so that `this` inside fetch is right for the global one (some runtimes care).
    const fetchFn: FetchLike = opts.fetch ? opts.fetch : (input, init) => globalThis.fetch(input, init);
    this.t = new Transport(pool, fetchFn, timeoutMs, { ...(opts.headers ?? {}) }, opts.retryUnsafe ?? false);
    this.quorum = opts.quorum ?? true;
  }

  /** The endpoints in the order the next request tries them (the last one that answered first). */
  get endpoints(): string[] {
    return this.t.pool.order();
  }

  // ------------------------------------------------------------------ keys

  private async keys(a: Attempt): Promise<EtcdResponse> {
    const ans = await this.t.send(a);
    return keysResponse(ans.status, ans.headers, ans.text, ans.endpoint);
  }

  /** GET a key or directory. Linearizable (quorum=true) unless the client or the call says quorum: false. */
  get(key: string, o: GetOptions = {}): Promise<EtcdResponse> {
    const path = keyPath(key);
    const quorum = o.quorum ?? this.quorum;
    if (o.recursive !== undefined) checkBool(o.recursive, "recursive");
    if (o.sorted !== undefined) checkBool(o.sorted, "sorted");
    checkBool(quorum, "quorum");
    const target = `/v2/keys${path}${query({ recursive: o.recursive || undefined, sorted: o.sorted || undefined, quorum: quorum || undefined })}`;
    return this.keys({ method: "GET", target, idempotent: true, signal: checkSignal(o.signal) });
  }

  /**
   * PUT: set, or with conditions create (prevExist false), update (prevExist true),
   * compare-and-swap (prevValue / prevIndex), refresh (refresh + ttl, value ""), directory (dir).
   */
  set(key: string, value: string, o: SetOptions = {}): Promise<EtcdResponse> {
    const path = keyPath(key);
    if (o.dir) {
      if (value !== undefined && value !== "") throw new TypeError("a directory has no value: pass \"\" with dir: true");
    } else {
      checkString(value, "value");
    }
    const ttl = o.ttl === undefined ? undefined : checkTtl(o.ttl);
    const prevValue = o.prevValue === undefined ? undefined : checkPrevValue(o.prevValue);
    const prevIndex = o.prevIndex === undefined ? undefined : checkIndex(o.prevIndex, "prevIndex");
    const prevExist = o.prevExist === undefined ? undefined : checkBool(o.prevExist, "prevExist");
    const refresh = o.refresh === undefined ? undefined : checkBool(o.refresh, "refresh");
    if (o.dir !== undefined) checkBool(o.dir, "dir");
    if (refresh) {
      if (ttl === undefined) throw new TypeError("refresh needs a ttl");
      if (value !== "" && value !== undefined) throw new TypeError("refresh keeps the value: pass \"\" as the value");
    }
    const target = `/v2/keys${path}${query({
      prevValue, prevIndex, prevExist, refresh: refresh || undefined, dir: o.dir || undefined,
    })}`;
    const body = form({ value: refresh || o.dir ? undefined : value, ttl });
    // A retried create or compare-and-swap that was applied the first time would report a
    // failure (105/101) for a write that happened: not safe to repeat on another endpoint.
    // A CAS refresh with prevValue only is safe (the value does not change).
    const idempotent = prevExist !== false && prevIndex === undefined && (prevValue === undefined || refresh === true);
    return this.keys({ method: "PUT", target, body, contentType: FORM, idempotent, signal: checkSignal(o.signal) });
  }

  /** Create a key that must not exist (prevExist=false): error 105 if it does. */
  create(key: string, value: string, o: TtlOptions = {}): Promise<EtcdResponse> {
    return this.set(key, value, { ...ttlOf(o), prevExist: false, ...sig(o) });
  }

  /** Change a key that must exist (prevExist=true): error 100 if it does not. Keeps createdIndex. */
  update(key: string, value: string, o: TtlOptions = {}): Promise<EtcdResponse> {
    return this.set(key, value, { ...ttlOf(o), prevExist: true, ...sig(o) });
  }

  /**
   * Reset a key's TTL without changing its value or waking watchers (refresh=true). By default
   * through the update path (prevExist=true, createdIndex kept); `prevExist: false` uses the
   * plain PUT path (etcd re-creates the node); prevValue/prevIndex make it conditional.
   */
  refresh(key: string, ttl: number, o: RefreshOptions = {}): Promise<EtcdResponse> {
    checkTtl(ttl);
    const prevExist = o.prevExist === undefined ? true : checkBool(o.prevExist, "prevExist");
    const so: SetOptions = { ttl, refresh: true, ...sig(o) };
    if (prevExist) so.prevExist = true;
    if (o.prevValue !== undefined) so.prevValue = o.prevValue;
    if (o.prevIndex !== undefined) so.prevIndex = o.prevIndex;
    if (o.dir !== undefined) so.dir = o.dir;
    return this.set(key, "", so);
  }

  /** Create a directory that must not exist (dir=true&prevExist=false). */
  mkdir(key: string, o: TtlOptions = {}): Promise<EtcdResponse> {
    return this.set(key, "", { ...ttlOf(o), dir: true, prevExist: false, ...sig(o) });
  }

  /** Create a directory, or turn a file into one (dir=true). */
  setdir(key: string, o: TtlOptions = {}): Promise<EtcdResponse> {
    return this.set(key, "", { ...ttlOf(o), dir: true, ...sig(o) });
  }

  /** Change an existing directory's TTL (dir=true&prevExist=true); without ttl it becomes permanent. */
  updatedir(key: string, o: TtlOptions = {}): Promise<EtcdResponse> {
    return this.set(key, "", { ...ttlOf(o), dir: true, prevExist: true, ...sig(o) });
  }

  /** DELETE: a file; a directory with dir (empty) or recursive; compare-and-delete with prevValue/prevIndex. */
  delete(key: string, o: DeleteOptions = {}): Promise<EtcdResponse> {
    const path = keyPath(key);
    const prevValue = o.prevValue === undefined ? undefined : checkPrevValue(o.prevValue);
    const prevIndex = o.prevIndex === undefined ? undefined : checkIndex(o.prevIndex, "prevIndex");
    if (o.recursive !== undefined) checkBool(o.recursive, "recursive");
    if (o.dir !== undefined) checkBool(o.dir, "dir");
    const target = `/v2/keys${path}${query({ recursive: o.recursive || undefined, dir: o.dir || undefined, prevValue, prevIndex })}`;
    const idempotent = prevValue === undefined && prevIndex === undefined;
    return this.keys({ method: "DELETE", target, idempotent, signal: checkSignal(o.signal) });
  }

  /** POST: a new key under dir named after its index (zero-padded, so keys sort in creation order). */
  createInOrder(dir: string, value: string, o: TtlOptions = {}): Promise<EtcdResponse> {
    const path = keyPath(dir, "dir");
    checkString(value, "value");
    const ttl = o.ttl === undefined ? undefined : checkTtl(o.ttl);
    return this.keys({
      method: "POST", target: `/v2/keys${path}`, body: form({ value, ttl }), contentType: FORM, idempotent: false, signal: checkSignal(o.signal),
    });
  }

  // ------------------------------------------------------------------ watches

  /**
   * Wait for one change (wait=true): the first event with index ≥ waitIndex, or the next one.
   * Connection breaks and empty answers are retried from the same index.
   */
  waitNext(key: string, o: WaitOptions = {}): Promise<EtcdResponse> {
    const path = keyPath(key);
    const waitIndex = o.waitIndex === undefined ? undefined : checkIndex(o.waitIndex, "waitIndex");
    return waitOnce(this.t, path, { recursive: o.recursive === undefined ? false : checkBool(o.recursive, "recursive"), waitIndex, signal: checkSignal(o.signal) });
  }

  /**
   * Every change of a key (or, recursive, of a subtree), in order, none skipped: an async
   * iterable of events. Starts after `afterIndex` (default: now). Aborting `signal` ends the
   * iteration quietly; a `break` out of `for await` ends it too. Error 401 (more than 1000
   * events missed) ends it with that EtcdError, or with onOutdated "resync" yields a
   * ResyncEvent (the current state) and goes on.
   */
  watch(key: string, o: WatchOptions = {}): AsyncIterable<EtcdResponse> {
    const path = keyPath(key);
    const afterIndex = o.afterIndex === undefined ? undefined : (o.afterIndex === 0 ? 0 : checkIndex(o.afterIndex, "afterIndex"));
    const onOutdated = o.onOutdated ?? "throw";
    if (onOutdated !== "throw" && onOutdated !== "resync") throw new TypeError(`onOutdated must be "throw" or "resync"`);
    const recursive = o.recursive === undefined ? false : checkBool(o.recursive, "recursive");
    const signal = checkSignal(o.signal);
    const reread = async (): Promise<ResyncEvent> => {
      try {
        const r = await this.get(key, { recursive, sorted: recursive, ...(signal ? { signal } : {}) });
        return { ...r, action: "resync", exists: true };
      } catch (e) {
        if (EtcdError.is(e, ErrorCodes.KeyNotFound)) {
          return {
            action: "resync", exists: false, node: { key: canonicalKey(key), createdIndex: 0, modifiedIndex: 0 },
            etcdIndex: e.index, raftIndex: 0, raftTerm: 0,
          };
        }
        throw e;
      }
    };
    return watchEvents(this.t, path, { recursive, afterIndex, onOutdated, signal }, reread);
  }

  // ------------------------------------------------------------------ cluster

  private async json<T>(a: Attempt, ok: number[]): Promise<{ body: T; endpoint: string }> {
    const ans = await this.t.send(a);
    if (!ok.includes(ans.status)) throw errorFromAnswer(ans.status, ans.text, ans.endpoint);
    if (ans.text.trim() === "") return { body: undefined as T, endpoint: ans.endpoint };
    try {
      return { body: JSON.parse(ans.text) as T, endpoint: ans.endpoint };
    } catch {
      throw new EtcdError({ errorCode: 0, message: `${ans.endpoint}: the answer is not JSON: ${ans.text.slice(0, 200)}`, status: ans.status, endpoint: ans.endpoint });
    }
  }

  /** GET /v2/members, sorted by ID as etcd sends them. */
  async members(o: { signal?: AbortSignal } = {}): Promise<EtcdMember[]> {
    const { body } = await this.json<{ members?: EtcdMember[] }>({ method: "GET", target: "/v2/members", idempotent: true, signal: checkSignal(o.signal) }, [200]);
    return body?.members ?? [];
  }

  /** POST /v2/members: announce a new member (start it afterwards with --initial-cluster-state existing). */
  async addMember(peerURLs: string[]): Promise<EtcdMember> {
    checkPeerURLs(peerURLs);
    const { body } = await this.json<EtcdMember>({
      method: "POST", target: "/v2/members", body: JSON.stringify({ peerURLs }), contentType: JSON_TYPE, idempotent: false,
    }, [201, 200]);
    return body;
  }

  /** DELETE /v2/members/<id>. */
  async removeMember(id: string): Promise<void> {
    const hex = checkMemberId(id);
    await this.json<unknown>({ method: "DELETE", target: `/v2/members/${hex}`, idempotent: false }, [204, 200]);
  }

  /** PUT /v2/members/<id>: change a member's peer URLs. */
  async updateMember(id: string, peerURLs: string[]): Promise<void> {
    const hex = checkMemberId(id);
    checkPeerURLs(peerURLs);
    await this.json<unknown>({
      method: "PUT", target: `/v2/members/${hex}`, body: JSON.stringify({ peerURLs }), contentType: JSON_TYPE, idempotent: true,
    }, [204, 200]);
  }

  /**
   * The current leader, from GET /v2/members/leader (etcd 3.4 and etcd-ts serve it). A member
   * in an election answers 503, and the next endpoint is asked.
   */
  async leader(o: { signal?: AbortSignal } = {}): Promise<EtcdMember> {
    const { body } = await this.json<EtcdMember>({ method: "GET", target: "/v2/members/leader", idempotent: true, signal: checkSignal(o.signal) }, [200]);
    return body;
  }

  /** GET /v2/stats/self of one member (default: whichever answers). */
  async selfStats(endpoint?: string): Promise<Record<string, unknown> & { name: string; id: string; state: string; leaderInfo: { leader: string } }> {
    const only = endpoint === undefined ? undefined : this.endpointArg(endpoint);
    return (await this.json<Record<string, unknown> & { name: string; id: string; state: string; leaderInfo: { leader: string } }>({ method: "GET", target: "/v2/stats/self", idempotent: true, only }, [200])).body;
  }

  /**
   * GET /health. With an endpoint: that member's answer, healthy or not ({"health":"false"}
   * on 503); a member that does not answer throws EtcdConnectionError. Without: the first
   * member that answers 200.
   */
  async health(endpoint?: string): Promise<{ health: string }> {
    const only = endpoint === undefined ? undefined : this.endpointArg(endpoint);
    const { body } = await this.json<{ health?: unknown }>({ method: "GET", target: "/health", idempotent: true, only, accept5xx: only !== undefined }, [200, 503]);
    return { health: typeof body?.health === "string" ? body.health : String(body?.health ?? "false") };
  }

  /** GET /version of one member (default: whichever answers). */
  async version(endpoint?: string): Promise<{ etcdserver: string; etcdcluster: string }> {
    const only = endpoint === undefined ? undefined : this.endpointArg(endpoint);
    return (await this.json<{ etcdserver: string; etcdcluster: string }>({ method: "GET", target: "/version", idempotent: true, only }, [200])).body;
  }

  private endpointArg(endpoint: string): string {
    try {
      return new EndpointPool([endpoint]).order()[0]!;
    } catch (e) {
      throw new TypeError((e as Error).message);
    }
  }
}

function ttlOf(o: TtlOptions): { ttl?: number } {
  return o.ttl === undefined ? {} : { ttl: o.ttl };
}

function sig(o: { signal?: AbortSignal | undefined }): { signal?: AbortSignal } {
  return o.signal === undefined ? {} : { signal: o.signal };
}
