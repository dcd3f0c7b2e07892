// Small helpers shared by the recipes.
import { EtcdConnectionError, EtcdError, EtcdIndeterminateError, ErrorCodes } from "../errors.ts";
import type { EtcdClient } from "../client.ts";
import type { EtcdResponse, WatchOptions } from "../types.ts";

/** A unique id for an owner/candidate/consumer (Web Crypto; every supported runtime has it). */
export function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** A signal aborted when any of the given ones is. */
export function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  const A = AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal };
  if (typeof A.any === "function") return A.any(list);
  const ctl = new AbortController();
  for (const s of list) {
    if (s.aborted) {
      ctl.abort(s.reason);
      break;
    }
    s.addEventListener("abort", () => ctl.abort(s.reason), { once: true });
  }
  return ctl.signal;
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Actions after which the key no longer exists. */
export function isGone(action: string): boolean {
  return action === "delete" || action === "expire" || action === "compareAndDelete";
}

/** "/a/b" → "/a/b"; checks the form used as a recipe prefix or key. */
export function joinKey(...parts: string[]): string {
  return "/" + parts.flatMap((p) => p.split("/")).filter((s) => s !== "").join("/");
}

/** The node at key, or null if it does not exist. */
export async function getOrNull(client: EtcdClient, key: string, o: { recursive?: boolean; sorted?: boolean; signal?: AbortSignal } = {}): Promise<EtcdResponse | null> {
  try {
    return await client.get(key, o);
  } catch (e) {
    if (EtcdError.is(e, ErrorCodes.KeyNotFound)) return null;
    throw e;
  }
}

/** The node at key (or null) and the store index of the read, to watch from. */
export async function readState(client: EtcdClient, key: string, o: { recursive?: boolean; sorted?: boolean; signal?: AbortSignal } = {}): Promise<{ res: EtcdResponse | null; index: number }> {
  try {
    const res = await client.get(key, o);
    return { res, index: res.etcdIndex };
  } catch (e) {
    if (EtcdError.is(e, ErrorCodes.KeyNotFound)) return { res: null, index: e.index };
    throw e;
  }
}

/**
 * Whether an error is "no member could answer right now" (every endpoint down, or all of them
 * busy electing a Raft leader): worth waiting out in a blocking recipe call. An
 * EtcdIndeterminateError is not: its write may have happened, and each recipe resolves that.
 */
export function isUnavailable(e: unknown): boolean {
  return e instanceof EtcdConnectionError && !(e instanceof EtcdIndeterminateError);
}

/** Back-off delay for the n-th retry in a row (100 ms doubling up to 2 s). */
export function backoff(n: number): number {
  return Math.min(2000, 100 * 2 ** Math.min(n, 5));
}

/** Run fn again while the cluster is unavailable (see isUnavailable), until the signal aborts. */
export async function retrying<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let n = 0; ; n++) {
    throwIfAborted(signal);
    try {
      return await fn();
    } catch (e) {
      if (!isUnavailable(e) || signal?.aborted) throw e;
      await sleep(backoff(n), signal);
    }
  }
}

/**
 * client.watch with onOutdated "resync", that outlives an unavailable cluster: when every
 * endpoint fails it waits and watches again from the last index it reported, so no event is
 * skipped. Ends when the signal aborts.
 */
export async function* resilientWatch(client: EtcdClient, key: string, o: Omit<WatchOptions, "onOutdated"> & { afterIndex: number }): AsyncGenerator<EtcdResponse, void, undefined> {
  let after = o.afterIndex;
  for (let n = 0; ; ) {
    try {
      for await (const ev of client.watch(key, { ...o, afterIndex: after, onOutdated: "resync" })) {
        n = 0;
        after = ev.action === "resync" ? ev.etcdIndex : ev.node.modifiedIndex;
        yield ev;
      }
      return; // the signal aborted
    } catch (e) {
      if (!isUnavailable(e) || o.signal?.aborted) throw e;
      await sleep(backoff(n++), o.signal);
      if (o.signal?.aborted) return;
    }
  }
}

/** Resolves once key is deleted or expires (watching from afterIndex + 1), or the signal aborts. */
export async function waitGone(client: EtcdClient, key: string, afterIndex: number, signal?: AbortSignal): Promise<void> {
  for await (const ev of resilientWatch(client, key, { afterIndex, ...(signal ? { signal } : {}) })) {
    if (isGone(ev.action)) return;
    if (ev.action === "resync" && !(ev as { exists?: boolean }).exists) return;
  }
}
