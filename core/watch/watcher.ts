// One watch: a bounded event buffer read through next() (etcd's watcher.go, with the
// buffered Go channel replaced by a queue and the promises of waiting readers).

import type { StoreEvent, Watcher } from "../store/types.ts";
import { eventIndex } from "./history.ts";

export class HubWatcher implements Watcher {
  readonly startIndex: number;
  readonly key: string;
  readonly recursive: boolean;
  readonly stream: boolean;
  readonly sinceIndex: number;
  private readonly capacity: number;
  private queue: StoreEvent[] = [];
  private head = 0;
  /** Readers waiting in next(), oldest first (normally at most one). */
  private waiters: ((e: StoreEvent | null) => void)[] = [];
  /** Registered with the hub and receiving live events. */
  registered = false;
  /** No event will ever arrive again: next() answers null once the queue is drained. */
  private ended = false;
  /** remove() was called by the reader: next() answers null at once. */
  private closed = false;
  /** Set by the hub when it registers the watcher. */
  unhook: (() => void) | null = null;

  constructor(key: string, recursive: boolean, stream: boolean, sinceIndex: number, startIndex: number, capacity: number) {
    this.key = key;
    this.recursive = recursive;
    this.stream = stream;
    this.sinceIndex = sinceIndex;
    this.startIndex = startIndex;
    this.capacity = capacity;
  }

  next(): Promise<StoreEvent | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      this.queue[this.head++] = undefined as never;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head >= 64 && this.head * 2 >= this.queue.length) {
        // A reader that never quite catches up must not grow the array forever.
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve(e);
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }

  remove(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.unhookFromHub();
    this.wakeAll();
  }

  /**
   * Offer an event (etcd's watcher.notify). Returns true when the watcher is interested,
   * which for a one-shot watcher means the hub must drop it. A full buffer unhooks the
   * watcher and loses the event, as etcd does.
   */
  offer(e: StoreEvent, originalPath: boolean, deleted: boolean): boolean {
    if (!(this.recursive || originalPath || deleted) || eventIndex(e) < this.sinceIndex) return false;
    if (this.waiters.length > 0) this.waiters.shift()!(e);
    else if (this.queue.length - this.head < this.capacity) this.queue.push(e);
    else this.unhookFromHub();
    return true;
  }

  /** A watch answered from the history: one event, never registered. */
  preload(e: StoreEvent): void {
    this.queue.push(e);
    // etcd leaves a history-served stream open and silent forever; a one-shot watch ends.
    if (!this.stream) this.ended = true;
  }

  /** Called by the hub when it drops the watcher (one-shot delivered, or overflow). */
  markUnhooked(): void {
    this.registered = false;
    this.ended = true;
    if (this.head >= this.queue.length) this.wakeAll();
  }

  private unhookFromHub(): void {
    if (this.registered && this.unhook !== null) this.unhook();
    else this.ended = true;
  }

  private wakeAll(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w(null);
  }
}
