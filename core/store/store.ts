// The etcd v2 store: a tree of nodes with a CurrentIndex, TTL expiry driven by sync
// commands, an event history and a watcher hub (etcd's v2store/store.go).
//
// apply() is deterministic: it never reads a clock. Paths are internal absolute paths
// ("/1/..." for user keys, "/0/..." for cluster metadata). Stats counters mirror etcd
// exactly, including its quirks: a few refused operations count as successes (read-only
// update/CAS/delete, update of a directory with a value, CAD of a directory or with a
// failed compare), and a create whose parent walk hits a file also counts a failed set.

import { EtcdError, ErrorCode } from "../errors.ts";
import { WatcherHub } from "../watch/hub.ts";
import type { EventHistory } from "../watch/history.ts";
import { Node } from "./node.ts";
import { cleanPath } from "./path.ts";
import { loadTree, reviveEvent, saveTree } from "./snapshot.ts";
import type { StoreSnapshot } from "./snapshot.ts";
import { newCounters, STAT_NAMES } from "./stats.ts";
import type { StatCounters, StatName } from "./stats.ts";
import { TTLHeap } from "./ttl_heap.ts";
import type { Action, NodeView, StoreCommand, StoreEvent, StoreStats, Watcher } from "./types.ts";

export type { StoreSnapshot } from "./snapshot.ts";

export interface StoreOptions {
  /** Events kept for watches with a past waitIndex (etcd: 1000). */
  historySize?: number;
  /** Events a watcher may have waiting before it is dropped (etcd: 100). */
  watcherBuffer?: number;
}

/** Paths no write may target (etcd's readonlySet: the root and the two namespaces). */
const READ_ONLY = new Set(["/", "/0", "/1"]);
/** Expiry times before 2000-01-01 are taken as permanent by set and create (etcd's minExpireTime). */
const MIN_EXPIRE_AT = Date.UTC(2000, 0, 1);

/** A failed path lookup, returned rather than thrown: "not found" is normal for a set. */
class Miss {
  constructor(
    readonly code: number,
    readonly cause: string,
  ) {}
}

function childPath(parent: Node, name: string): string {
  return parent.path === "/" ? "/" + name : parent.path + "/" + name;
}

function clean(p: string): string {
  return cleanPath(p.charCodeAt(0) === 47 ? p : "/" + p);
}

/** expireAt as the log carries it: null or 0 mean permanent (etcd: Expiration 0). */
function ttlOf(expireAt: number | null | undefined): number | null {
  return expireAt === null || expireAt === undefined || expireAt === 0 ? null : expireAt;
}

export class Store {
  private root: Node;
  private currentIndex = 0;
  private heap = new TTLHeap();
  private readonly hub: WatcherHub;
  private counters: StatCounters;

  constructor(opts: StoreOptions = {}) {
    this.hub = new WatcherHub(opts.historySize ?? 1000, opts.watcherBuffer ?? 100);
    this.counters = newCounters();
    this.root = new Node("/", "", 0, null, null, true);
    for (const ns of ["0", "1"]) this.root.children!.set(ns, new Node("/" + ns, ns, 0, this.root, null, true));
  }

  /** CurrentIndex: raised by exactly one for every successful write and every expiry. */
  get index(): number {
    return this.currentIndex;
  }

  apply(cmd: StoreCommand): StoreEvent {
    let e: StoreEvent;
    switch (cmd.op) {
      case "set":
        e = this.set(cmd.path, cmd.dir, cmd.value, ttlOf(cmd.expireAt), cmd.refresh);
        break;
      case "create":
        e = this.create(cmd.path, cmd.dir, cmd.value, cmd.unique, ttlOf(cmd.expireAt));
        break;
      case "update":
        e = this.update(cmd.path, cmd.value, ttlOf(cmd.expireAt), cmd.refresh);
        break;
      case "compareAndSwap":
        e = this.compareAndSwap(cmd.path, cmd.prevValue, cmd.prevIndex, cmd.value, ttlOf(cmd.expireAt), cmd.refresh);
        break;
      case "delete":
        e = this.delete(cmd.path, cmd.dir, cmd.recursive);
        break;
      case "compareAndDelete":
        e = this.compareAndDelete(cmd.path, cmd.prevValue, cmd.prevIndex);
        break;
      case "get":
        return this.get(cmd.path, cmd.recursive, cmd.sorted);
      case "sync": {
        this.deleteExpired(cmd.time);
        // Nobody waits on a sync; this placeholder only satisfies the signature.
        return {
          action: "expire",
          node: { key: "/", dir: true, modifiedIndex: this.currentIndex, createdIndex: 0 },
          etcdIndex: this.currentIndex,
        };
      }
      default:
        throw new Error(`unknown store command ${(cmd as { op: string }).op}`);
    }
    // A copy, so a caller that edits the result cannot change the history.
    return copyEvent(e);
  }

