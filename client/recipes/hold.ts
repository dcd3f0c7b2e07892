// Holding a key with a TTL: refresh it in the background and find out, as early as possible,
// when it is no longer ours. Used by the locks and the election.
//
// Identity: a key, once created, keeps its createdIndex through refreshes (they go through the
// compare-and-swap path, which keeps it); a key created again (after it expired or was deleted)
// gets a new one. So "the key exists with our createdIndex" is exactly "we still hold it".
//
// We learn of a loss by whichever comes first:
//  - the watch on the key reports a delete/expire, or a node with another createdIndex;
//  - a refresh is refused (100: gone; 101: changed, and a read shows another createdIndex);
//  - no refresh succeeded for a whole TTL, counted from when the last good refresh was *sent*
//    (the server started its TTL after that), so we give up no later than the server can
//    expire the key: even a holder cut off from every member learns it in time.
import { EtcdConnectionError, EtcdError, ErrorCodes } from "../errors.ts";
import type { EtcdClient } from "../client.ts";
import type { EtcdResponse } from "../types.ts";
import { getOrNull, isGone, resilientWatch } from "./util.ts";

export interface Hold {
  readonly key: string;
  readonly createdIndex: number;
  /** Aborted when the key is lost or released (reason: an Error saying why). */
  readonly signal: AbortSignal;
  /** Resolves with the reason once the key is lost; stays pending after a normal release. */
  readonly lost: Promise<string>;
  /**
   * Stop refreshing and delete the key (only if it is still ours). If no member can be
   * reached, it returns anyway: the key then expires within its TTL.
   */
  release(): Promise<void>;
  /** Stop refreshing without deleting: the key expires after its TTL (a crash, for tests). */
  abandon(): void;
}

export interface HoldOptions {
  ttl: number;
  /** Refresh period, ms (default ttl/3). */
  intervalMs?: number;
  /** Called once when the key is lost. */
  onLost?: (reason: string) => void;
}

/** Keep `created` (the answer of the create that made the key) alive. */
export function holdKey(client: EtcdClient, created: EtcdResponse, o: HoldOptions): Hold {
  const key = created.node.key;
  const createdIndex = created.node.createdIndex;
  let modifiedIndex = created.node.modifiedIndex;
  const ttlMs = o.ttl * 1000;
  const interval = o.intervalMs ?? Math.max(50, Math.floor(ttlMs / 3));
  const ctl = new AbortController();
  let resolveLost!: (r: string) => void;
  const lost = new Promise<string>((r) => (resolveLost = r));
  let finished = false;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  const stop = (reason: string): void => {
    if (finished) return;
    finished = true;
    clearTimeout(refreshTimer);
    clearTimeout(deadlineTimer);
    ctl.abort(new Error(reason));
  };
  const lose = (reason: string): void => {
    if (finished) return;
    stop(`lost ${key}: ${reason}`);
    resolveLost(reason);
    try { o.onLost?.(reason); } catch { /* the callback's problem */ }
  };
  const armDeadline = (sentAt: number): void => {
    clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(() => lose(`no refresh succeeded within the ${o.ttl} s TTL`), Math.max(0, sentAt + ttlMs - Date.now()));
  };
  // The create was sent before `now`: its TTL started no earlier than that.
  armDeadline(Date.now() - 1);

  const refresh = async (): Promise<void> => {
    if (finished) return;
    const sentAt = Date.now();
    try {
      const r = await client.refresh(key, o.ttl, { prevIndex: modifiedIndex, signal: ctl.signal });
      modifiedIndex = r.node.modifiedIndex;
      armDeadline(sentAt);
    } catch (e) {
      if (finished) return;
      if (EtcdError.is(e, ErrorCodes.KeyNotFound)) return lose("the key is gone (expired or deleted)");
      if (EtcdError.is(e, ErrorCodes.TestFailed)) {
        // Changed since our last refresh: maybe our own refresh that timed out but applied.
        try {
          const g = await getOrNull(client, key, { signal: ctl.signal });
          if (g === null) return lose("the key is gone (expired or deleted)");
          if (g.node.createdIndex !== createdIndex) return lose(`the key was created again by someone else (createdIndex ${g.node.createdIndex})`);
          modifiedIndex = g.node.modifiedIndex;
        } catch { /* unreachable right now: the deadline decides */ }
      }
      // Connection trouble: try again at the next tick; the deadline timer decides.
    } finally {
      if (!finished) refreshTimer = setTimeout(() => void refresh(), interval);
    }
  };
  refreshTimer = setTimeout(() => void refresh(), interval);

  // Watch the key itself: deletion or expiry is known at once, not at the next refresh.
  void (async () => {
    try {
      for await (const ev of resilientWatch(client, key, { afterIndex: created.node.modifiedIndex, signal: ctl.signal })) {
        if (isGone(ev.action)) return lose(`the key was ${ev.action === "expire" ? "expired" : "deleted"} (index ${ev.node.modifiedIndex})`);
        if (ev.action === "resync" && !(ev as { exists?: boolean }).exists) return lose("the key is gone");
        if (ev.node.key === key && ev.node.createdIndex !== createdIndex) return lose(`the key was replaced (createdIndex ${ev.node.createdIndex})`);
      }
    } catch {
      // The watch failed for good (no endpoint): the refresh loop and the deadline still run.
    }
  })();

  return {
    key,
    createdIndex,
    signal: ctl.signal,
    lost,
    abandon: () => stop(`abandoned ${key}`),
    async release(): Promise<void> {
      if (finished) return;
      stop(`released ${key}`);
      // Delete only our incarnation of the key (compare-and-delete on its current modifiedIndex).
      for (let i = 0; i < 5; i++) {
        try {
          await client.delete(key, { prevIndex: modifiedIndex });
          return;
        } catch (e) {
          if (EtcdError.is(e, ErrorCodes.KeyNotFound)) return;
          if (EtcdError.is(e, ErrorCodes.TestFailed)) {
            const g = await getOrNull(client, key);
            if (g === null || g.node.createdIndex !== createdIndex) return; // not ours any more
            modifiedIndex = g.node.modifiedIndex;
            continue;
          }
          // No member reachable: the key expires on its own within its TTL.
          if (e instanceof EtcdConnectionError) return;
          throw e;
        }
      }
    },
  };
}
