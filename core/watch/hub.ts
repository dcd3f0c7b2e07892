// The watcher hub: watchers keyed by path, live delivery and history catch-up
// (etcd's watcher_hub.go).

import { EtcdError } from "../errors.ts";
import type { StoreEvent } from "../store/types.ts";
import { EventHistory } from "./history.ts";
import { HubWatcher } from "./watcher.ts";

/**
 * Whether keyPath lies in a hidden node below watchPath (a "/_" element after the
 * watched prefix). A watch deeper than the key (a removed descendant) never hides it.
 */
export function isHiddenBelow(watchPath: string, keyPath: string): boolean {
  if (watchPath.length > keyPath.length) return false;
  // keyPath starts with watchPath here (the hub only asks for ancestors); etcd cleans
  // "/" + rest and looks for "/_", which is the same test on the remainder.
  const rest = keyPath.slice(watchPath.length);
  return rest.startsWith("_") || rest.includes("/_");
}

export class WatcherHub {
  history: EventHistory;
  private readonly bufferSize: number;
  private readonly watchers = new Map<string, Set<HubWatcher>>();
  /** Watchers registered right now. */
  count = 0;

  constructor(historySize: number, bufferSize: number, history?: EventHistory) {
    this.history = history ?? new EventHistory(historySize);
    this.bufferSize = bufferSize;
  }

  /**
   * Open a watch from `sinceIndex` (already resolved: never 0). An event found in the
   * history is handed over at once and the watcher is not registered; otherwise it waits
   * for live events. Throws 401 when sinceIndex has left the history window.
   */
  watch(key: string, recursive: boolean, stream: boolean, sinceIndex: number, storeIndex: number): HubWatcher {
    let found: StoreEvent | null;
    try {
      found = this.history.scan(key, recursive, sinceIndex);
    } catch (e) {
      if (e instanceof EtcdError) throw new EtcdError(e.errorCode, e.cause, storeIndex);
      throw e;
    }
    const w = new HubWatcher(key, recursive, stream, sinceIndex, storeIndex, this.bufferSize);
    if (found !== null) {
      // etcd hands out a clone carrying the current store index.
      const clone: StoreEvent = { ...found, node: { ...found.node }, etcdIndex: storeIndex };
      if (found.prevNode !== undefined) clone.prevNode = { ...found.prevNode };
      w.preload(clone);
      return w;
    }
    let set = this.watchers.get(key);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(key, set);
    }
    set.add(w);
    w.registered = true;
    w.unhook = () => this.unhook(w);
    this.count++;
    return w;
  }

  /** Record an event that no watcher is told about (a refresh). */
  add(e: StoreEvent): void {
    this.history.add(e);
  }

  /** Record an event and offer it to watchers on the key and on each of its ancestors. */
  notify(e: StoreEvent): void {
    this.history.add(e);
    if (this.watchers.size === 0) return;
    const key = e.node.key;
    this.notifyWatchers(e, "/", false);
    if (key.length <= 1) return;
    let i = 1;
    while (i <= key.length) {
      let j = key.indexOf("/", i);
      if (j < 0) j = key.length;
      if (j > i) this.notifyWatchers(e, key.slice(0, j), false);
      i = j + 1;
    }
  }

  /** Whether any watcher is registered (lets the store skip per-node delete callbacks). */
  get active(): boolean {
    return this.watchers.size > 0;
  }

  /**
   * Offer e to the watchers registered exactly on nodePath. `deleted` marks a node that
   * the event removed (a descendant of a deleted/expired directory, or the key itself).
   */
  notifyWatchers(e: StoreEvent, nodePath: string, deleted: boolean): void {
    const set = this.watchers.get(nodePath);
    if (set === undefined) return;
    const originalPath = e.node.key === nodePath;
    if (!originalPath && isHiddenBelow(nodePath, e.node.key)) return;
    for (const w of set) {
      if (w.offer(e, originalPath, deleted) && !w.stream) this.unhook(w);
    }
  }

  private unhook(w: HubWatcher): void {
    if (!w.registered) return;
    const set = this.watchers.get(w.key);
    if (set !== undefined) {
      set.delete(w);
      if (set.size === 0) this.watchers.delete(w.key);
    }
    this.count--;
    w.markUnhooked();
  }
}