  /** A local read (counted in getsSuccess / getsFail). */
  get(path: string, recursive: boolean, sorted: boolean): StoreEvent {
    let stat: StatName = "getsFail";
    try {
      const e = this.read(path, recursive, sorted);
      stat = "getsSuccess";
      return e;
    } finally {
      this.counters[stat]++;
    }
  }

  /**
   * Counts a failed get without reading: etcd's v2 auth check looks up "/2/enabled" on every
   * keys and members request, and while auth is off that read fails. Mirrored so that
   * /v2/stats/store reads as etcd's does.
   */
  countAuthProbe(): void {
    this.counters.getsFail++;
  }

  /** The same read as get() without touching the stats (for the server's own lookups). */
  peek(path: string, recursive: boolean, sorted: boolean): StoreEvent {
    return this.read(path, recursive, sorted);
  }

  /**
   * Watch path (and its subtree when recursive) from sinceIndex; 0 means the next index.
   * Throws 401 when sinceIndex is older than the history window.
   */
  watch(path: string, recursive: boolean, stream: boolean, sinceIndex: number): Watcher {
    const key = clean(path);
    const since = sinceIndex === 0 ? this.currentIndex + 1 : sinceIndex;
    return this.hub.watch(key, recursive, stream, since, this.currentIndex);
  }

  /** Whether any node has a TTL (the leader proposes sync entries only then). */
  hasTTL(): boolean {
    return this.heap.size > 0;
  }

  stats(): StoreStats {
    const s = {} as StoreStats;
    for (const name of STAT_NAMES) s[name] = this.counters[name];
    s.watchers = this.hub.count;
    return s;
  }

  /**
   * Expire, in expiry order, every node whose expireAt <= time. A directory goes with its
   * whole subtree and yields one event. Returns the expire events.
   */
  deleteExpired(time: number): StoreEvent[] {
    const out: StoreEvent[] = [];
    for (;;) {
      const n = this.heap.top();
      if (n === null || (n.expireAt as number) > time) break;
      const next = ++this.currentIndex;
      const node: NodeView = { key: n.path, modifiedIndex: next, createdIndex: n.createdIndex };
      if (n.isDir) node.dir = true;
      const e: StoreEvent = { action: "expire", node, prevNode: n.view(false, false), etcdIndex: next };
      this.heap.pop();
      this.detach(n, e);
      this.counters.expireCount++;
      this.hub.notify(e);
      out.push(e);
    }
    return out;
  }

  save(): StoreSnapshot {
    return {
      version: 1,
      index: this.currentIndex,
      root: saveTree(this.root),
      history: this.hub.history.events(),
      stats: { ...this.counters },
    };
  }

  /**
   * Replaces the contents with a snapshot, in place (a member installing its leader's
   * snapshot): tree, index, TTLs, history and counters are the snapshot's; registered
   * watchers stay registered and see what comes next.
   */
  recover(s: StoreSnapshot): void {
    const fresh = Store.restore(s);
    this.root = fresh.root;
    this.currentIndex = fresh.currentIndex;
    this.heap = fresh.heap;
    this.hub.history = fresh.hub.history;
    this.counters = fresh.counters;
  }

  static restore(s: StoreSnapshot, opts: StoreOptions = {}): Store {
    if (s === null || typeof s !== "object" || s.version !== 1) throw new Error("store snapshot: unknown version");
    const store = new Store(opts);
    store.currentIndex = Number(s.index);
    store.root = loadTree(s.root, (n) => store.heap.push(n));
    const history: EventHistory = store.hub.history;
    const events = Array.isArray(s.history) ? s.history : [];
    for (const e of events.slice(Math.max(0, events.length - history.capacity))) history.add(reviveEvent(e));
    store.counters = newCounters(s.stats);
    return store;
  }

