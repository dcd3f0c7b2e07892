// Simulated clients: each issues v2 operations one at a time through a member's Hono app
// (`app.fetch(new Request(...))`), with network delay both ways and a virtual-time timeout,
// and records the history in the checker's format (test/check/history.ts): invoke and
// complete times, outcome ok / error / unknown. Watchers open streaming and one-shot watches
// and record what they receive (test/check/watch.ts's WatchRecord).
//
// A request that cannot reach its member (the process is down) is left out of the history: it
// certainly did nothing. A request whose answer is lost (timeout, the member died before
// answering) is unknown.
import { describeOperation, resultFromResponse, type NodeObs, type Operation, type V2Op, type V2Result } from "../check/history.ts";
import type { ReceivedEvent, WatchRecord } from "../check/watch.ts";
import type { SimCluster, Slot } from "./cluster.ts";
import type { Rng, Scheduler } from "./scheduler.ts";

export interface WorkloadOptions {
  clients: number;
  /** File keys /k0 ... */
  keys: number;
  /** Pause between a client's operations, ms. */
  thinkMin: number;
  thinkMax: number;
  /** Client timeout, ms. */
  timeoutMin: number;
  timeoutMax: number;
  /** Chance that a write carries a TTL (1-3 s). */
  ttlChance: number;
  /** Chance of an in-order create (POST /q). */
  inOrderChance: number;
  /** Concurrent watchers. */
  watchers: number;
  /** Client<->member one-way delay, ms. */
  netMin: number;
  netMax: number;
  /**
   * The `member` recorded for non-quorum reads (whose view must never go back): the machine
   * (default: a restarted member serves clients only once it has published itself, as etcd)
   * or the process (weaker: a restarted member may answer from an older state).
   */
  readViewPer?: "machine" | "process";
  /** Big values (bytes) now and then, to make large entries and snapshots. */
  bigValueChance: number;
  bigValueBytes: number;
}

export interface WatchState {
  record: WatchRecord & { events: ReceivedEvent[] };
  slot: Slot;
  incarnation: number;
  /** Still receiving. */
  active: boolean;
  /** Ended by a snapshot install on its member (events after that are not checked). */
  cut: boolean;
  abort: AbortController;
}

interface ClientState {
  id: number;
  slot: Slot | null;
  seq: number;
  /** Last node seen per key (for CAS/CAD conditions). */
  seen: Map<string, NodeObs>;
}

export interface WorkloadCounters {
  invoked: number;
  ok: number;
  failed: number;
  unknown: number;
  refused: number;
  watches: number;
  watchEvents: number;
}

export class Workload {
  private readonly ops: Operation[] = [];
  private readonly discarded = new Set<number>();
  readonly watches: WatchState[] = [];
  private running = false;
  private readonly clients: ClientState[] = [];
  readonly counters: WorkloadCounters = { invoked: 0, ok: 0, failed: 0, unknown: 0, refused: 0, watches: 0, watchEvents: 0 };
  /** Highest etcd index any response showed (for watch waitIndex choices). */
  private maxIndex = 0;
  traceOps = true;

  constructor(
    private readonly sched: Scheduler,
    private readonly cluster: SimCluster,
    private readonly rng: Rng,
    readonly opts: WorkloadOptions,
  ) {}

  start(): void {
    this.running = true;
    for (let i = 0; i < this.opts.clients; i++) {
      const c: ClientState = { id: i, slot: null, seq: 0, seen: new Map() };
      this.clients.push(c);
      this.sched.after(this.rng.range(0, 200), () => this.issue(c), "client");
    }
    for (let i = 0; i < this.opts.watchers; i++) this.sched.after(this.rng.range(0, 2000), () => this.openWatch(i), "watch");
  }

  /** No new operations or watches; those in flight finish or time out. */
  stop(): void {
    this.running = false;
  }

