// Shapes shared by the v2 store, the watcher hub, the server and the HTTP layer.
//
// Paths are the store's internal absolute paths, as in etcd: user keys live under "/1"
// (the HTTP layer joins "/1" with the URL path) and cluster metadata under "/0".
// Output (JSON keys and error causes) strips the "/1" prefix.

/** A node as the store reports it (a copy, never the live tree node). */
export interface NodeView {
  /** Internal absolute path, e.g. "/1/foo/bar". The internal root is "/". */
  key: string;
  /** Files only (may be ""). Absent on directories and on delete/expire event nodes. */
  value?: string;
  dir?: true;
  /** Absolute expiry time in ms since the epoch; absent when permanent. */
  expireAt?: number;
  /** Children, only on directories returned by a get (hidden children already removed). */
  nodes?: NodeView[];
  modifiedIndex: number;
  createdIndex: number;
}

export type Action =
  | "get"
  | "set"
  | "create"
  | "update"
  | "compareAndSwap"
  | "delete"
  | "compareAndDelete"
  | "expire";

export interface StoreEvent {
  action: Action;
  /** Absent only when noValueOnSuccess dropped it (done by the HTTP layer, not the store). */
  node: NodeView;
  prevNode?: NodeView;
  /** The store's CurrentIndex after the operation (the X-Etcd-Index of the response). */
  etcdIndex: number;
  /** A TTL refresh: kept in the history but never delivered to watchers. */
  refresh?: true;
}

/**
 * A write (or quorum read) as it travels through the log. Deterministic to apply: every
 * time value was fixed by the member that accepted the request, never read during apply.
 * `expireAt` is absolute ms since the epoch, or null for a permanent node.
 */
export type StoreCommand =
  | { op: "set"; path: string; value: string; dir: boolean; expireAt: number | null; refresh: boolean }
  /** unique: POST, creates path + "/" + 20-digit zero-padded new index. */
  | { op: "create"; path: string; value: string; dir: boolean; expireAt: number | null; unique: boolean }
  | { op: "update"; path: string; value: string; expireAt: number | null; refresh: boolean }
  | {
      op: "compareAndSwap";
      path: string;
      value: string;
      /** "" = not compared. */
      prevValue: string;
      /** 0 = not compared. Decimal text when beyond 2^53 (it can match no node but is echoed exactly). */
      prevIndex: number | string;
      expireAt: number | null;
      refresh: boolean;
    }
  | { op: "delete"; path: string; dir: boolean; recursive: boolean }
  | { op: "compareAndDelete"; path: string; prevValue: string; prevIndex: number | string }
  /** A quorum GET: a plain get, put through the log for linearizability. */
  | { op: "get"; path: string; recursive: boolean; sorted: boolean }
  /** Expire every node whose expireAt <= time (the leader's clock). */
  | { op: "sync"; time: number };

/** A registered watch. */
export interface Watcher {
  /** The store's CurrentIndex when the watch was registered (X-Etcd-Index of a watch). */
  readonly startIndex: number;
  /**
   * The next matching event, in index order. Resolves null once the watcher is removed
   * (by remove(), or by the hub because its 100-event buffer overflowed).
   */
  next(): Promise<StoreEvent | null>;
  /** Unhook from the hub; a pending next() resolves null. Idempotent. */
  remove(): void;
}

/** Counters of /v2/stats/store, in etcd's field order. */
export interface StoreStats {
  getsSuccess: number;
  getsFail: number;
  setsSuccess: number;
  setsFail: number;
  deleteSuccess: number;
  deleteFail: number;
  updateSuccess: number;
  updateFail: number;
  createSuccess: number;
  createFail: number;
  compareAndSwapSuccess: number;
  compareAndSwapFail: number;
  compareAndDeleteSuccess: number;
  compareAndDeleteFail: number;
  expireCount: number;
  watchers: number;
}
