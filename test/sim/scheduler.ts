// Virtual time for the simulator: one event queue ordered by (time, sequence), a seeded PRNG,
// and a trace whose running hash identifies a run bit for bit.
//
// The run loop takes the next event, moves the clock to its time, runs it, and then lets every
// promise microtask that became ready run to completion before the next event (one macrotask
// turn: setImmediate). The members' async code (the Ready loop over the MemoryFileSystem, the
// Hono app, Web streams) resolves entirely within microtasks, so the same seed gives the same
// interleaving every time. Anything that would resolve from outside (a real timer, the thread
// pool) is made synchronous by env.ts.
//
//   const s = new Scheduler(42);
//   s.after(100, () => { ... }, "tick");
//   await s.run({ until: 60_000 });
import { seededRandom } from "../support/random.ts";

/** A seeded generator with the usual helpers. */
export class Rng {
  private readonly next01: () => number;

  constructor(readonly seed: number) {
    this.next01 = seededRandom(seed >>> 0);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.next01();
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next01() * (hi - lo + 1));
  }

  /** Uniform float in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + this.next01() * (hi - lo);
  }

  chance(p: number): boolean {
    return p > 0 && this.next01() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: empty list");
    return items[Math.floor(this.next01() * items.length)]!;
  }

  /** Picks by weight; weights need not sum to 1. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((a, [, w]) => a + Math.max(0, w), 0);
    let x = this.next01() * total;
    for (const [v, w] of items) {
      x -= Math.max(0, w);
      if (x < 0) return v;
    }
    return items[items.length - 1]![0];
  }

  shuffle<T>(items: readonly T[]): T[] {
    const a = [...items];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next01() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  /** Exponentially distributed with this mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next01()) * mean;
  }

  /** An independent generator derived from this one's seed and a label (stable across code changes elsewhere). */
  fork(label: string): Rng {
    return new Rng(hash32(`${this.seed}/${label}`));
  }
}

