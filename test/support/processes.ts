// Launching real member processes for the conformance, differential and fault tests:
// free ports, start a target (real etcd, or our member on Node, Bun or Deno), wait until
// it answers, capture its output, stop it (SIGTERM then SIGKILL), kill -9 it, and restart
// it on the same data directory.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type TargetName = "etcd" | "node" | "bun" | "deno";
export const ALL_TARGETS: readonly TargetName[] = ["node", "bun", "deno", "etcd"];

export function isTargetName(s: string): s is TargetName {
  return (ALL_TARGETS as readonly string[]).includes(s);
}

/** Parse a comma list such as "etcd,node" (the TARGETS variable); default: every target. */
export function parseTargets(spec: string | undefined): TargetName[] {
  if (spec === undefined || spec.trim() === "") return [...ALL_TARGETS];
  const out: TargetName[] = [];
  for (const raw of spec.split(",")) {
    const t = raw.trim();
    if (t === "") continue;
    if (!isTargetName(t)) throw new Error(`unknown target "${t}" (expected one of ${ALL_TARGETS.join(", ")})`);
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

/** The repository root: the nearest ancestor of this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "bin", "etcd-ts.mjs"))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error("cannot find the repository root from " + fileURLToPath(import.meta.url));
}

/** Absolute path of an executable found on PATH, or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

/** The real etcd binary (ETCD_BIN overrides PATH lookup), or null when it is not installed. */
export function etcdBinary(): string | null {
  const env = process.env.ETCD_BIN;
  if (env) return existsSync(env) ? env : null;
  return which("etcd");
}

export function etcdInstalled(): boolean {
  const bin = etcdBinary();
  if (bin === null) return false;
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error("no port"));
        return;
      }
      const port = addr.port;
      srv.close(() => resolve(port));
    });
  });
}

/** Several distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < n && tries < n * 20; tries++) ports.add(await freePort());
  if (ports.size < n) throw new Error(`could not find ${n} free ports`);
  return [...ports];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A fresh temporary directory under os.tmpdir(). */
export function tempDir(prefix = "etcd-ts-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface MemberOptions {
  /** Member name (default n1). */
  name?: string;
  /** Data directory; default: a fresh temp dir that stop() removes. */
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  /**
   * The port in --listen-peer-urls when it differs from the advertised peerPort (e.g. a
   * fault-injecting proxy listens on peerPort and forwards to this one). Default: peerPort.
   */
  listenPeerPort?: number;
  /** Default: `<name>=http://127.0.0.1:<peerPort>` (a single-member cluster). */
  initialCluster?: string;
  initialClusterState?: "new" | "existing";
  initialClusterToken?: string;
  /** More flags, appended after the standard ones. */
  extraArgs?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** How long to wait for the member to answer (ms). Default 60 s. */
  startTimeoutMs?: number;
  /**
   * What "ready" means: "healthy" (default) waits for /health = 200 and a decided cluster
   * version, which a single member reaches on its own; "listening" only waits until the
   * client port answers /version (members of a cluster that is still forming).
   */
  waitFor?: "healthy" | "listening";
  /**
   * The whole flag list, replacing the standard member flags (memberFlags): a v2 proxy
   * (`--proxy on ...`) or any other command line that is not a plain member.
   */
  flags?: string[];
}

/** The argv etcd understands; our members take the same flags. */
export function memberFlags(o: {
  name: string; dataDir: string; clientURL: string; peerURL: string; initialCluster: string;
  initialClusterState?: string; initialClusterToken?: string; extraArgs?: string[];
  /** --listen-peer-urls when it is not the advertised peerURL. */
  listenPeerURL?: string;
}): string[] {
  const args = [
    "--enable-v2",
    "--name", o.name,
    "--data-dir", o.dataDir,
    "--listen-client-urls", o.clientURL,
    "--advertise-client-urls", o.clientURL,
    "--listen-peer-urls", o.listenPeerURL ?? o.peerURL,
    "--initial-advertise-peer-urls", o.peerURL,
    "--initial-cluster", o.initialCluster,
  ];
  if (o.initialClusterState) args.push("--initial-cluster-state", o.initialClusterState);
  if (o.initialClusterToken) args.push("--initial-cluster-token", o.initialClusterToken);
  if (o.extraArgs) args.push(...o.extraArgs);
  return args;
}

