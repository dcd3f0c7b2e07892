// The ring buffer of the last N store events and the scan a watch with a past
// waitIndex is answered from (etcd's event_history.go / event_queue.go).

import { EtcdError, ErrorCode } from "../errors.ts";
import type { StoreEvent } from "../store/types.ts";

export function eventIndex(e: StoreEvent): number {
  return e.node.modifiedIndex;
}

export class EventHistory {
  readonly capacity: number;
  private readonly ring: (StoreEvent | undefined)[];
  private front = 0; // slot of the oldest event
  private count = 0;
  /** Index of the oldest event held (0 while empty, as in etcd). */
  startIndex = 0;
  /** Index of the newest event held. */
  lastIndex = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError("history capacity must be at least 1");
    this.capacity = capacity;
    this.ring = new Array<StoreEvent | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  add(e: StoreEvent): void {
    const back = (this.front + this.count) % this.capacity;
    this.ring[back] = e;
    if (this.count === this.capacity) this.front = (this.front + 1) % this.capacity;
    else this.count++;
    this.lastIndex = eventIndex(e);
    this.startIndex = eventIndex(this.ring[this.front]!);
  }

  /** Oldest first. */
  events(): StoreEvent[] {
    const out: StoreEvent[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.ring[(this.front + i) % this.capacity]!);
    return out;
  }

  /**
   * The first event with index >= `index` that a watcher on `key` would match, or null
   * when there is none yet. Refresh events are skipped; hidden keys are not filtered.
   * Throws 401 (index 0; the hub fills in the store index) when `index` has left the window.
   */
  scan(key: string, recursive: boolean, index: number): StoreEvent | null {
    if (index < this.startIndex) {
      throw new EtcdError(
        ErrorCode.EventIndexCleared,
        `the requested history has been cleared [${this.startIndex}/${index}]`,
        0,
      );
    }
    if (index > this.lastIndex || this.count === 0) return null;
    // Indexes in the history are consecutive, so the offset from the oldest is direct.
    const prefix = key.endsWith("/") ? key : key + "/";
    for (let i = index - this.startIndex; i < this.count; i++) {
      const e = this.ring[(this.front + i) % this.capacity]!;
      if (e.refresh) continue;
      const k = e.node.key;
      let ok = k === key || (recursive && k.startsWith(prefix));
      // A deleted or expired directory matches every watch below it; etcd checks this
      // with a raw prefix test, so "/foo" also matches a watch on "/foobar".
      if (!ok && (e.action === "delete" || e.action === "expire") && e.prevNode?.dir === true) {
        ok = key.startsWith(e.prevNode.key);
      }
      if (ok) return e;
    }
    return null;
  }
}