  // ---- operations ----

  private read(path: string, recursive: boolean, sorted: boolean): StoreEvent {
    const p = clean(path);
    const n = this.lookup(p);
    if (n instanceof Miss) throw this.error(n.code, n.cause);
    const node: NodeView = { key: p, modifiedIndex: n.modifiedIndex, createdIndex: n.createdIndex };
    if (n.isDir) {
      node.dir = true;
      node.nodes = n.listChildren(recursive, sorted);
    } else node.value = n.value;
    if (n.expireAt !== null) node.expireAt = n.expireAt;
    return { action: "get", node, etcdIndex: this.currentIndex };
  }

  private set(path: string, dir: boolean, value: string, expireAt: number | null, refresh: boolean): StoreEvent {
    let stat: StatName = "setsFail";
    try {
      const p = clean(path);
      const prev = this.lookup(p);
      if (prev instanceof Miss) {
        if (prev.code !== ErrorCode.KeyNotFound || refresh) throw this.error(prev.code, prev.cause);
      } else if (refresh) value = prev.value;
      const e = this.internalCreate(p, dir, value, false, true, expireAt, "set");
      this.record(e, refresh);
      stat = "setsSuccess";
      return e;
    } finally {
      this.counters[stat]++;
    }
  }

  private create(path: string, dir: boolean, value: string, unique: boolean, expireAt: number | null): StoreEvent {
    let stat: StatName = "createFail";
    try {
      const e = this.internalCreate(clean(path), dir, value, unique, false, expireAt, "create");
      this.hub.notify(e);
      stat = "createSuccess";
      return e;
    } finally {
      this.counters[stat]++;
    }
  }

  private update(path: string, value: string, expireAt: number | null, refresh: boolean): StoreEvent {
    let stat: StatName = "updateFail";
    try {
      const p = clean(path);
      if (READ_ONLY.has(p)) {
        stat = "updateSuccess"; // etcd counts this refusal as a success
        throw this.error(ErrorCode.RootReadOnly, "/");
      }
      const n = this.lookup(p);
      if (n instanceof Miss) throw this.error(n.code, n.cause);
      if (n.isDir && value !== "") {
        stat = "updateSuccess"; // likewise
        throw this.error(ErrorCode.NotFile, p);
      }
      if (refresh) value = n.value;
      const next = this.currentIndex + 1;
      const prevNode = n.view(false, false);
      const node: NodeView = { key: p, modifiedIndex: next, createdIndex: n.createdIndex };
      // A directory cannot be written: it keeps its modifiedIndex though the event says next.
      if (n.isDir) node.dir = true;
      else {
        n.value = value;
        n.modifiedIndex = next;
        node.value = value;
      }
      this.updateTTL(n, expireAt);
      if (n.expireAt !== null) node.expireAt = n.expireAt;
      this.currentIndex = next;
      const e: StoreEvent = { action: "update", node, prevNode, etcdIndex: next };
      this.record(e, refresh);
      stat = "updateSuccess";
      return e;
    } finally {
      this.counters[stat]++;
    }
  }

  private compareAndSwap(
    path: string,
    prevValue: string,
    prevIndex: number | string,
    value: string,
    expireAt: number | null,
    refresh: boolean,
  ): StoreEvent {
    let stat: StatName = "compareAndSwapFail";
    try {
      const p = clean(path);
      if (READ_ONLY.has(p)) {
        stat = "compareAndSwapSuccess"; // etcd counts this refusal as a success
        throw this.error(ErrorCode.RootReadOnly, "/");
      }
      const n = this.lookup(p);
      if (n instanceof Miss) throw this.error(n.code, n.cause);
      if (n.isDir) throw this.error(ErrorCode.NotFile, p);
      const cause = compareFailure(n, prevValue, prevIndex);
      if (cause !== null) throw this.error(ErrorCode.TestFailed, cause);
      if (refresh) value = n.value;
      const next = ++this.currentIndex;
      const prevNode = n.view(false, false);
      n.value = value;
      n.modifiedIndex = next;
      this.updateTTL(n, expireAt);
      const node: NodeView = { key: p, value, modifiedIndex: next, createdIndex: n.createdIndex };
      if (n.expireAt !== null) node.expireAt = n.expireAt;
      const e: StoreEvent = { action: "compareAndSwap", node, prevNode, etcdIndex: next };
      this.record(e, refresh);
      stat = "compareAndSwapSuccess";
      return e;
    } finally {
      this.counters[stat]++;
    }
  }