/** The command line that starts a target with the given flags. */
export function commandFor(target: TargetName, flags: string[]): { cmd: string; args: string[]; cwd: string } {
  const root = repoRoot();
  switch (target) {
    case "etcd": {
      const bin = etcdBinary();
      if (bin === null) throw new Error("etcd is not installed (not on PATH; set ETCD_BIN)");
      return { cmd: bin, args: flags, cwd: root };
    }
    case "node":
      return { cmd: process.execPath, args: ["bin/etcd-ts.mjs", ...flags], cwd: root };
    case "bun":
      return { cmd: join(root, "node_modules", ".bin", "bun"), args: ["bin/etcd-ts.mjs", ...flags], cwd: root };
    case "deno":
      return {
        cmd: join(root, "node_modules", ".bin", "deno"),
        args: ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "runtimes/deno/main.ts", ...flags],
        cwd: root,
      };
  }
}

/** Every child still running, so that an exiting test process can take them down. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) {
      try { c.kill("SIGKILL"); } catch { /* already gone */ }
    }
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      for (const c of live) {
        try { c.kill("SIGKILL"); } catch { /* already gone */ }
      }
      process.exit(130);
    });
  }
}

const OUTPUT_LIMIT = 128 * 1024;

/** One member process (it can be restarted on the same data directory). */
export class Member {
  readonly target: TargetName;
  readonly name: string;
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly clientURL: string;
  readonly peerURL: string;
  /** The URL in --listen-peer-urls: peerURL unless listenPeerPort was given. */
  readonly listenPeerURL: string;
  readonly initialCluster: string;
  private readonly opts: MemberOptions;
  private readonly ownsDataDir: boolean;
  private child: ChildProcess | null = null;
  private exitPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private out = "";
  /** How many times the process was started. */
  starts = 0;

  constructor(target: TargetName, opts: MemberOptions & { clientPort: number; peerPort: number }) {
    this.target = target;
    this.opts = opts;
    this.name = opts.name ?? "n1";
    this.clientPort = opts.clientPort;
    this.peerPort = opts.peerPort;
    this.clientURL = `http://127.0.0.1:${this.clientPort}`;
    this.peerURL = `http://127.0.0.1:${this.peerPort}`;
    this.listenPeerURL = opts.listenPeerPort !== undefined ? `http://127.0.0.1:${opts.listenPeerPort}` : this.peerURL;
    this.initialCluster = opts.initialCluster ?? `${this.name}=${this.peerURL}`;
    this.ownsDataDir = opts.dataDir === undefined;
    this.dataDir = opts.dataDir ?? tempDir(`etcd-ts-${target}-${this.name}-`);
  }

  /** The captured stdout and stderr (the last 128 KiB), for failure messages. */
  output(): string {
    return this.out;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.exitInfo === null;
  }

