// A work queue and a barrier.
//
// Queue: producers add items with POST (in-order keys: the names sort in creation order).
// A consumer lists the directory (sorted) and takes the first item with a compare-and-delete
// on its modifiedIndex: of all consumers racing for one item exactly one delete succeeds, the
// others get 100/101 and try the next item. With nothing to take it waits for the next change
// under the directory (from the index of the listing, so nothing added meanwhile is missed).
//
// A compare-and-delete whose outcome is unknown (it timed out, the connection broke) is not
// retried elsewhere (see EtcdIndeterminateError): dequeue() rethrows it with the item, which
// then may or may not have been taken by this consumer. Exactly-once needs the consumer to
// know; etcd v2 cannot tell afterwards who deleted a key.
//
// Barrier: workers wait for a `condition` key to be set; whoever coordinates sets it and they
// all start.
import type { EtcdClient } from "../client.ts";
import { EtcdError, EtcdIndeterminateError, ErrorCodes } from "../errors.ts";
import { canonicalKey } from "../keys.ts";
import { isGone, readState, resilientWatch, retrying, throwIfAborted } from "./util.ts";

export interface QueueItem {
  key: string;
  value: string;
  /** The item's createdIndex: its position in the queue. */
  index: number;
}

export class Queue {
  readonly dir: string;

  constructor(private readonly client: EtcdClient, dir: string) {
    this.dir = canonicalKey(dir);
  }

  /** Add an item at the end. */
  async enqueue(value: string, o: { ttl?: number } = {}): Promise<QueueItem> {
    const r = await this.client.createInOrder(this.dir, value, o);
    return { key: r.node.key, value, index: r.node.createdIndex };
  }

  /** Take the first item, or null if the queue is empty now. */
  async tryDequeue(o: { signal?: AbortSignal } = {}): Promise<QueueItem | null> {
    return (await this.attempt(o.signal)).item;
  }

  /** Take the first item, waiting for one if the queue is empty. */
  async dequeue(o: { signal?: AbortSignal } = {}): Promise<QueueItem> {
    for (;;) {
      const { item, index } = await retrying(() => this.attempt(o.signal), o.signal);
      if (item !== null) return item;
      // Empty (or every item went to someone else): wait for the next change under the directory.
      try {
        await retrying(() => this.client.waitNext(this.dir, { recursive: true, waitIndex: index + 1, ...(o.signal ? { signal: o.signal } : {}) }), o.signal);
      } catch (e) {
        // More than 1000 events since the listing: just list again.
        if (!EtcdError.is(e, ErrorCodes.EventIndexCleared)) throw e;
      }
    }
  }

  /** The items waiting, in order. */
  async items(): Promise<QueueItem[]> {
    const { res } = await readState(this.client, this.dir, { sorted: true });
    return (res?.node.nodes ?? []).filter((n) => !n.dir).map((n) => ({ key: n.key, value: n.value ?? "", index: n.createdIndex }));
  }

  private async attempt(signal?: AbortSignal): Promise<{ item: QueueItem | null; index: number }> {
    throwIfAborted(signal);
    const { res, index } = await readState(this.client, this.dir, { sorted: true, ...(signal ? { signal } : {}) });
    for (const n of res?.node.nodes ?? []) {
      if (n.dir) continue;
      throwIfAborted(signal);
      try {
        await this.client.delete(n.key, { prevIndex: n.modifiedIndex });
        return { item: { key: n.key, value: n.value ?? "", index: n.createdIndex }, index };
      } catch (e) {
        if (EtcdError.is(e, ErrorCodes.KeyNotFound) || EtcdError.is(e, ErrorCodes.TestFailed)) continue; // taken by another consumer
        if (e instanceof EtcdIndeterminateError) {
          e.message = `${e.message} (queue item ${n.key}: it may or may not have been taken)`;
        }
        throw e;
      }
    }
    return { item: null, index };
  }
}

/** Workers wait() until the condition key is set; release() sets it. */
export class Barrier {
  readonly key: string;

  constructor(private readonly client: EtcdClient, key: string) {
    this.key = canonicalKey(key);
  }

  /** Resolves with the condition's value once the key exists (at once if it already does). */
  async wait(o: { signal?: AbortSignal } = {}): Promise<string> {
    const { res, index } = await retrying(() => readState(this.client, this.key, o), o.signal);
    if (res !== null) return res.node.value ?? "";
    for await (const ev of resilientWatch(this.client, this.key, { afterIndex: index, ...o })) {
      if (ev.action === "resync" ? (ev as { exists?: boolean }).exists : !isGone(ev.action)) return ev.node.value ?? "";
    }
    throw o.signal?.reason ?? new Error("barrier wait ended");
  }

  /** Set the condition: every waiting worker starts. */
  async release(value = "go"): Promise<void> {
    await this.client.set(this.key, value);
  }

  /** Remove the condition, so that later workers wait again. */
  async reset(): Promise<void> {
    try {
      await this.client.delete(this.key);
    } catch (e) {
      if (!EtcdError.is(e, ErrorCodes.KeyNotFound)) throw e;
    }
  }
}
