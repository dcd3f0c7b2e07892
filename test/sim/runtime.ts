// The Runtime of one simulated member process: clocks and timers from the scheduler (with
// this machine's clock skew, drift and jumps), seeded randomness, its disk, and a logger that
// writes into the trace. There is no network here: members talk through SimTransport
// (sim-transport.ts) and clients call the Hono app directly, so serve, fetch and resolveSrv fail.
//
// A process can be killed (its timers and pending disk operations never fire again: every
// promise it waits on stays pending forever, as if the process vanished) and paused (its
// timers, disk completions and incoming messages wait until it resumes, like SIGSTOP).
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
import { Rng, type Scheduler, type Timer } from "./scheduler.ts";

/** Wall clock of the simulated world at virtual time 0: 2026-01-01T00:00:00Z. */
export const EPOCH = Date.UTC(2026, 0, 1);

/**
 * One machine's clocks. Virtual time t (ms) reads as wall = EPOCH + t·(1+drift) + offset and
 * monotonic = base + t·(1+drift); timers set for ms fire after ms/(1+drift) of virtual time.
 * jump() moves the wall clock only (an NTP step); the machine keeps its clock across restarts.
 */
export class SimClock {
  offset: number;
  constructor(
    readonly drift = 0,
    offset = 0,
    readonly monoBase = 0,
  ) {
    this.offset = offset;
  }

  wall(t: number): number {
    return EPOCH + t * (1 + this.drift) + this.offset;
  }

  monotonic(t: number): number {
    return this.monoBase + t * (1 + this.drift);
  }

  /** Virtual duration of `ms` as this machine counts it. */
  virtual(ms: number): number {
    return ms / (1 + this.drift);
  }

  jump(ms: number): void {
    this.offset += ms;
  }
}

export interface DiskLatency {
  /** fsync (AppendHandle.sync, syncDir, writeFile, truncate), ms: uniform in [min, max]. */
  min: number;
  max: number;
  /** Probability that one sync takes `slowMs` instead (a stall). */
  slowChance: number;
  slowMs: number;
}

export const FAST_DISK: DiskLatency = { min: 0, max: 0, slowChance: 0, slowMs: 0 };

type LogListener = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface SimRuntimeOptions {
  /** The member's name (trace prefix). */
  node: string;
  disk: MemoryFileSystem;
  clock: SimClock;
  rng: Rng;
  latency?: DiskLatency;
  /** Lowest level written to the trace (default info). */
  traceLevel?: LogLevel;
}

export class SimRuntime implements Runtime {
  readonly name = "sim" as const;
  readonly node: string;
  /** The power-loss model of this process's disk (crash() it for the next incarnation). */
  readonly disk: MemoryFileSystem;
  readonly fs: FileSystem;
  readonly log: Logger;
  readonly clock: SimClock;
  private readonly rng: Rng;
  private readonly timers = new Set<Timer>();
  private alive = true;
  private paused = false;
  private deferred: (() => void)[] = [];
  private readonly listeners: LogListener[] = [];
  /** Counts of log lines by level. */
  readonly logCounts: Record<LogLevel, number> = { debug: 0, info: 0, warn: 0, error: 0 };

  constructor(
    private readonly sched: Scheduler,
    opts: SimRuntimeOptions,
  ) {
    this.node = opts.node;
    this.disk = opts.disk;
    this.clock = opts.clock;
    this.rng = opts.rng;
    const latency = opts.latency ?? FAST_DISK;
    this.fs = latency.max > 0 || latency.slowChance > 0 ? new SimDisk(this, opts.disk, latency, this.rng.fork("disk")) : opts.disk;
    const min = LEVELS[opts.traceLevel ?? "info"];
    const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
      this.logCounts[level]++;
      if (LEVELS[level] >= min && this.alive) {
        this.sched.log(`${this.node} ${level === "info" ? "" : level + ": "}${msg}${fields ? " " + safeJson(fields) : ""}`);
      }
      for (const l of this.listeners) l(level, msg, fields);
    };
    this.log = { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  now(): number {
    return this.clock.wall(this.sched.now);
  }

  monotonic(): number {
    return this.clock.monotonic(this.sched.now);
  }

  setTimer(ms: number, fn: () => void): () => void {
    if (!this.alive) return () => {};
    const t = this.sched.after(this.clock.virtual(Math.max(0, ms)), () => {
      this.timers.delete(t);
      this.runTask(fn);
    });
    this.timers.add(t);
    return () => {
      t.cancel();
      this.timers.delete(t);
    };
  }

  /** Runs fn as this process: dropped once killed, held while paused. */
  runTask(fn: () => void): void {
    if (!this.alive) return;
    if (this.paused) {
      this.deferred.push(fn);
      return;
    }
    fn();
  }

  random(): number {
    return this.rng.next();
  }

  /** Called on every log line (also those below the trace level). */
  onLog(l: LogListener): void {
    this.listeners.push(l);
  }

  /** The process is gone: no timer, disk completion or message reaches it again. */
  kill(): void {
    this.alive = false;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.deferred = [];
    this.listeners.length = 0;
  }

  pause(): void {
    this.paused = true;
  }

  /** Runs what waited during the pause, in order, then carries on. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.deferred;
    this.deferred = [];
    for (const fn of held) this.runTask(fn);
  }

  serve(_opts: ServeOptions, _handler: Handler): Promise<Listener> {
    throw new Error("SimRuntime: serve() is not used in simulation (peers use SimTransport, clients the app)");
  }

  fetch(_req: Request): Promise<Response> {
    return Promise.reject(new Error("SimRuntime: fetch() is not used in simulation"));
  }

  resolveSrv(_name: string): Promise<SrvRecord[]> {
    return Promise.reject(new Error("SimRuntime: resolveSrv() is not used in simulation"));
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * A MemoryFileSystem whose syncs take virtual time (timers of the owning process): a crash
 * can now fall between an append and its fsync, or during a snapshot's write, as on a real
 * machine. Operations that complete later are performed when they complete.
 */
class SimDisk implements FileSystem {
  constructor(
    private readonly rt: SimRuntime,
    private readonly mem: MemoryFileSystem,
    private readonly latency: DiskLatency,
    private readonly rng: Rng,
  ) {}

  private delay(): Promise<void> {
    const l = this.latency;
    const ms = this.rng.chance(l.slowChance) ? l.slowMs : this.rng.range(l.min, l.max);
    return new Promise<void>((resolve) => this.rt.setTimer(ms, resolve));
  }

  mkdir(p: string): Promise<void> { return this.mem.mkdir(p); }
  list(p: string): Promise<string[]> { return this.mem.list(p); }
  exists(p: string): Promise<boolean> { return this.mem.exists(p); }
  size(p: string): Promise<number> { return this.mem.size(p); }
  readFile(p: string): Promise<Uint8Array> { return this.mem.readFile(p); }
  rename(a: string, b: string): Promise<void> { return this.mem.rename(a, b); }
  remove(p: string): Promise<void> { return this.mem.remove(p); }

  async writeFile(p: string, d: Uint8Array): Promise<void> {
    await this.delay();
    return this.mem.writeFile(p, d);
  }

  async truncate(p: string, n: number): Promise<void> {
    await this.delay();
    return this.mem.truncate(p, n);
  }

  async syncDir(p: string): Promise<void> {
    await this.delay();
    return this.mem.syncDir(p);
  }

  async openAppend(p: string): Promise<AppendHandle> {
    const h = await this.mem.openAppend(p);
    return {
      append: (d) => h.append(d),
      sync: async () => {
        await this.delay();
        await h.sync();
      },
      close: () => h.close(),
    };
  }
}
