// A Runtime for in-process tests of the member: a MemoryFileSystem (crash it, fail it, count
// its syncs), a clock the test moves by hand with timers that fire from that clock, seeded
// randomness, and a logger that records every line. No network: serve, fetch and resolveSrv
// throw.
//
//   const rt = new MemoryRuntime({ seed: 7 });
//   const m = await Member.open(rt, config);
//   await rt.advance(1500);            // fires due timers in order, letting async work settle
//   const rt2 = rt.restart(rt.disk.crash());  // same clock, the post-crash disk
import { MemoryFileSystem } from "../../core/fs/memory.ts";
import type {
  AppendHandle,
  FileSystem,
  Handler,
  Listener,
  LogLevel,
  Logger,
  Runtime,
  ServeOptions,
  SrvRecord,
} from "../../core/runtime.ts";
import { seededRandom } from "./random.ts";

export { seededRandom };

export interface LogLine {
  level: LogLevel;
  msg: string;
  fields?: Record<string, unknown>;
}

/** A logger that keeps every line (and echoes them when MEMORY_RT_LOG is set). */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  private readonly echo = typeof process !== "undefined" && !!process.env?.MEMORY_RT_LOG;

  private add(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    this.lines.push(fields ? { level, msg, fields } : { level, msg });
    if (this.echo) console.log(`[${level}] ${msg}${fields ? " " + JSON.stringify(fields) : ""}`);
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.add("debug", msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.add("info", msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.add("warn", msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.add("error", msg, fields); }

  /** Lines at this level whose message matches. */
  find(level: LogLevel, pattern: RegExp | string): LogLine[] {
    return this.lines.filter((l) => l.level === level && (typeof pattern === "string" ? l.msg.includes(pattern) : pattern.test(l.msg)));
  }

  /** Every line as "level: msg", for failure messages. */
  dump(): string {
    return this.lines.map((l) => `${l.level}: ${l.msg}`).join("\n");
  }
}

/**
 * Delegates to a MemoryFileSystem; while syncs are held, every AppendHandle.sync() waits
 * (after its bytes were appended) until releaseSyncs(). Lets a test crash between an append
 * and its sync, or pile up proposals while a save is in flight.
 */
export class HoldableFileSystem implements FileSystem {
  private holding = false;
  private held: (() => void)[] = [];
  private heldWaiters: (() => void)[] = [];

  constructor(readonly disk: MemoryFileSystem) {}

  /** From now on, syncs wait until releaseSyncs(). */
  holdSyncs(): void {
    this.holding = true;
  }

  /** Let every waiting sync (and later ones) through. */
  releaseSyncs(): void {
    this.holding = false;
    for (const go of this.held.splice(0)) go();
  }

  /** How many syncs are waiting right now. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Resolves once at least one sync is waiting at the gate. */
  syncHeld(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.heldWaiters.push(resolve));
  }

  private async gate(): Promise<void> {
    if (!this.holding) return;
    await new Promise<void>((resolve) => {
      this.held.push(resolve);
      for (const w of this.heldWaiters.splice(0)) w();
    });
  }

  mkdir(p: string): Promise<void> { return this.disk.mkdir(p); }
  list(p: string): Promise<string[]> { return this.disk.list(p); }
  exists(p: string): Promise<boolean> { return this.disk.exists(p); }
  size(p: string): Promise<number> { return this.disk.size(p); }
  readFile(p: string): Promise<Uint8Array> { return this.disk.readFile(p); }
  writeFile(p: string, d: Uint8Array): Promise<void> { return this.disk.writeFile(p, d); }
  truncate(p: string, n: number): Promise<void> { return this.disk.truncate(p, n); }
  rename(a: string, b: string): Promise<void> { return this.disk.rename(a, b); }
  remove(p: string): Promise<void> { return this.disk.remove(p); }
  syncDir(p: string): Promise<void> { return this.disk.syncDir(p); }

  async openAppend(p: string): Promise<AppendHandle> {
    const h = await this.disk.openAppend(p);
    return {
      append: (d) => h.append(d),
      sync: async () => {
        await this.gate();
        await h.sync();
      },
      close: () => h.close(),
    };
  }
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface MemoryRuntimeOptions {
  /** The disk; default a fresh MemoryFileSystem. */
  disk?: MemoryFileSystem;
  /** Seed of random(); default 1. */
  seed?: number;
  /** Wall clock at start, ms since the epoch; default 2026-01-01T00:00:00Z. */
  wallStart?: number;
  /** Monotonic clock at start; default 0. */
  monoStart?: number;
}


/** Lets every promise chain that is ready to run finish (one macrotask turn drains them). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export class MemoryRuntime implements Runtime {
  readonly name = "memory" as const;
  readonly disk: MemoryFileSystem;
  readonly fs: HoldableFileSystem;
  readonly log = new RecordingLogger();
  readonly seed: number;
  private mono: number;
  /** wall = mono + wallOffset; jumpWall() moves it. */
  private wallOffset: number;
  private timers: Timer[] = [];
  private seq = 0;
  private readonly rand: () => number;

  constructor(opts: MemoryRuntimeOptions = {}) {
    this.disk = opts.disk ?? new MemoryFileSystem();
    this.fs = new HoldableFileSystem(this.disk);
    this.seed = opts.seed ?? 1;
    this.rand = seededRandom(this.seed);
    this.mono = opts.monoStart ?? 0;
    this.wallOffset = (opts.wallStart ?? Date.UTC(2026, 0, 1)) - this.mono;
  }

  /** A runtime for the same machine after a restart: this clock, another disk (e.g. a crash() copy). */
  restart(disk: MemoryFileSystem, seed = this.seed + 1): MemoryRuntime {
    return new MemoryRuntime({ disk, seed, wallStart: this.now(), monoStart: this.mono });
  }

  now(): number {
    return this.mono + this.wallOffset;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const t: Timer = { at: this.mono + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return () => {
      t.cancelled = true;
    };
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Move both clocks forward by ms, firing every timer that falls due, in time order (the
   * clock reads each timer's time while it runs), and letting the async work each one
   * starts settle before the next. Timers set meanwhile fire too if they fall due.
   */
  async advance(ms: number): Promise<void> {
    const target = this.mono + ms;
    await settle();
    for (let fired = 0; ; fired++) {
      if (fired > 100_000) throw new Error("MemoryRuntime.advance: more than 100000 timers fired; a timer loop?");
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: Timer | null = null;
      for (const t of this.timers) if (t.at <= target && (next === null || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (next === null) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.mono = Math.max(this.mono, next.at);
      next.fn();
      await settle();
    }
    this.mono = target;
    await settle();
  }

  /** Step the wall clock only (an NTP jump); timers follow the monotonic clock. */
  jumpWall(ms: number): void {
    this.wallOffset += ms;
  }

  random(): number {
    return this.rand();
  }

  serve(_opts: ServeOptions, _handler: Handler): Promise<Listener> {
    throw new Error("MemoryRuntime: serve() is not available in memory");
  }

  fetch(_req: Request): Promise<Response> {
    return Promise.reject(new Error("MemoryRuntime: fetch() is not available in memory"));
  }

  resolveSrv(_name: string): Promise<SrvRecord[]> {
    return Promise.reject(new Error("MemoryRuntime: resolveSrv() is not available in memory"));
  }
}