  /** Resolves when the current process exits. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exitPromise === null) return Promise.resolve({ code: null, signal: null });
    return this.exitPromise;
  }

  private append(s: string): void {
    this.out += s;
    if (this.out.length > OUTPUT_LIMIT) this.out = this.out.slice(this.out.length - OUTPUT_LIMIT);
  }

  /** Spawn the process (no waiting). */
  spawn(): void {
    if (this.running) throw new Error(`${this.describe()} is already running`);
    installExitHook();
    const flags = this.opts.flags ?? memberFlags({
      name: this.name, dataDir: this.dataDir, clientURL: this.clientURL, peerURL: this.peerURL,
      initialCluster: this.initialCluster,
      ...(this.listenPeerURL !== this.peerURL ? { listenPeerURL: this.listenPeerURL } : {}),
      ...(this.opts.initialClusterState ? { initialClusterState: this.opts.initialClusterState } : {}),
      ...(this.opts.initialClusterToken ? { initialClusterToken: this.opts.initialClusterToken } : {}),
      ...(this.opts.extraArgs ? { extraArgs: this.opts.extraArgs } : {}),
    });
    const { cmd, args, cwd } = commandFor(this.target, flags);
    this.starts++;
    this.append(`\n--- start #${this.starts}: ${cmd} ${args.join(" ")}\n`);
    this.exitInfo = null;
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...(this.opts.env ?? {}) };
    // The member reads ETCD_* variables; a stray one in the test environment would
    // conflict with the flags (etcd refuses to start), so drop those we did not set.
    for (const k of Object.keys(env)) {
      if (k.startsWith("ETCD_") && !(this.opts.env && k in this.opts.env)) delete env[k];
    }
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    live.add(child);
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (s: string) => this.append(s));
    child.stderr?.on("data", (s: string) => this.append(s));
    this.exitPromise = new Promise((resolve) => {
      child.on("error", (err) => {
        this.append(`\n--- spawn error: ${err.message}\n`);
        live.delete(child);
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
      });
      child.on("exit", (code, signal) => {
        live.delete(child);
        this.append(`\n--- exited: code=${code} signal=${signal}\n`);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  /** Spawn and wait until the member answers. On failure the process is killed. */
  async start(): Promise<this> {
    this.spawn();
    try {
      await this.waitReady(this.opts.startTimeoutMs ?? 60_000, this.opts.waitFor ?? "healthy");
    } catch (err) {
      await this.kill9();
      throw err;
    }
    return this;
  }

  /** Poll /version (and /health) until the member is ready. */
  async waitReady(timeoutMs: number, waitFor: "healthy" | "listening" = "healthy"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    while (Date.now() < deadline) {
      if (this.exitInfo !== null) {
        throw new Error(`${this.describe()} exited before it was ready (code=${this.exitInfo.code} signal=${this.exitInfo.signal})\n${this.output()}`);
      }
      try {
        const v = await fetch(this.clientURL + "/version", { signal: AbortSignal.timeout(2000) });
        const vt = await v.text();
        last = `/version ${v.status} ${vt}`;
        if (v.status === 200) {
          if (waitFor === "listening") return;
          const decided = !vt.includes("not_decided");
          const h = await fetch(this.clientURL + "/health", { signal: AbortSignal.timeout(2000) });
          const ht = await h.text();
          last += `; /health ${h.status} ${ht}`;
          if (decided && h.status === 200) return;
        }
      } catch (err) {
        last = String((err as Error)?.message ?? err);
      }
      await sleep(150);
    }
    throw new Error(`${this.describe()} did not become ready within ${timeoutMs} ms (last: ${last})\n${this.output()}`);
  }

  describe(): string {
    return `${this.target} member ${this.name} (client ${this.clientURL}, peer ${this.peerURL}, pid ${this.child?.pid ?? "-"})`;
  }

  /** SIGTERM, then SIGKILL after graceMs. Does not remove the data directory. */
  async terminate(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (child === null || this.exitInfo !== null) return;
    try { child.kill("SIGTERM"); } catch { /* gone */ }
    const t = sleep(graceMs).then(() => "timeout" as const);
    const r = await Promise.race([this.exited().then(() => "exited" as const), t]);
    if (r === "timeout") {
      this.append(`\n--- did not exit ${graceMs} ms after SIGTERM; sending SIGKILL\n`);
      try { child.kill("SIGKILL"); } catch { /* gone */ }
      await this.exited();
    }
  }

  /** kill -9 (a crash); the data directory stays. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (child === null || this.exitInfo !== null) return;
    try { child.kill("SIGKILL"); } catch { /* gone */ }
    await this.exited();
  }

  /** Pause (SIGSTOP) and resume (SIGCONT) the process. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }
  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** Start again on the same data directory and ports (after stop, terminate or kill9). */
  async restart(opts: { startTimeoutMs?: number; waitFor?: "healthy" | "listening" } = {}): Promise<this> {
    if (this.running) await this.terminate();
    this.spawn();
    try {
      await this.waitReady(opts.startTimeoutMs ?? this.opts.startTimeoutMs ?? 60_000, opts.waitFor ?? this.opts.waitFor ?? "healthy");
    } catch (err) {
      await this.kill9();
      throw err;
    }
    return this;
  }

  /** Terminate and, if the data dir was made by us, remove it. */
  async stop(graceMs = 5000): Promise<void> {
    await this.terminate(graceMs);
    if (this.ownsDataDir) this.removeDataDir();
  }

  removeDataDir(): void {
    try { rmSync(this.dataDir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
}

/** Create a member on fresh free ports (not started). */
export async function createMember(target: TargetName, opts: MemberOptions = {}): Promise<Member> {
  const need = (opts.clientPort === undefined ? 1 : 0) + (opts.peerPort === undefined ? 1 : 0);
  const ports = await freePorts(need);
  const clientPort = opts.clientPort ?? ports.shift()!;
  const peerPort = opts.peerPort ?? ports.shift()!;
  return new Member(target, { ...opts, clientPort, peerPort });
}

/** Create and start a member; wait until it answers. Throws (with its output) if it cannot start. */
export async function startMember(target: TargetName, opts: MemberOptions = {}): Promise<Member> {
  const m = await createMember(target, opts);
  try {
    return await m.start();
  } catch (err) {
    if (m.dataDir && opts.dataDir === undefined) m.removeDataDir();
    throw err;
  }
}

/** Run fn with a started member and always stop it afterwards. */
export async function withMember<T>(target: TargetName, fn: (m: Member) => Promise<T>, opts: MemberOptions = {}): Promise<T> {
  const m = await startMember(target, opts);
  try {
    return await fn(m);
  } finally {
    await m.stop();
  }
}
