// The shapes the client hands back: etcd v2 nodes and responses, membership entries, and the
// options of every call. Plain data, no behaviour.

/** A node of the v2 keyspace, as etcd serialises it (fields left out when zero). */
export interface EtcdNode {
  /** Absolute key ("/a/b"); missing only on the root directory. */
  key: string;
  /** Files only; present even when "". */
  value?: string;
  /** Directories only (never false). */
  dir?: boolean;
  /** Children of a directory on a GET (only when non-empty). */
  nodes?: EtcdNode[];
  createdIndex: number;
  modifiedIndex: number;
  /** Seconds left (only on keys with a TTL). */
  ttl?: number;
  /** RFC 3339 UTC expiry time (only on keys with a TTL). */
  expiration?: string;
}

/**
 * One answer of the keys API (also one watch event).
 *
 * `action` is etcd's: get, set, create, update, compareAndSwap, delete, compareAndDelete,
 * expire; and, from `watch(..., { onOutdated: "resync" })` only, the synthetic "resync" (see
 * ResyncEvent).
 */
export interface EtcdResponse {
  action: string;
  node: EtcdNode;
  prevNode?: EtcdNode;
  /** X-Etcd-Index: the store index after the operation; on a watch, the index when the watch was registered. */
  etcdIndex: number;
  /** X-Raft-Index (0 when the server sent none). */
  raftIndex: number;
  /** X-Raft-Term (0 when the server sent none). */
  raftTerm: number;
  /** X-Etcd-Cluster-Id, when sent. */
  clusterId?: string;
}

/**
 * What a watch with `onOutdated: "resync"` yields when the server no longer has the events
 * it missed (error 401, more than 1000 events behind): the current state, read again.
 *
 * - `action` is "resync"; `node` is the current node (recursive, sorted when the watch is
 *   recursive) as of `etcdIndex`. If the key does not exist, `node` is
 *   `{ key, createdIndex: 0, modifiedIndex: 0 }` (no value, no dir) and `exists` is false.
 * - The watch then continues with the events after `etcdIndex`: anything between the last
 *   event you saw and `etcdIndex` is summarised by this snapshot, never replayed.
 */
export interface ResyncEvent extends EtcdResponse {
  action: "resync";
  exists: boolean;
}

/** A member of the cluster as /v2/members shows it (IDs are lower-case hex). */
export interface EtcdMember {
  id: string;
  /** "" for a member added but not yet started. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** What the client needs of fetch (the global fetch fits; so does a Hono app's `fetch`-like wrapper). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Client URLs of the members, tried in order. Default ["http://127.0.0.1:2379"]. */
  endpoints?: string[];
  /** Per-request timeout, ms (for watches: until the response headers arrive). Default 5000. */
  timeoutMs?: number;
  /** Make GETs linearizable (`quorum=true`) unless a call says otherwise. Default true. */
  quorum?: boolean;
  /** The fetch to use (a test double, an app's fetch, a proxy). Default globalThis.fetch. */
  fetch?: FetchLike;
  /** Extra headers on every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /**
   * Also fail over writes that are not safe to repeat (create, createInOrder, mkdir,
   * compare-and-swap, compare-and-delete, member add/remove) after a timeout, a network error
   * after the request may have been sent, or a 5xx answer, as etcd's Go client does for all but
   * create. Default false: such a failure throws EtcdIndeterminateError. See client/README.md.
   */
  retryUnsafe?: boolean;
}

export interface GetOptions {
  recursive?: boolean;
  sorted?: boolean;
  /** Linearizable read through the log; default: the client's `quorum` option. */
  quorum?: boolean;
  signal?: AbortSignal;
}

export interface SetOptions {
  /** Seconds (integer ≥ 0; 0 expires at the next sweep). Without it the key is permanent. */
  ttl?: number;
  prevValue?: string;
  prevIndex?: number;
  prevExist?: boolean;
  /** Reset the TTL without changing the value or telling watchers (needs ttl; value must be ""). */
  refresh?: boolean;
  /** Make a directory (value ignored). */
  dir?: boolean;
  signal?: AbortSignal;
}

export interface TtlOptions {
  ttl?: number;
  signal?: AbortSignal;
}

export interface RefreshOptions {
  /**
   * Default true: refresh through the update path, which keeps createdIndex. false: the plain
   * PUT refresh path (etcd re-creates the node, so createdIndex changes).
   */
  prevExist?: boolean;
  /** Refresh only if the value is still this (compare-and-swap path). */
  prevValue?: string;
  /** Refresh only if modifiedIndex is still this (compare-and-swap path). */
  prevIndex?: number;
  /** Refresh a directory's TTL. */
  dir?: boolean;
  signal?: AbortSignal;
}

export interface DeleteOptions {
  recursive?: boolean;
  dir?: boolean;
  prevValue?: string;
  prevIndex?: number;
  signal?: AbortSignal;
}

export interface WaitOptions {
  recursive?: boolean;
  /** First index to report (inclusive); default: the next change. */
  waitIndex?: number;
  signal?: AbortSignal;
}

export interface WatchOptions {
  recursive?: boolean;
  /** Report events after this index (the first request uses waitIndex = afterIndex + 1). */
  afterIndex?: number;
  /**
   * When the server has dropped events the watch has not seen yet (error 401): "throw"
   * (default) ends the iteration with that EtcdError; "resync" yields a ResyncEvent and goes on.
   */
  onOutdated?: "throw" | "resync";
  signal?: AbortSignal;
}