/** FNV-1a over a string's UTF-16 code units. */
export function hash32(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** FNV-1a over bytes. */
export function hashBytes(b: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Formats virtual milliseconds as seconds with millisecond precision: "12.345s". */
export function fmtTime(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

export interface TraceLine {
  time: number;
  text: string;
}

/**
 * What happened, as lines ("12.345s n1 raft: elected leader ..."): the last `keep` lines are
 * kept for printing around a violation; every line and every event feeds a running hash.
 */
export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x12345678;
  private readonly ring: TraceLine[] = [];
  private start = 0;
  lines = 0;
  /** Print each line as it is added. */
  echo = false;
  /** Keep every line (for --trace full). */
  keepAll = false;
  readonly all: TraceLine[] = [];

  constructor(private readonly keep = 4000) {}

  private mix(s: string): void {
    this.h1 = hash32(s, this.h1);
    this.h2 = hash32(s, Math.imul(this.h2 ^ 0x9e3779b9, 0x85ebca6b) >>> 0);
  }

  /** Feeds the hash without keeping a line (cheap: for every scheduler event). */
  mark(time: number, label: string): void {
    this.mix(`${time}|${label}`);
  }

  add(time: number, text: string): void {
    this.mix(`${time}|${text}`);
    this.lines++;
    const line = { time, text };
    if (this.keepAll) this.all.push(line);
    if (this.ring.length < this.keep) this.ring.push(line);
    else {
      this.ring[this.start] = line;
      this.start = (this.start + 1) % this.keep;
    }
    if (this.echo) console.log(`${fmtTime(time)} ${text}`);
  }

  /** The kept lines, oldest first. */
  tail(): TraceLine[] {
    return [...this.ring.slice(this.start), ...this.ring.slice(0, this.start)];
  }

  /** Kept lines with from <= time <= to. */
  window(from: number, to: number): TraceLine[] {
    return (this.keepAll ? this.all : this.tail()).filter((l) => l.time >= from && l.time <= to);
  }

  digest(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, "0") + (this.h2 >>> 0).toString(16).padStart(8, "0");
  }
}

/** A scheduled event; cancel() is idempotent. */
export interface Timer {
  readonly time: number;
  cancel(): void;
}

interface Ev {
  time: number;
  seq: number;
  fn: () => void;
  label: string;
  cancelled: boolean;
}

/** Lets every ready promise continuation run (one macrotask turn drains the microtask queue). */
export const drainMicrotasks: () => Promise<void> =
  typeof setImmediate === "function" ? () => new Promise<void>((r) => setImmediate(r)) : () => new Promise<void>((r) => setTimeout(r, 0));

export interface RunOptions {
  /** Stop before the first event later than this virtual time (the clock then reads `until`). */
  until: number;
  /** Checked after every event (after microtasks settled): true stops the run. */
  stop?: () => boolean;
  /** Called after every event, once microtasks settled (invariant checks). */
  afterEvent?: () => void;
}

export class Scheduler {
  /** Virtual time in milliseconds. */
  now = 0;
  readonly rng: Rng;
  readonly trace: Trace;
  /** Events run so far. */
  events = 0;
  /** Exceptions thrown by event handlers (a bug in whatever the event called). */
  readonly errors: { time: number; label: string; error: unknown }[] = [];
  private heap: Ev[] = [];
  private seq = 0;
  private running = false;

  constructor(seed: number, trace = new Trace()) {
    this.rng = new Rng(seed);
    this.trace = trace;
  }

  /** Runs fn at virtual time `time` (not earlier than now). */
  at(time: number, fn: () => void, label = ""): Timer {
    const ev: Ev = { time: Math.max(time, this.now), seq: this.seq++, fn, label, cancelled: false };
    this.push(ev);
    return {
      time: ev.time,
      cancel: () => {
        ev.cancelled = true;
      },
    };
  }

  after(ms: number, fn: () => void, label = ""): Timer {
    return this.at(this.now + Math.max(0, ms), fn, label);
  }

  /** Events waiting (cancelled ones included until they come up). */
  get pending(): number {
    return this.heap.length;
  }

  /** A line in the trace at the current time. */
  log(text: string): void {
    this.trace.add(this.now, text);
  }

  /**
   * Runs events in time order until `until`, a stop request, or an empty queue. Microtasks
   * are drained before the first event and after each one.
   */
  async run(opts: RunOptions): Promise<"until" | "stopped" | "idle"> {
    if (this.running) throw new Error("Scheduler.run: already running");
    this.running = true;
    try {
      await drainMicrotasks();
      for (;;) {
        const ev = this.peek();
        if (ev === undefined) {
          if (Number.isFinite(opts.until)) this.now = Math.max(this.now, opts.until);
          return "idle";
        }
        if (ev.time > opts.until) {
          this.now = Math.max(this.now, opts.until);
          return "until";
        }
        this.pop();
        if (ev.cancelled) continue;
        this.now = ev.time;
        this.events++;
        this.trace.mark(ev.time, ev.label);
        try {
          ev.fn();
        } catch (error) {
          this.errors.push({ time: this.now, label: ev.label, error });
          this.log(`!! event ${ev.label || "(unlabelled)"} threw: ${(error as Error)?.stack ?? error}`);
        }
        await drainMicrotasks();
        opts.afterEvent?.();
        if (opts.stop?.()) return "stopped";
      }
    } finally {
      this.running = false;
    }
  }

  /** Drops every pending event (end of a run: nothing keeps a reference to the members). */
  clear(): void {
    for (const ev of this.heap) ev.cancelled = true;
    this.heap = [];
  }

  // ---- binary heap on (time, seq)

  private less(a: Ev, b: Ev): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(ev: Ev): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private peek(): Ev | undefined {
    // Cancelled events at the top are discarded lazily.
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  private pop(): Ev | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
