// Distributed locks on the v2 API, with fencing tokens.
//
// Mutex (exclusive, not fair): the lock is one key, `<prefix>/<name>`, created with
// prevExist=false and a TTL and kept alive by refresh. Waiters watch that key and try again
// when it is deleted or expires. Whoever's create lands first wins.
//
// FairMutex (first come, first served): each waiter adds an in-order key under
// `<prefix>/<name>` (POST) and keeps it alive; the lowest key holds the lock; every other
// waiter watches only its predecessor (no thundering herd) and re-checks when it goes.
//
// FENCING. A lock with a TTL cannot by itself stop two holders from acting at once: a holder
// that is paused (GC, swap, SIGSTOP, a slow disk) past its TTL does not know the key expired
// and someone else acquired it; when it wakes it still believes it holds the lock, and its
// writes interleave with the new holder's. So each acquisition comes with a fencing token:
// the store index at which it acquired (the createdIndex of the lock key, or of the waiter's
// own in-order key). Tokens grow strictly from one holder to the next. The protected resource
// remembers the highest token it has accepted and refuses any request with a lower one
// (see FencedResource): the paused holder's late writes are rejected instead of applied.
// (Lease.signal / Lease.lost also tell a holder as soon as it can know that it lost the
// lock, but a process that is paused cannot act on that in time; only fencing is safe.)
import type { EtcdClient } from "../client.ts";
import { EtcdError, EtcdIndeterminateError, ErrorCodes } from "../errors.ts";
import type { EtcdResponse } from "../types.ts";
import { type Hold, holdKey } from "./hold.ts";
import { anySignal, backoff, getOrNull, isUnavailable, joinKey, randomId, retrying, sleep, throwIfAborted, waitGone } from "./util.ts";

export interface LockOptions {
  /** Seconds the lock survives its holder's silence (default 10). */
  ttl?: number;
  /** Directory of the locks (default "/locks"). */
  prefix?: string;
  /** This client's identity, stored as the value (default: a random id). */
  owner?: string;
  /** Refresh period, ms (default ttl/3). */
  refreshMs?: number;
}

/** A held lock. */
export interface Lease {
  /** The key that represents this holder. */
  readonly key: string;
  /** The fencing token: the index at which this holder got the lock. Strictly increasing between holders. */
  readonly token: number;
  readonly owner: string;
  /** Aborted as soon as this client knows the lock is lost (or released). */
  readonly signal: AbortSignal;
  /** Resolves with the reason if the lock is lost (TTL expiry, deletion). */
  readonly lost: Promise<string>;
  release(): Promise<void>;
  /** Stop keeping the lock alive without releasing it (it expires after the TTL). */
  abandon(): void;
}

function lease(h: Hold, token: number, owner: string): Lease {
  return { key: h.key, token, owner, signal: h.signal, lost: h.lost, release: () => h.release(), abandon: () => h.abandon() };
}

/**
 * Create `key` with `value` (prevExist=false, TTL) and keep it; if it exists, wait for it to go
 * and try again. Resolves with the hold once created. Also used by the election.
 */
export async function acquireKey(
  client: EtcdClient, key: string, value: string, o: { ttl: number; refreshMs?: number | undefined; signal?: AbortSignal | undefined },
): Promise<{ hold: Hold; created: EtcdResponse }> {
  const hold = (r: EtcdResponse): { hold: Hold; created: EtcdResponse } => ({
    hold: holdKey(client, r, { ttl: o.ttl, ...(o.refreshMs !== undefined ? { intervalMs: o.refreshMs } : {}) }),
    created: r,
  });
  // While no member can answer (all down, or electing a Raft leader), keep trying: the caller
  // asked to block until it holds the key, and can give up with its signal.
  for (let n = 0; ; ) {
    throwIfAborted(o.signal);
    try {
      try {
        return hold(await client.create(key, value, { ttl: o.ttl, ...(o.signal ? { signal: o.signal } : {}) }));
      } catch (e) {
        if (e instanceof EtcdIndeterminateError) {
          // The create may have landed: it is ours if the key holds our (unique) value.
          const g = await retrying(() => getOrNull(client, key), o.signal);
          if (g !== null && g.node.value === value) return hold(g);
          continue;
        }
        if (!EtcdError.is(e, ErrorCodes.NodeExist)) throw e;
      }
      // Taken: wait until the holder's key is deleted or expires, then race for it again.
      const g = await getOrNull(client, key, o.signal ? { signal: o.signal } : {});
      if (g === null) continue;
      await waitGone(client, key, g.etcdIndex, o.signal);
      n = 0;
    } catch (e) {
      if (!isUnavailable(e) || o.signal?.aborted) throw e;
      await sleep(backoff(n++), o.signal);
    }
  }
}

/** Exclusive lock: `<prefix>/<name>` exists while held. */
export class Mutex {
  readonly key: string;
  private readonly ttl: number;
  private readonly owner: string;
  private readonly refreshMs: number | undefined;

