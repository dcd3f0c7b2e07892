// One watch: a bounded event buffer read through next() (etcd's watcher.go, with the
// buffered Go channel replaced by a queue and a pending promise).

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
  private waiter: ((e: StoreEvent | null) => void) | null = null;
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
      }
      return Promise.resolve(e);
    }
    if (this.ended) return Promise.resolve(null);
    if (this.waiter !== null) return Promise.reject(new Error("next() already pending"));
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  remove(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.unhookFromHub();
    this.wake(null);
  }

  /**
   * Offer an event (etcd's watcher.notify). Returns true when the watcher is interested,
   * which for a one-shot watcher means the hub must drop it. A full buffer unhooks the
   * watcher and loses the event, as etcd does.
   */
  offer(e: StoreEvent, originalPath: boolean, deleted: boolean): boolean {
    if (!(this.recursive || originalPath || deleted) || eventIndex(e) < this.sinceIndex) return false;
    if (this.waiter !== null) this.wake(e);
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
    if (this.head >= this.queue.length) this.wake(null);
  }

  private unhookFromHub(): void {
    if (this.registered && this.unhook !== null) this.unhook();
    else this.ended = true;
  }

  private wake(e: StoreEvent | null): void {
    const w = this.waiter;
    if (w === null) return;
    this.waiter = null;
    w(e);
  }
}
