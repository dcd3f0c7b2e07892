// The simulated network between members: every send becomes a delivery event on the
// scheduler after a random delay (so messages reorder), unless the link is cut or the message
// is dropped; some messages arrive twice. Links are directed: a partition may be symmetric,
// one-way, or any pattern of partial connectivity (nemesis.ts builds "swizzle" and bridge
// patterns from cut/heal). A cut applies to messages already in flight too (they are checked
// again when they arrive), and a message only reaches the process incarnation it was sent to.
//
// Endpoints are keyed by member ID (what Raft messages carry); names are for the trace.
import type { Rng, Scheduler } from "./scheduler.ts";
import type { SimRuntime } from "./runtime.ts";

export interface NetConfig {
  /** One-way delay, ms: uniform in [minDelay, maxDelay], sometimes up to tailMax (tailChance). */
  minDelay: number;
  maxDelay: number;
  tailChance: number;
  tailMax: number;
  /** Probability that a message is lost / delivered twice. */
  drop: number;
  dup: number;
  /** Transfer rate for large payloads (snapshots), bytes per ms. */
  bytesPerMs: number;
}

export const DEFAULT_NET: NetConfig = {
  minDelay: 0.2,
  maxDelay: 3,
  tailChance: 0.01,
  tailMax: 60,
  drop: 0.005,
  dup: 0.005,
  bytesPerMs: 100_000,
};

/** A process that can receive: the current incarnation registered for an ID. */
export interface Endpoint {
  readonly rt: SimRuntime;
}

export type LossReason = "cut" | "down" | "drop" | "cut-in-flight";

export interface SendOptions {
  /** Payload bytes (adds transfer time). */
  size?: number;
  /** Trace label of the message ("MsgApp 5→7"). */
  label: string;
  /** Never duplicated (snapshots, notices). */
  noDup?: boolean;
  /** Never randomly dropped (notices whose loss other code handles by timeout anyway). */
  noDrop?: boolean;
  /** Called in the sender's process when the message is known lost, `afterMs` from now. */
  lost?: (why: LossReason) => void;
}

export interface NetStats {
  sent: number;
  delivered: number;
  dropped: number;
  cut: number;
  duplicated: number;
  /** Snapshot messages sent (MsgSnap). */
  snapshots: number;
}

export class Network {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly names = new Map<string, string>();
  /** Directed cut links "from>to". */
  private readonly blocked = new Set<string>();
  readonly stats: NetStats = { sent: 0, delivered: 0, dropped: 0, cut: 0, duplicated: 0, snapshots: 0 };
  /** Trace every message (verbose). */
  traceMessages = false;

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: Rng,
    public cfg: NetConfig = DEFAULT_NET,
  ) {}

  // ---- endpoints

  register(id: string, name: string, ep: Endpoint): void {
    this.endpoints.set(id, ep);
    this.names.set(id, name);
  }

  unregister(id: string, ep: Endpoint): void {
    if (this.endpoints.get(id) === ep) this.endpoints.delete(id);
  }

  name(id: string): string {
    return this.names.get(id) ?? id;
  }

  endpoint(id: string): Endpoint | undefined {
    return this.endpoints.get(id);
  }

  // ---- links

  connected(from: string, to: string): boolean {
    return !this.blocked.has(`${from}>${to}`);
  }

  cut(from: string, to: string, oneWay = false): void {
    this.blocked.add(`${from}>${to}`);
    if (!oneWay) this.blocked.add(`${to}>${from}`);
  }

  heal(from: string, to: string, oneWay = false): void {
    this.blocked.delete(`${from}>${to}`);
    if (!oneWay) this.blocked.delete(`${to}>${from}`);
  }

  healAll(): void {
    this.blocked.clear();
  }

  /** Cuts `id` off from every other ID in `all`. */
  isolate(id: string, all: readonly string[]): void {
    for (const o of all) if (o !== id) this.cut(id, o);
  }

  /** Only members of the same group talk (IDs in no group are cut off from everyone). */
  split(groups: readonly (readonly string[])[], all: readonly string[]): void {
    this.blocked.clear();
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    for (const a of all) for (const b of all) {
      if (a === b) continue;
      const ga = groupOf.get(a);
      if (ga === undefined || ga !== groupOf.get(b)) this.blocked.add(`${a}>${b}`);
    }
  }

  /** The cut links, as "n1>n2" names, for the trace. */
  describe(): string {
    if (this.blocked.size === 0) return "fully connected";
    return [...this.blocked].map((l) => l.split(">").map((id) => this.name(id)).join("↛")).sort().join(" ");
  }

  // ---- sending

  private delay(size: number): number {
    const c = this.cfg;
    let d = this.rng.chance(c.tailChance) ? this.rng.range(c.maxDelay, c.tailMax) : this.rng.range(c.minDelay, c.maxDelay);
    if (size > 0 && c.bytesPerMs > 0) d += size / c.bytesPerMs;
    return d;
  }

  /**
   * Sends from `from` (a live process) to whatever process is registered for `to` now.
   * `deliver` runs in the receiver's process when the message arrives, with the endpoint.
   */
  send(from: string, to: string, deliver: (ep: Endpoint) => void, opts: SendOptions): void {
    this.stats.sent++;
    const sender = this.endpoints.get(from);
    const target = this.endpoints.get(to);
    const lose = (why: LossReason, afterMs: number): void => {
      if (why === "drop") this.stats.dropped++;
      else this.stats.cut++;
      if (this.traceMessages) this.sched.log(`net ${this.name(from)}→${this.name(to)} ${opts.label} lost (${why})`);
      const lost = opts.lost;
      if (lost && sender) sender.rt.setTimer(afterMs, () => lost(why));
    };
    if (target === undefined || !target.rt.isAlive) return lose("down", this.rng.range(1, 20));
    if (!this.connected(from, to)) return lose("cut", this.rng.range(1, 50));
    if (!opts.noDrop && this.rng.chance(this.cfg.drop)) return lose("drop", 1000);
    const copies = !opts.noDup && this.rng.chance(this.cfg.dup) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const d = this.delay(opts.size ?? 0);
      this.sched.after(d, () => {
        if (this.endpoints.get(to) !== target || !target.rt.isAlive) return lose("down", 0);
        if (!this.connected(from, to)) return lose("cut-in-flight", 0);
        this.stats.delivered++;
        if (this.traceMessages) this.sched.log(`net ${this.name(from)}→${this.name(to)} ${opts.label}`);
        target.rt.runTask(() => deliver(target));
      }, "net");
    }
  }
}
