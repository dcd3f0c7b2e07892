// Heartbeat monitoring: each member reports liveness as `<dir>/<id>` with a TTL, refreshed
// every interval (a refresh does not wake watchers, so a steady member makes no events). A
// monitor lists the directory, then watches it: a new key is an arrival, an expiry is a member
// that fell silent for a whole TTL, a delete is a member that left cleanly.
import type { EtcdClient } from "../client.ts";
import { EtcdConnectionError, EtcdError, ErrorCodes } from "../errors.ts";
import { canonicalKey } from "../keys.ts";
import { joinKey, readState, resilientWatch } from "./util.ts";

export interface Heartbeat {
  readonly key: string;
  /** Stop beating; with remove (default true) delete the key ("left"), else let it expire. */
  stop(o?: { remove?: boolean }): Promise<void>;
}

/** Start reporting `id` as alive under dir, with `value` (e.g. an address or a status). */
export async function startHeartbeat(
  client: EtcdClient, dir: string, id: string, o: { ttl?: number; intervalMs?: number; value?: string } = {},
): Promise<Heartbeat> {
  const key = joinKey(dir, id);
  const ttl = o.ttl ?? 5;
  const value = o.value ?? "alive";
  const interval = o.intervalMs ?? Math.max(50, Math.floor((ttl * 1000) / 3));
  await client.set(key, value, { ttl });
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const beat = async (): Promise<void> => {
    if (stopped) return;
    try {
      await client.refresh(key, ttl);
    } catch (e) {
      // Expired after a pause: arrive again.
      if (!stopped && EtcdError.is(e, ErrorCodes.KeyNotFound)) await client.set(key, value, { ttl }).catch(() => {});
    } finally {
      if (!stopped) timer = setTimeout(() => void beat(), interval);
    }
  };
  timer = setTimeout(() => void beat(), interval);
  return {
    key,
    async stop(so = {}) {
      stopped = true;
      clearTimeout(timer);
      if (so.remove === false) return;
      try {
        await client.delete(key);
      } catch (e) {
        if (!EtcdError.is(e, ErrorCodes.KeyNotFound) && !(e instanceof EtcdConnectionError)) throw e;
      }
    },
  };
}

export interface HeartbeatEvent {
  /**
   * present: alive when monitoring began; arrived: a new member (or one back after expiring);
   * updated: its value changed; expired: silent for a whole TTL; left: its key was deleted.
   */
  type: "present" | "arrived" | "updated" | "expired" | "left";
  id: string;
  value?: string;
  /** The store index of the event. */
  index: number;
}

/** The members alive now, then every arrival and departure. Ends when the signal aborts. */
export async function* monitorHeartbeats(client: EtcdClient, dir: string, o: { signal?: AbortSignal } = {}): AsyncGenerator<HeartbeatEvent, void, undefined> {
  const base = canonicalKey(dir);
  const idOf = (key: string): string | null => (key.startsWith(base + "/") ? key.slice(base.length + 1) : null);
  const { res, index } = await readState(client, base, { sorted: true, ...o });
  const alive = new Map<string, string>();
  for (const n of res?.node.nodes ?? []) {
    const id = idOf(n.key);
    if (id === null || n.dir) continue;
    alive.set(id, n.value ?? "");
    yield { type: "present", id, value: n.value ?? "", index };
  }
  for await (const ev of resilientWatch(client, base, { recursive: true, afterIndex: index, ...o })) {
    if (ev.action === "resync") {
      const now = new Map<string, string>();
      for (const n of (ev as { exists?: boolean }).exists ? ev.node.nodes ?? [] : []) {
        const id = idOf(n.key);
        if (id !== null && !n.dir) now.set(id, n.value ?? "");
      }
      for (const [id] of alive) if (!now.has(id)) yield { type: "left", id, index: ev.etcdIndex };
      for (const [id, v] of now) if (!alive.has(id)) yield { type: "arrived", id, value: v, index: ev.etcdIndex };
      alive.clear();
      for (const [k, v] of now) alive.set(k, v);
      continue;
    }
    const id = idOf(ev.node.key);
    const i = ev.node.modifiedIndex;
    if (id === null) {
      // The directory itself went away: everyone with it.
      if (ev.node.key === base && (ev.action === "delete" || ev.action === "expire")) {
        for (const [gone] of alive) yield { type: ev.action === "expire" ? "expired" : "left", id: gone, index: i };
        alive.clear();
      }
      continue;
    }
    switch (ev.action) {
      case "expire":
        alive.delete(id);
        yield { type: "expired", id, index: i };
        break;
      case "delete":
      case "compareAndDelete":
        alive.delete(id);
        yield { type: "left", id, index: i };
        break;
      default: {
        const v = ev.node.value ?? "";
        const known = alive.has(id);
        alive.set(id, v);
        yield known ? { type: "updated", id, value: v, index: i } : { type: "arrived", id, value: v, index: i };
      }
    }
  }
}