  /** The history (operations that reached a member). */
  history(): Operation[] {
    return this.ops.filter((_, i) => !this.discarded.has(i));
  }

  private key(): string {
    return `/k${this.rng.int(0, this.opts.keys - 1)}`;
  }

  private pickSlot(c: ClientState): Slot | null {
    if (c.slot && c.slot.live && !this.rng.chance(0.1)) return c.slot;
    const live = this.cluster.live();
    c.slot = live.length > 0 ? this.rng.pick(live) : null;
    return c.slot;
  }

  private value(c: ClientState): string {
    const v = `c${c.id}.${c.seq++}`;
    if (this.rng.chance(this.opts.bigValueChance)) return v + "." + "x".repeat(this.opts.bigValueBytes);
    return v;
  }

  private ttl(): number | undefined {
    return this.rng.chance(this.opts.ttlChance) ? this.rng.int(1, 3) : undefined;
  }

  /** A random operation and its HTTP request. */
  private makeOp(c: ClientState, base: string): { op: V2Op; req: Request } {
    const r = this.rng;
    const form = (f: Record<string, string | number | undefined>): string =>
      Object.entries(f).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join("&");
    const put = (key: string, f: Record<string, string | number | undefined>): Request =>
      new Request(`${base}/v2/keys${key}`, { method: "PUT", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form(f) });
    if (r.chance(this.opts.inOrderChance)) {
      const value = this.value(c);
      const ttl = this.ttl();
      const op: V2Op = ttl === undefined ? { type: "createInOrder", dir: "/q", value } : { type: "createInOrder", dir: "/q", value, ttl };
      return { op, req: new Request(`${base}/v2/keys/q`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form({ value, ttl }) }) };
    }
    const key = this.key();
    const seen = c.seen.get(key);
    const kind = r.weighted<string>([["get", 30], ["set", 20], ["create", 8], ["update", 6], ["cas", 16], ["delete", 6], ["cad", 8]]);
    switch (kind) {
      case "get": {
        const quorum = r.chance(0.7);
        return { op: { type: "get", key, quorum }, req: new Request(`${base}/v2/keys${key}${quorum ? "?quorum=true" : ""}`) };
      }
      case "set":
      case "create":
      case "update": {
        const value = this.value(c);
        const ttl = this.ttl();
        const prevExist = kind === "create" ? "false" : kind === "update" ? "true" : undefined;
        const op = { type: kind, key, value, ...(ttl === undefined ? {} : { ttl }) } as V2Op;
        return { op, req: put(key, { value, ttl, prevExist }) };
      }
      case "cas": {
        const value = this.value(c);
        const ttl = this.ttl();
        const mode = r.int(0, 2);
        const prevValue = mode !== 1 ? (seen?.value ?? `c${r.int(0, this.opts.clients - 1)}.${r.int(0, 5)}`) : undefined;
        const prevIndex = mode !== 0 ? (seen?.modifiedIndex ?? r.int(1, 50)) : undefined;
        const op: V2Op = { type: "compareAndSwap", key, value };
        if (prevValue !== undefined) op.prevValue = prevValue;
        if (prevIndex !== undefined) op.prevIndex = prevIndex;
        if (ttl !== undefined) op.ttl = ttl;
        return { op, req: put(key, { value, ttl, prevValue, prevIndex }) };
      }
      case "delete":
        return { op: { type: "delete", key }, req: new Request(`${base}/v2/keys${key}`, { method: "DELETE" }) };
      default: {
        const mode = r.int(0, 2);
        const prevValue = mode !== 1 ? (seen?.value ?? `c${r.int(0, this.opts.clients - 1)}.${r.int(0, 5)}`) : undefined;
        const prevIndex = mode !== 0 ? (seen?.modifiedIndex ?? r.int(1, 50)) : undefined;
        const op: V2Op = { type: "compareAndDelete", key };
        if (prevValue !== undefined) op.prevValue = prevValue;
        if (prevIndex !== undefined) op.prevIndex = prevIndex;
        return { op, req: new Request(`${base}/v2/keys${key}?${form({ prevValue, prevIndex })}`, { method: "DELETE" }) };
      }
    }
  }

  private next(c: ClientState): void {
    if (!this.running) return;
    this.sched.after(this.rng.range(this.opts.thinkMin, this.opts.thinkMax), () => this.issue(c), "client");
  }

  private issue(c: ClientState): void {
    if (!this.running) return;
    const slot = this.pickSlot(c);
    if (slot === null) return this.next(c);
    const { op, req } = this.makeOp(c, slot.clientURL);
    const index = this.ops.length;
    const member = this.opts.readViewPer === "process" ? `${slot.name}#${slot.incarnation}` : slot.name;
    const o: Operation = { id: index, client: c.id, member, invoke: this.sched.now, complete: null, op, result: { type: "unknown" } };
    this.ops.push(o);
    this.counters.invoked++;
    let done = false;
    const finish = (result: V2Result | null): void => {
      if (done) return;
      done = true;
      timeout.cancel();
      if (result === null) {
        this.counters.unknown++;
      } else {
        o.result = result;
        o.complete = result.type === "unknown" ? null : this.sched.now;
        if (result.type === "ok") this.counters.ok++;
        else if (result.type === "error") this.counters.failed++;
        else this.counters.unknown++;
        this.learn(c, op, result);
      }
      if (this.traceOps) this.sched.log(`client ${describeOperation(o)}`);
      this.next(c);
    };
    const timeout = this.sched.after(this.rng.range(this.opts.timeoutMin, this.opts.timeoutMax), () => finish(null), "client-timeout");
    const inc = slot.incarnation;
    this.sched.after(this.rng.range(this.opts.netMin, this.opts.netMax), () => {
      const app = slot.app;
      const rt = slot.rt;
      if (slot.state !== "up" || app === null || rt === null || slot.incarnation !== inc) {
        // Connection refused: nothing happened.
        if (done) return;
        done = true;
        timeout.cancel();
        this.discarded.add(index);
        this.counters.refused++;
        this.next(c);
        return;
      }
      rt.runTask(() => {
        Promise.resolve(app.fetch(req))
          .then(async (res) => {
            const body = await res.text();
            if (!rt.isAlive) return; // the process died before the answer left
            const result = parseAnswer(res.status, res.headers, body);
            this.sched.after(this.rng.range(this.opts.netMin, this.opts.netMax), () => finish(result), "client-answer");
          })
          .catch(() => {});
      });
    }, "client-send");
  }

  /** Remembers what an answer showed, for later conditions. */
  private learn(c: ClientState, op: V2Op, r: V2Result): void {
    if (r.type === "ok") {
      if (r.etcdIndex !== undefined) this.maxIndex = Math.max(this.maxIndex, r.etcdIndex);
      if (r.node) this.maxIndex = Math.max(this.maxIndex, r.node.modifiedIndex);
      if (op.type === "createInOrder") return;
      if (op.type === "delete" || op.type === "compareAndDelete") c.seen.delete(op.key);
      else if (r.node && r.node.value !== undefined) c.seen.set(op.key, r.node);
    } else if (r.type === "error" && r.index !== undefined) {
      this.maxIndex = Math.max(this.maxIndex, r.index);
    }
  }

  // ---- watches

  private openWatch(w: number): void {
    if (!this.running) return;
    const live = this.cluster.live();
    if (live.length === 0) {
      this.sched.after(500, () => this.openWatch(w), "watch");
      return;
    }
    const slot = this.rng.pick(live);
    const r = this.rng;
    const recursive = r.chance(0.4);
    const path = recursive ? "/" : `/k${r.int(0, this.opts.keys - 1)}`;
    const stream = r.chance(0.8);
    // Sometimes from a recent past index (served from the history), else from now.
    const waitIndex = this.maxIndex > 5 && r.chance(0.3) ? Math.max(1, this.maxIndex - r.int(0, 20)) : 0;
    const q = [`wait=true`, stream ? "stream=true" : "", recursive ? "recursive=true" : "", waitIndex ? `waitIndex=${waitIndex}` : ""].filter((x) => x).join("&");
    const abort = new AbortController();
    const url = `${slot.clientURL}/v2/keys${path === "/" ? "" : path}?${q}`;
    const rt = slot.rt!;
    const app = slot.app!;
    const inc = slot.incarnation;
    const lifetime = r.range(1000, 15000);
    rt.runTask(() => {
      Promise.resolve(app.fetch(new Request(url, { signal: abort.signal })))
        .then((res) => this.readWatch(w, slot, inc, res, { path, recursive, stream, waitIndex, abort, lifetime }))
        .catch(() => {});
    });
  }

  private async readWatch(
    w: number,
    slot: Slot,
    inc: number,
    res: Response,
    p: { path: string; recursive: boolean; stream: boolean; waitIndex: number; abort: AbortController; lifetime: number },
  ): Promise<void> {
    if (res.status !== 200 || res.body === null) {
      // 401 (index cleared) and the like: not a watch to check.
      await res.text().catch(() => "");
      this.sched.after(this.rng.range(100, 1000), () => this.openWatch(w), "watch");
      return;
    }
    const registeredAt = Number(res.headers.get("X-Etcd-Index") ?? "0");
    const start = p.waitIndex > 0 ? p.waitIndex : registeredAt + 1;
    const state: WatchState = {
      record: { id: `w${this.watches.length}@${slot.name}`, path: p.path, recursive: p.recursive, stream: p.stream, start, registeredAt, events: [] },
      slot,
      incarnation: inc,
      active: true,
      cut: false,
      abort: p.abort,
    };
    this.watches.push(state);
    this.counters.watches++;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    const end = (): void => {
      if (!state.active) return;
      state.active = false;
      p.abort.abort();
      reader.cancel().catch(() => {});
      this.sched.after(this.rng.range(100, 1000), () => this.openWatch(w), "watch");
    };
    this.sched.after(p.lifetime, end, "watch-end");
    for (;;) {
      let chunk: { done: boolean; value?: Uint8Array };
      try {
        chunk = await reader.read();
      } catch {
        break;
      }
      if (chunk.done || !state.active || state.cut) break;
      buf += decoder.decode(chunk.value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === "") continue;
        try {
          const ev = JSON.parse(line) as { action: string; node: { key: string; modifiedIndex: number } };
          state.record.events.push({ index: ev.node.modifiedIndex, key: ev.node.key, action: ev.action });
          this.counters.watchEvents++;
        } catch {
          // A line that is not an event (an error body): stop here.
        }
      }
    }
    end();
  }

  /** A member installed a snapshot: its watches may skip events from here on (etcd does too). */
  snapshotInstalled(slot: Slot): void {
    for (const w of this.watches) {
      if (w.slot === slot && w.incarnation === slot.incarnation && w.active) {
        w.cut = true;
        w.active = false;
        w.abort.abort();
      }
    }
  }

  /** Watches whose member is gone stop (their stream will never say more). */
  processGone(slot: Slot, incarnation: number): void {
    for (const w of this.watches) if (w.slot === slot && w.incarnation === incarnation && w.active) w.active = false;
  }
}

function parseAnswer(status: number, headers: Headers, body: string): V2Result {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { type: "unknown" };
  }
  const idx = headers.get("X-Etcd-Index");
  const etcdIndex = idx === null ? undefined : Number(idx);
  const r = resultFromResponse(json, etcdIndex);
  // A 5xx without an etcd error body says nothing about the outcome.
  if (r.type === "ok" && status >= 300) return { type: "unknown" };
  return r;
}
