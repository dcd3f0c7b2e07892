// A directory kept in memory: load it once (recursive GET), then apply every change under it
// (recursive watch from the index of that GET), so the copy is never missing an update. The
// base of the configuration and service-registry recipes.
//
// Keys in the map are relative to the directory ("db/host" for "<dir>/db/host"); only files
// appear. Hidden keys (a segment starting with "_") are left out, as etcd leaves them out of
// listings. If the watch falls more than 1000 events behind (error 401) the directory is read
// again and the difference reported as changes.
import type { EtcdClient } from "../client.ts";
import type { EtcdNode, EtcdResponse } from "../types.ts";
import { canonicalKey } from "../keys.ts";
import { isGone, readState, resilientWatch } from "./util.ts";

export interface MirrorChange {
  type: "put" | "delete";
  /** Relative to the directory. */
  key: string;
  /** The new value (put). */
  value?: string;
  /** The value before (absent for a new key). */
  previous?: string;
  /** etcd's action (set, create, update, compareAndSwap, delete, expire, ...) or "resync". */
  action: string;
  /** The store index of the change. */
  index: number;
}

function hidden(rel: string): boolean {
  return rel.split("/").some((s) => s.startsWith("_"));
}

export class DirectoryMirror {
  readonly dir: string;
  readonly values = new Map<string, string>();
  /** The index the copy is up to date with. */
  index = 0;
  /** Set if following stopped because of an error (then `done` has resolved). */
  error: unknown = undefined;
  /** Resolves when following stops (close() or an error). */
  readonly done: Promise<void>;
  private readonly ctl = new AbortController();
  private readonly listeners = new Set<(c: MirrorChange[]) => void>();
  private readonly queues = new Set<{ items: MirrorChange[]; wake: (() => void) | null }>();
  private resolveDone!: () => void;
  private closed = false;

  private constructor(private readonly client: EtcdClient, dir: string) {
    this.dir = canonicalKey(dir);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Load the directory (missing: empty) and start following it. */
  static async open(client: EtcdClient, dir: string, o: { signal?: AbortSignal } = {}): Promise<DirectoryMirror> {
    const m = new DirectoryMirror(client, dir);
    o.signal?.addEventListener("abort", () => m.close(), { once: true });
    const { res, index } = await readState(client, m.dir, { recursive: true, sorted: true });
    if (res !== null) m.collect(res.node, m.values);
    m.index = index;
    void m.follow();
    return m;
  }

  /** Call fn with each batch of changes (one event, or the differences after a resync). Returns an unsubscribe. */
  on(fn: (changes: MirrorChange[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Every change from now on, as an async iterable (ends on close()). */
  async *changes(): AsyncGenerator<MirrorChange, void, undefined> {
    const q = { items: [] as MirrorChange[], wake: null as (() => void) | null };
    this.queues.add(q);
    try {
      for (;;) {
        while (q.items.length > 0) yield q.items.shift()!;
        if (this.closed) return;
        await new Promise<void>((r) => (q.wake = r));
        q.wake = null;
      }
    } finally {
      this.queues.delete(q);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctl.abort();
    for (const q of this.queues) q.wake?.();
    this.resolveDone();
  }

  private rel(key: string): string | null {
    if (key === this.dir) return "";
    const base = this.dir === "/" ? "/" : this.dir + "/";
    return key.startsWith(base) ? key.slice(base.length) : null;
  }

  private collect(node: EtcdNode, into: Map<string, string>): void {
    if (!node.dir) {
      const r = this.rel(node.key);
      if (r !== null && r !== "" && !hidden(r)) into.set(r, node.value ?? "");
      return;
    }
    for (const c of node.nodes ?? []) this.collect(c, into);
  }

  private emit(changes: MirrorChange[]): void {
    if (changes.length === 0) return;
    for (const q of this.queues) {
      q.items.push(...changes);
      q.wake?.();
    }
    for (const fn of this.listeners) {
      try { fn(changes); } catch { /* a listener's problem */ }
    }
  }

  /** Apply one event to the map; the changes it made. */
  private apply(ev: EtcdResponse): MirrorChange[] {
    const out: MirrorChange[] = [];
    const index = ev.node.modifiedIndex;
    if (ev.action === "resync") {
      const fresh = new Map<string, string>();
      if ((ev as { exists?: boolean }).exists) this.collect(ev.node, fresh);
      for (const [k, v] of this.values) {
        if (!fresh.has(k)) out.push({ type: "delete", key: k, previous: v, action: "resync", index: ev.etcdIndex });
      }
      for (const [k, v] of fresh) {
        const prev = this.values.get(k);
        if (prev !== v) out.push({ type: "put", key: k, value: v, ...(prev !== undefined ? { previous: prev } : {}), action: "resync", index: ev.etcdIndex });
      }
      this.values.clear();
      for (const [k, v] of fresh) this.values.set(k, v);
      return out;
    }
    const rel = this.rel(ev.node.key);
    // An ancestor of the directory deleted or expired: everything goes.
    const gone = isGone(ev.action);
    if (rel === null) {
      if (gone && (this.dir.startsWith(ev.node.key + "/") || ev.node.key === "/")) {
        for (const [k, v] of this.values) out.push({ type: "delete", key: k, previous: v, action: ev.action, index });
        this.values.clear();
      }
      return out;
    }
    if (rel !== "" && hidden(rel)) return out;
    if (gone) {
      const prefix = rel === "" ? "" : rel + "/";
      for (const [k, v] of [...this.values]) {
        if (k === rel || k.startsWith(prefix)) {
          this.values.delete(k);
          out.push({ type: "delete", key: k, previous: v, action: ev.action, index });
        }
      }
      return out;
    }
    if (ev.node.dir || rel === "") {
      // A file replaced by a directory (set dir=true over it).
      const was = this.values.get(rel);
      if (was !== undefined) {
        this.values.delete(rel);
        out.push({ type: "delete", key: rel, previous: was, action: ev.action, index });
      }
      return out;
    }
    const prev = this.values.get(rel);
    const value = ev.node.value ?? "";
    this.values.set(rel, value);
    out.push({ type: "put", key: rel, value, ...(prev !== undefined ? { previous: prev } : {}), action: ev.action, index });
    return out;
  }

  private async follow(): Promise<void> {
    try {
      for await (const ev of resilientWatch(this.client, this.dir, { recursive: true, afterIndex: this.index, signal: this.ctl.signal })) {
        const changes = this.apply(ev);
        this.index = ev.action === "resync" ? ev.etcdIndex : ev.node.modifiedIndex;
        this.emit(changes);
      }
    } catch (e) {
      if (!this.closed) this.error = e;
    } finally {
      this.close();
    }
  }
}
