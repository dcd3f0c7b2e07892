// Service registry: instances register under `<prefix>/<service>/<id>` with a TTL and keep the
// key alive in the background (refresh, which does not wake watchers; if the key expired
// anyway, after a pause, it is registered again). Clients discover the instances, follow them
// (a DirectoryMirror of the service's directory) and pick one round-robin. Shutdown deletes
// the key, so the instance disappears at once instead of after its TTL.
import type { EtcdClient } from "../client.ts";
import { EtcdConnectionError, EtcdError, ErrorCodes } from "../errors.ts";
import { DirectoryMirror, type MirrorChange } from "./mirror.ts";
import { joinKey, readState } from "./util.ts";

export interface RegistryOptions {
  /** Directory of all services (default "/services"). */
  prefix?: string;
  /** Seconds an instance outlives its last refresh (default 10). */
  ttl?: number;
}

export interface Registration {
  readonly key: string;
  /** Stop refreshing and delete the key. */
  deregister(): Promise<void>;
  /** Stop refreshing, keep the key: it expires after its TTL (a crash, for tests). */
  abandon(): void;
}

export interface ServiceChange extends MirrorChange {
  /** "up": a new instance; "down": gone (deleted or expired); "changed": new value. */
  kind: "up" | "down" | "changed";
}

/** Follows one service: its instances, their changes, and a round-robin pick. */
export class ServiceWatcher {
  private cursor = 0;
  constructor(private readonly mirror: DirectoryMirror) {}

  /** id → value (e.g. an address), kept up to date. */
  get instances(): ReadonlyMap<string, string> {
    return this.mirror.values;
  }

  /** The next instance's value, round-robin in id order; undefined if there is none. */
  pick(): string | undefined {
    const ids = [...this.mirror.values.keys()].sort();
    if (ids.length === 0) return undefined;
    const id = ids[this.cursor++ % ids.length]!;
    return this.mirror.values.get(id);
  }

  /** Every change from now on. */
  async *changes(): AsyncGenerator<ServiceChange, void, undefined> {
    for await (const c of this.mirror.changes()) yield toServiceChange(c);
  }

  onChange(fn: (c: ServiceChange[]) => void): () => void {
    return this.mirror.on((cs) => fn(cs.map(toServiceChange)));
  }

  get done(): Promise<void> {
    return this.mirror.done;
  }

  close(): void {
    this.mirror.close();
  }
}

function toServiceChange(c: MirrorChange): ServiceChange {
  return { ...c, kind: c.type === "delete" ? "down" : c.previous === undefined ? "up" : "changed" };
}

export class ServiceRegistry {
  private readonly prefix: string;
  private readonly ttl: number;

  constructor(private readonly client: EtcdClient, o: RegistryOptions = {}) {
    this.prefix = joinKey(o.prefix ?? "/services");
    this.ttl = o.ttl ?? 10;
  }

  /** Register `<service>/<id>` = value and keep it alive until deregister(). */
  async register(service: string, id: string, value: string, o: { ttl?: number; refreshMs?: number } = {}): Promise<Registration> {
    const key = joinKey(this.prefix, service, id);
    const ttl = o.ttl ?? this.ttl;
    const interval = o.refreshMs ?? Math.max(50, Math.floor((ttl * 1000) / 3));
    await this.client.set(key, value, { ttl });
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const beat = async (): Promise<void> => {
      if (stopped) return;
      try {
        await this.client.refresh(key, ttl);
      } catch (e) {
        if (stopped) return;
        // Expired while we were away (a pause, a partition): register again.
        if (EtcdError.is(e, ErrorCodes.KeyNotFound)) await this.client.set(key, value, { ttl }).catch(() => {});
        // Connection errors: try again at the next beat.
      } finally {
        if (!stopped) timer = setTimeout(() => void beat(), interval);
      }
    };
    timer = setTimeout(() => void beat(), interval);
    return {
      key,
      abandon: () => {
        stopped = true;
        clearTimeout(timer);
      },
      deregister: async () => {
        stopped = true;
        clearTimeout(timer);
        try {
          await this.client.delete(key);
        } catch (e) {
          if (EtcdError.is(e, ErrorCodes.KeyNotFound) || e instanceof EtcdConnectionError) return; // gone, or expires by itself
          throw e;
        }
      },
    };
  }

  /** The instances of a service now: id → value. */
  async discover(service: string): Promise<Map<string, string>> {
    const { res } = await readState(this.client, joinKey(this.prefix, service), { recursive: true, sorted: true });
    const out = new Map<string, string>();
    for (const n of res?.node.nodes ?? []) {
      if (n.dir) continue;
      const id = n.key.slice(n.key.lastIndexOf("/") + 1);
      if (!id.startsWith("_")) out.set(id, n.value ?? "");
    }
    return out;
  }

  /** Load a service's instances and follow them (close() when done). */
  async watch(service: string, o: { signal?: AbortSignal } = {}): Promise<ServiceWatcher> {
    return new ServiceWatcher(await DirectoryMirror.open(this.client, joinKey(this.prefix, service), o));
  }
}
