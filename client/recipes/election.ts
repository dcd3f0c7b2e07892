// Leader election: the leader is whoever holds `<prefix>/<name>` (created with prevExist=false
// and a TTL, kept alive by refresh, exactly like Mutex). campaign() blocks until this candidate
// is leader; observe() follows who leads; resign() steps down. A leader whose key goes away
// (TTL expiry after a pause or a partition, deletion by an operator) learns it through
// Leadership.lost / Leadership.signal / onLost, and must stop acting as leader; the token
// (the key's createdIndex) fences its writes as in lock.ts.
import type { EtcdClient } from "../client.ts";
import { acquireKey } from "./lock.ts";
import { getOrNull, isGone, joinKey, readState, resilientWatch, retrying } from "./util.ts";

export interface ElectionOptions {
  /** Seconds a silent leader keeps the role (default 10). */
  ttl?: number;
  /** Directory of elections (default "/elections"). */
  prefix?: string;
  /** Refresh period, ms (default ttl/3). */
  refreshMs?: number;
}

export interface Leadership {
  readonly value: string;
  /** Fencing token: the index at which this term of leadership began. */
  readonly token: number;
  /** Aborted when leadership ends (lost or resigned). */
  readonly signal: AbortSignal;
  /** Resolves with the reason if leadership is lost (not on resign). */
  readonly lost: Promise<string>;
  /** Step down: delete the key (if still ours) so another candidate wins at once. */
  resign(): Promise<void>;
  /** Stop refreshing without resigning: the key expires after the TTL (a crashed leader). */
  abandon(): void;
}

export class Election {
  readonly key: string;
  private readonly ttl: number;
  private readonly refreshMs: number | undefined;

  constructor(private readonly client: EtcdClient, name: string, o: ElectionOptions = {}) {
    this.key = joinKey(o.prefix ?? "/elections", name);
    this.ttl = o.ttl ?? 10;
    this.refreshMs = o.refreshMs;
  }

  /**
   * Block until this candidate leads, with `value` (make it unique per candidate, e.g. host and
   * pid: it is how an unclear create is recognised). Rejects if the signal aborts first.
   */
  async campaign(value: string, o: { signal?: AbortSignal; onLost?: (reason: string) => void } = {}): Promise<Leadership> {
    const { hold, created } = await acquireKey(this.client, this.key, value, { ttl: this.ttl, refreshMs: this.refreshMs, signal: o.signal });
    if (o.onLost) void hold.lost.then(o.onLost);
    return {
      value, token: created.node.createdIndex, signal: hold.signal, lost: hold.lost,
      resign: () => hold.release(), abandon: () => hold.abandon(),
    };
  }

  /** The current leader's value, or null. */
  async leader(o: { signal?: AbortSignal } = {}): Promise<string | null> {
    const g = await getOrNull(this.client, this.key, o);
    return g?.node.value ?? null;
  }

  /**
   * The leader's value now, then each time it changes (null: no leader). Ends when the signal
   * aborts.
   */
  async *observe(o: { signal?: AbortSignal } = {}): AsyncGenerator<string | null, void, undefined> {
    const { res, index: from } = await retrying(() => readState(this.client, this.key, o), o.signal);
    let current: string | null = res?.node.value ?? null;
    yield current;
    for await (const ev of resilientWatch(this.client, this.key, { afterIndex: from, ...o })) {
      let next: string | null;
      if (ev.action === "resync") next = (ev as { exists?: boolean }).exists ? ev.node.value ?? null : null;
      else if (isGone(ev.action)) next = null;
      else next = ev.node.value ?? null;
      if (next !== current) {
        current = next;
        yield current;
      }
    }
  }
}