  private delete(path: string, dir: boolean, recursive: boolean): StoreEvent {
    let stat: StatName = "deleteFail";
    try {
      const p = clean(path);
      if (READ_ONLY.has(p)) {
        stat = "deleteSuccess"; // etcd counts this refusal as a success
        throw this.error(ErrorCode.RootReadOnly, "/");
      }
      if (recursive) dir = true;
      const n = this.lookup(p);
      if (n instanceof Miss) throw this.error(n.code, n.cause);
      if (n.isDir) {
        if (!dir) throw this.error(ErrorCode.NotFile, n.path);
        if (n.children!.size > 0 && !recursive) throw this.error(ErrorCode.DirNotEmpty, n.path);
      }
      const next = this.currentIndex + 1;
      const node: NodeView = { key: p, modifiedIndex: next, createdIndex: n.createdIndex };
      if (n.isDir) node.dir = true;
      const e: StoreEvent = { action: "delete", node, prevNode: n.view(false, false), etcdIndex: next };
      this.detach(n, e);
      this.currentIndex = next;
      this.hub.notify(e);
      stat = "deleteSuccess";
      return e;
    } finally {
      this.counters[stat]++;
    }
  }

  private compareAndDelete(path: string, prevValue: string, prevIndex: number | string): StoreEvent {
    let stat: StatName = "compareAndDeleteFail";
    try {
      // No read-only check here (etcd has none): the root is refused as a directory.
      const p = clean(path);
      const n = this.lookup(p);
      if (n instanceof Miss) throw this.error(n.code, n.cause);
      // etcd counts the next two refusals as successes.
      if (n.isDir) {
        stat = "compareAndDeleteSuccess";
        throw this.error(ErrorCode.NotFile, p);
      }
      const cause = compareFailure(n, prevValue, prevIndex);
      if (cause !== null) {
        stat = "compareAndDeleteSuccess";
        throw this.error(ErrorCode.TestFailed, cause);
      }
      const next = ++this.currentIndex;
      const e: StoreEvent = {
        action: "compareAndDelete",
        node: { key: p, modifiedIndex: next, createdIndex: n.createdIndex },
        prevNode: n.view(false, false),
        etcdIndex: next,
      };
      this.detach(n, e);
      this.hub.notify(e);
      stat = "compareAndDeleteSuccess";
      return e;
    } finally {
      this.counters[stat]++;
    }
  }

  // ---- internals ----

  private error(code: number, cause: string): EtcdError {
    return new EtcdError(code, cause, this.currentIndex);
  }

  /** Record a write: refreshes go to the history only, others are also delivered. */
  private record(e: StoreEvent, refresh: boolean): void {
    if (refresh) {
      e.refresh = true;
      this.hub.add(e);
    } else this.hub.notify(e);
  }

  /** The node at a clean path, or why it cannot be reached (100 first missing path, 104). */
  private lookup(p: string): Node | Miss {
    let cur = this.root;
    if (p === "/") return cur;
    let i = 1;
    while (i <= p.length) {
      let j = p.indexOf("/", i);
      if (j < 0) j = p.length;
      const name = p.slice(i, j);
      if (cur.children === null) return new Miss(ErrorCode.NotDir, cur.path);
      const child = cur.children.get(name);
      if (child === undefined) return new Miss(ErrorCode.KeyNotFound, childPath(cur, name));
      cur = child;
      i = j + 1;
    }
    return cur;
  }

