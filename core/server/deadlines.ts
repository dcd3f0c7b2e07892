// Timeouts for many waiting requests on one timer. Requests with the same timeout expire in
// the order they were added, so each timeout length keeps a FIFO queue and a single runtime
// timer for its oldest entry: adding and cancelling cost a Map operation instead of a
// runtime timer each.
import type { Runtime } from "../runtime.ts";

interface Item {
  at: number;
  fire: () => void;
}

class Queue {
  readonly items = new Map<number, Item>();
  cancelTimer: (() => void) | null = null;
}

export class Deadlines {
  private readonly queues = new Map<number, Queue>();
  private seq = 0;

  constructor(private readonly rt: Pick<Runtime, "setTimer" | "monotonic">) {}

  /** Calls fire once, ms from now, unless the returned function is called first. */
  add(ms: number, fire: () => void): () => void {
    let q = this.queues.get(ms);
    if (q === undefined) {
      q = new Queue();
      this.queues.set(ms, q);
    }
    const key = ++this.seq;
    q.items.set(key, { at: this.rt.monotonic() + ms, fire });
    if (q.cancelTimer === null) this.arm(q, ms);
    const queue = q;
    return () => {
      queue.items.delete(key);
    };
  }

  /** Drops every pending timeout without firing it. */
  clear(): void {
    for (const q of this.queues.values()) {
      q.cancelTimer?.();
      q.cancelTimer = null;
      q.items.clear();
    }
  }

  private arm(q: Queue, ms: number): void {
    const first = q.items.values().next();
    if (first.done) return;
    const wait = Math.max(0, first.value.at - this.rt.monotonic());
    q.cancelTimer = this.rt.setTimer(wait, () => {
      q.cancelTimer = null;
      this.expire(q, ms);
    });
  }

  private expire(q: Queue, ms: number): void {
    const now = this.rt.monotonic();
    for (const [key, item] of q.items) {
      if (item.at > now) break;
      q.items.delete(key);
      item.fire();
    }
    if (q.cancelTimer === null) this.arm(q, ms);
  }
}