  constructor(private readonly client: EtcdClient, name: string, o: LockOptions = {}) {
    this.key = joinKey(o.prefix ?? "/locks", name);
    this.ttl = o.ttl ?? 10;
    this.owner = o.owner ?? randomId();
    this.refreshMs = o.refreshMs;
  }

  /** Blocks until the lock is ours (or the signal aborts: rejects with its reason). */
  async acquire(o: { signal?: AbortSignal } = {}): Promise<Lease> {
    // A fresh owner value per acquisition, so an indeterminate create is recognised as ours.
    const owner = `${this.owner}#${randomId()}`;
    const { hold, created } = await acquireKey(this.client, this.key, owner, { ttl: this.ttl, refreshMs: this.refreshMs, signal: o.signal });
    return lease(hold, created.node.createdIndex, owner);
  }

  /** The lock if it is free now, else null (no waiting). */
  async tryAcquire(): Promise<Lease | null> {
    const owner = `${this.owner}#${randomId()}`;
    try {
      const r = await this.client.create(this.key, owner, { ttl: this.ttl });
      return lease(holdKey(this.client, r, { ttl: this.ttl, ...(this.refreshMs !== undefined ? { intervalMs: this.refreshMs } : {}) }), r.node.createdIndex, owner);
    } catch (e) {
      if (EtcdError.is(e, ErrorCodes.NodeExist)) return null;
      throw e;
    }
  }
}

/** Fair lock: waiters are served in the order they asked (in-order keys under `<prefix>/<name>`). */
export class FairMutex {
  readonly dir: string;
  private readonly ttl: number;
  private readonly owner: string;
  private readonly refreshMs: number | undefined;

  constructor(private readonly client: EtcdClient, name: string, o: LockOptions = {}) {
    this.dir = joinKey(o.prefix ?? "/locks", name);
    this.ttl = o.ttl ?? 10;
    this.owner = o.owner ?? randomId();
    this.refreshMs = o.refreshMs;
  }

  /** Take a place in the queue, then block until every earlier waiter is gone. */
  async acquire(o: { signal?: AbortSignal; onQueued?: (key: string, token: number) => void } = {}): Promise<Lease> {
    const owner = `${this.owner}#${randomId()}`;
    const mine = await this.enqueue(owner, o.signal);
    const hold = holdKey(this.client, mine, { ttl: this.ttl, ...(this.refreshMs !== undefined ? { intervalMs: this.refreshMs } : {}) });
    o.onQueued?.(mine.node.key, mine.node.createdIndex);
    const signal = anySignal([o.signal, hold.signal]);
    try {
      for (;;) {
        throwIfAborted(signal);
        const list = await retrying(() => this.client.get(this.dir, { sorted: true, signal }), signal);
        const nodes = (list.node.nodes ?? []).filter((n) => !n.dir);
        const i = nodes.findIndex((n) => n.key === mine.node.key);
        if (i < 0) throw new Error(`${mine.node.key}: our place in the queue is gone (it expired)`);
        if (i === 0) return lease(hold, mine.node.createdIndex, owner);
        await waitGone(this.client, nodes[i - 1]!.key, list.etcdIndex, signal);
      }
    } catch (e) {
      await hold.release().catch(() => {});
      throw e;
    }
  }

  private async enqueue(owner: string, signal?: AbortSignal): Promise<EtcdResponse> {
    for (;;) {
      throwIfAborted(signal);
      try {
        return await this.client.createInOrder(this.dir, owner, { ttl: this.ttl, ...(signal ? { signal } : {}) });
      } catch (e) {
        if (!(e instanceof EtcdIndeterminateError)) throw e;
        // The POST may have landed: look for our value before adding another entry.
        const list = await retrying(() => getOrNull(this.client, this.dir, { sorted: true }), signal);
        const n = list?.node.nodes?.find((x) => x.value === owner);
        if (n !== undefined && list !== null) return { ...list, action: "create", node: n };
      }
    }
  }
}

/** Refused: a request carried a fencing token older than one the resource has already seen. */
export class StaleTokenError extends Error {
  constructor(readonly token: number, readonly highest: number) {
    super(`fencing token ${token} is stale: the resource has already accepted ${highest}`);
    this.name = "StaleTokenError";
  }
}

/**
 * How a protected resource checks fencing tokens: it accepts an operation only if its token is
 * at least the highest it has accepted so far, and remembers the highest. (A real resource
 * keeps `highest` with its data, and checks and writes atomically.)
 */
export class FencedResource<T> {
  highest = 0;
  readonly log: { token: number; value: T }[] = [];

  write(token: number, value: T): void {
    if (token < this.highest) throw new StaleTokenError(token, this.highest);
    this.highest = token;
    this.log.push({ token, value });
  }
}