  /**
   * Create a node (etcd's internalCreate): missing parents are made as permanent
   * directories at the new index; `replace` lets a file be replaced (a set).
   */
  private internalCreate(
    path: string,
    dir: boolean,
    value: string,
    unique: boolean,
    replace: boolean,
    expireAt: number | null,
    action: Action,
  ): StoreEvent {
    const next = this.currentIndex + 1;
    let p = path;
    if (unique) p = cleanPath(p + "/" + String(next).padStart(20, "0"));
    if (READ_ONLY.has(p)) throw this.error(ErrorCode.RootReadOnly, "/");
    if (expireAt !== null && expireAt < MIN_EXPIRE_AT) expireAt = null;

    // Walk the parent path, creating missing directories.
    const cut = p.lastIndexOf("/");
    const name = p.slice(cut + 1);
    let d = this.root;
    let i = 1;
    while (i < cut + 1) {
      let j = p.indexOf("/", i);
      if (j < 0 || j > cut) j = cut;
      const part = p.slice(i, j);
      let child = d.children!.get(part);
      if (child === undefined) {
        child = new Node(childPath(d, part), part, next, d, null, true);
        d.children!.set(part, child);
      } else if (child.children === null) {
        this.counters.setsFail++; // etcd counts a failed set here, whatever the operation
        throw this.error(ErrorCode.NotDir, child.path);
      }
      d = child;
      i = j + 1;
    }

    let prevNode: NodeView | undefined;
    const existing = d.children!.get(name);
    if (existing !== undefined) {
      if (!replace) throw this.error(ErrorCode.NodeExist, p);
      if (existing.isDir) throw this.error(ErrorCode.NotFile, p);
      prevNode = existing.view(false, false);
      this.detach(existing, null);
    }

    const n = new Node(p, name, next, d, expireAt, dir, value);
    d.children!.set(name, n);
    const node: NodeView = { key: p, modifiedIndex: next, createdIndex: next };
    if (dir) node.dir = true;
    else node.value = value;
    if (expireAt !== null) {
      this.heap.push(n);
      node.expireAt = expireAt;
    }
    this.currentIndex = next;
    const e: StoreEvent = { action, node, etcdIndex: next };
    if (prevNode !== undefined) e.prevNode = prevNode;
    return e;
  }

  /** etcd's UpdateTTL: a null expiry makes the node permanent. */
  private updateTTL(n: Node, expireAt: number | null): void {
    if (n.expireAt !== null) {
      n.expireAt = expireAt;
      if (expireAt === null) this.heap.remove(n);
      else this.heap.update(n);
    } else if (expireAt !== null) {
      n.expireAt = expireAt;
      this.heap.push(n);
    }
  }

  /**
   * Unlink n and its subtree: drop them from the TTL heap and, when e is given, tell the
   * watchers of every removed node (children before their parent, as etcd's Remove).
   */
  private detach(n: Node, e: StoreEvent | null): void {
    const parent = n.parent;
    if (parent !== null && parent.children!.get(n.name) === n) parent.children!.delete(n.name);
    const notify = e !== null && this.hub.active;
    if (n.children === null) {
      if (notify) this.hub.notifyWatchers(e, n.path, true);
      this.heap.remove(n);
      return;
    }
    if (!notify && this.heap.size === 0) return; // nothing to visit
    // Post-order without recursion: reverse of a pre-order that visits children last-first.
    const order: Node[] = [];
    const stack: Node[] = [n];
    while (stack.length > 0) {
      const x = stack.pop()!;
      order.push(x);
      if (x.children !== null) for (const c of x.children.values()) stack.push(c);
    }
    for (let k = order.length - 1; k >= 0; k--) {
      const x = order[k]!;
      if (notify) this.hub.notifyWatchers(e, x.path, true);
      this.heap.remove(x);
    }
  }
}

/** A copy of an event deep enough for writes (their nodes never carry children). */
export function copyEvent(e: StoreEvent): StoreEvent {
  const c: StoreEvent = { ...e, node: { ...e.node } };
  if (e.prevNode !== undefined) c.prevNode = { ...e.prevNode };
  return c;
}

/** The 101 cause when the compare fails (etcd's getCompareFailCause), else null. */
function compareFailure(n: Node, prevValue: string, prevIndex: number | string): string | null {
  const indexMatch = prevIndex === 0 || n.modifiedIndex === prevIndex;
  const valueMatch = prevValue === "" || n.value === prevValue;
  if (indexMatch && valueMatch) return null;
  if (!valueMatch && !indexMatch) return `[${prevValue} != ${n.value}] [${prevIndex} != ${n.modifiedIndex}]`;
  if (!valueMatch) return `[${prevValue} != ${n.value}]`;
  return `[${prevIndex} != ${n.modifiedIndex}]`;
}
