// Multi-member clusters of real processes for the cluster tests: N members, each on its own
// target (real etcd, or our member on Node, Bun or Deno), on free loopback ports, bootstrapped
// statically with a token. Helpers: wait until every member reports the same leader, find the
// leader, kill -9 / restart / stop a member, add a member at run time (POST /v2/members, then
// start it with --initial-cluster-state existing), remove one (DELETE /v2/members/<id>),
// start a member with a wrong --initial-cluster-token, start a v2 proxy, and dump every
// process's captured output when something fails.
//
// Every process is also registered with processes.ts's exit hook, so a test process that dies
// takes its children with it. Data directories live under one temp dir that stop() removes
// (set CLUSTER_KEEP_DATA=1 to keep it).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { req } from "./http.ts";
import type { Res } from "./http.ts";
import { Member, freePorts, isTargetName, sleep, tempDir } from "./processes.ts";
import type { MemberOptions, TargetName } from "./processes.ts";

/**
 * Parse CLUSTER_TARGETS: a comma list with one target per member ("node,bun,deno"), or a
 * single target meaning `size` members of it ("etcd" = three etcd members).
 */
export function parseClusterTargets(spec: string | undefined, size = 3, fallback = "node,bun,deno"): TargetName[] {
  const raw = (spec === undefined || spec.trim() === "" ? fallback : spec).split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const t of raw) {
    if (!isTargetName(t)) throw new Error(`unknown cluster target "${t}" (expected etcd, node, bun or deno)`);
  }
  const targets = raw as TargetName[];
  if (targets.length === 1) return Array.from({ length: size }, () => targets[0]!);
  return targets;
}

/** A member of a cluster: a Member that also knows its cluster-assigned ID (hex, as v2 shows it). */
export class ClusterMember extends Member {
  /** The member ID in lower-case hex, once known (from /v2/members, matched by peer URL). */
  id: string | null = null;
  /** Set once the member was removed from the cluster. */
  removed = false;
  /** What kind of process this is, for log dumps. */
  role: "member" | "joined" | "wrong-token" | "proxy" | "discovery-member" | "service" | "earlier-run";

  constructor(target: TargetName, opts: MemberOptions & { clientPort: number; peerPort: number }, role: ClusterMember["role"] = "member") {
    super(target, opts);
    this.role = role;
  }

  /** The output of the current (last) start only. */
  outputSinceStart(): string {
    const out = this.output();
    const i = out.lastIndexOf("\n--- start #");
    return i >= 0 ? out.slice(i) : out;
  }
}

export interface ClusterOptions {
  /** One target per member. */
  targets: TargetName[];
  /** --initial-cluster-token (default: a fresh random token). */
  token?: string;
  /** Member names are `${namePrefix}1`, `${namePrefix}2`, ... (default "m"). */
  namePrefix?: string;
  /** Flags appended for every member (e.g. ["--snapshot-count", "100"]). */
  extraArgs?: string[];
  /** Per-member start timeout (ms, default 60 s). */
  startTimeoutMs?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** A label used in the temp dir name and the logs. */
  label?: string;
  /**
   * Ports for each member (same order as targets) instead of fresh free ones: the client
   * port, the advertised peer port, and optionally a different port to listen on for peers
   * (then something else, e.g. test/support/partition-proxy.ts, must forward peer→listenPeer).
   */
  ports?: Array<{ client: number; peer: number; listenPeer?: number }>;
}

export interface MemberInfo {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

const DEFAULT_START_MS = 60_000;

/** A cluster of member processes plus any extra processes (joined members, proxies, ...). */
export class Cluster {
  readonly token: string;
  readonly root: string;
  readonly extraArgs: string[];
  readonly label: string;
  /** Members in bootstrap order, then members added at run time (removed ones stay, flagged). */
  readonly members: ClusterMember[] = [];
  /** Processes that are not (or not yet) members: wrong-token members, proxies. */
  readonly others: ClusterMember[] = [];
  private readonly opts: ClusterOptions;
  private nextIndex = 1;
  private stopped = false;

  private constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.label = opts.label ?? "cluster";
    this.token = opts.token ?? `etcd-ts-test-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
    this.extraArgs = opts.extraArgs ?? [];
    this.root = tempDir(`etcd-ts-${this.label.replace(/[^a-z0-9]+/gi, "-")}-`);
  }

  /**
   * Create and start a cluster; resolves once every member reports healthy. On failure every
   * process is killed, the captured logs are included in the error, and the data is removed.
   */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    if (opts.targets.length === 0) throw new Error("a cluster needs at least one member");
    const c = new Cluster(opts);
    try {
      if (opts.ports !== undefined && opts.ports.length !== opts.targets.length) {
        throw new Error(`ports: ${opts.ports.length} entries for ${opts.targets.length} members`);
      }
      const ports = opts.ports !== undefined ? [] : await freePorts(opts.targets.length * 2);
      const prefix = opts.namePrefix ?? "m";
      const specs = opts.targets.map((target, i) => ({
        target,
        name: `${prefix}${i + 1}`,
        clientPort: opts.ports?.[i]?.client ?? ports[2 * i]!,
        peerPort: opts.ports?.[i]?.peer ?? ports[2 * i + 1]!,
        listenPeerPort: opts.ports?.[i]?.listenPeer,
      }));
      c.nextIndex = specs.length + 1;
      const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(",");
      for (const s of specs) {
        const m = new ClusterMember(s.target, {
          name: s.name,
          dataDir: join(c.root, `${s.name}.etcd`),
          clientPort: s.clientPort,
          peerPort: s.peerPort,
          ...(s.listenPeerPort !== undefined ? { listenPeerPort: s.listenPeerPort } : {}),
          initialCluster,
          initialClusterState: "new",
          initialClusterToken: c.token,
          extraArgs: c.extraArgs,
          startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_MS,
          ...(opts.env ? { env: opts.env } : {}),
        });
        c.members.push(m);
      }
      for (const m of c.members) m.spawn();
      await Promise.all(c.members.map((m) => m.waitReady(opts.startTimeoutMs ?? DEFAULT_START_MS, "healthy")));
      await c.refreshIds();
      return c;
    } catch (err) {
      const logs = c.logs();
      await c.stop();
      const first = String((err as Error)?.message ?? err).split("\n")[0];
      throw new Error(`cluster ${c.label} (${opts.targets.join(",")}) did not start: ${first}\n${logs}`);
    }
  }

  /**
   * A cluster with no process yet, for bootstraps other than the static one (discovery, ...):
   * add processes with spawnProcess(). stop(), logs(), check(), waitLeader() work as usual.
   */
  static create(opts: Omit<ClusterOptions, "targets"> & { targets?: TargetName[] }): Cluster {
    return new Cluster({ ...opts, targets: opts.targets ?? [] });
  }

  /**
   * Create and spawn (no waiting: use waitReady) a process on fresh free ports whose whole
   * command line comes from `flags`. As a "member" (the default) it joins `members` (waitLeader,
   * memberList, ... see it); any other role goes to `others` (logged and killed by stop()).
   */
  async spawnProcess(
    target: TargetName,
    o: {
      name: string;
      flags: (p: { name: string; dataDir: string; clientURL: string; peerURL: string }) => string[];
      role?: ClusterMember["role"];
      waitFor?: "healthy" | "listening";
    },
  ): Promise<ClusterMember> {
    const [clientPort, peerPort] = await freePorts(2);
    const dataDir = join(this.root, `${o.name}.etcd`);
    const role = o.role ?? "member";
    const flags = o.flags({ name: o.name, dataDir, clientURL: `http://127.0.0.1:${clientPort!}`, peerURL: `http://127.0.0.1:${peerPort!}` });
    const m = new ClusterMember(target, {
      name: o.name, dataDir, clientPort: clientPort!, peerPort: peerPort!, flags,
      startTimeoutMs: this.opts.startTimeoutMs ?? DEFAULT_START_MS,
      ...(o.waitFor ? { waitFor: o.waitFor } : {}),
      ...(this.opts.env ? { env: this.opts.env } : {}),
    }, role);
    (role === "member" ? this.members : this.others).push(m);
    m.spawn();
    return m;
  }

  /**
   * A stopped member of a statically bootstrapped cluster, started again on its data dir and
   * ports with extra flags (e.g. --force-new-cluster), or with none (a plain restart after
   * such a start). The returned object replaces `m` in `members` (same id); the old one moves
   * to `others` so that its log is still printed. Waits until it is healthy.
   */
  async restartWithFlags(m: ClusterMember, extraArgs: string[], timeoutMs = this.opts.startTimeoutMs ?? DEFAULT_START_MS): Promise<ClusterMember> {
    if (m.running) throw new Error(`restartWithFlags: ${m.describe()} is still running`);
    const i = this.members.indexOf(m);
    if (i < 0) throw new Error(`restartWithFlags: ${m.describe()} is not a member of this cluster`);
    const n = new ClusterMember(m.target, {
      name: m.name,
      dataDir: m.dataDir,
      clientPort: m.clientPort,
      peerPort: m.peerPort,
      initialCluster: m.initialCluster,
      initialClusterState: "new",
      initialClusterToken: this.token,
      extraArgs: [...this.extraArgs, ...extraArgs],
      startTimeoutMs: timeoutMs,
      ...(this.opts.env ? { env: this.opts.env } : {}),
    }, m.role);
    n.id = m.id;
    this.members[i] = n;
    m.role = "earlier-run";
    this.others.push(m);
    await n.start();
    return n;
  }

  /** Members that were not removed. */
  get current(): ClusterMember[] {
    return this.members.filter((m) => !m.removed);
  }

  /** Members that are running (not removed). */
  get live(): ClusterMember[] {
    return this.current.filter((m) => m.running);
  }

  /** `name=peerURL,...` for the current members. */
  initialCluster(): string {
    return this.current.map((m) => `${m.name}=${m.peerURL}`).join(",");
  }

  /** GET /v2/members on a member. */
  async memberList(via: Member, timeoutMs = 5000): Promise<MemberInfo[]> {
    const r = await req(via.clientURL, "GET", "/v2/members", { timeoutMs });
    if (r.status !== 200) throw new Error(`${r.describe()}: ${r.text}`);
    const body = r.json() as { members?: MemberInfo[] };
    return body.members ?? [];
  }

  /** Fill in every current member's id from /v2/members on a live member (matched by peer URL). */
  async refreshIds(): Promise<void> {
    let lastErr: unknown = null;
    for (const via of this.live) {
      try {
        const list = await this.memberList(via);
        for (const m of this.members) {
          const info = list.find((i) => i.peerURLs.includes(m.peerURL));
          if (info) m.id = info.id;
        }
        return;
      } catch (err) {
        lastErr = err;
      }
    }
    throw new Error(`cannot read /v2/members from any live member: ${String((lastErr as Error)?.message ?? lastErr)}`);
  }

  /** The member with this hex id (current or removed). */
  byId(id: string): ClusterMember | undefined {
    return this.members.find((m) => m.id === id);
  }

  /** What one member says about the leader: its id, or null (no leader, no answer). */
  async leaderSeenBy(m: Member, timeoutMs = 2000): Promise<string | null> {
    try {
      const r = await req(m.clientURL, "GET", "/v2/members/leader", { timeoutMs });
      if (r.status === 200) {
        const id = (r.json() as { id?: unknown }).id;
        if (typeof id === "string" && id !== "") return id;
      }
    } catch {
      /* fall through to /v2/stats/self */
    }
    try {
      const r = await req(m.clientURL, "GET", "/v2/stats/self", { timeoutMs });
      if (r.status === 200) {
        const leader = (r.json() as { leaderInfo?: { leader?: unknown } }).leaderInfo?.leader;
        if (typeof leader === "string" && leader !== "" && leader !== "0") return leader;
      }
    } catch {
      /* no answer */
    }
    return null;
  }

  /**
   * Wait until every given member (default: every live member) reports the same leader, and
   * that leader is one of them; returns it.
   */
  async waitLeader(timeoutMs = 20_000, among: ClusterMember[] = this.live): Promise<ClusterMember> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      const seen = await Promise.all(among.map((m) => this.leaderSeenBy(m)));
      last = among.map((m, i) => `${m.name}->${seen[i] ?? "none"}`).join(" ");
      const first = seen[0];
      if (first && seen.every((s) => s === first)) {
        let leader = among.find((m) => m.id === first);
        if (!leader) {
          await this.refreshIds().catch(() => {});
          leader = among.find((m) => m.id === first);
        }
        if (leader) return leader;
        last += ` (leader ${first} is not among ${among.map((m) => `${m.name}:${m.id}`).join(",")})`;
      }
      await sleep(100);
    }
    throw new Error(`members did not agree on a leader within ${timeoutMs} ms: ${last}`);
  }

  /** The current leader (every live member agreeing). */
  leader(timeoutMs = 20_000): Promise<ClusterMember> {
    return this.waitLeader(timeoutMs);
  }

  /** Live members other than the given one. */
  peersOf(m: Member): ClusterMember[] {
    return this.live.filter((x) => x !== m);
  }

  async kill9(m: ClusterMember): Promise<void> {
    await m.kill9();
  }

  /** SIGTERM (a graceful stop; etcd hands over leadership), SIGKILL after graceMs. */
  async stopMember(m: ClusterMember, graceMs = 10_000): Promise<void> {
    await m.terminate(graceMs);
  }

  /** Start a stopped member again on the same data dir; waits until it is healthy. */
  async restart(m: ClusterMember, timeoutMs = this.opts.startTimeoutMs ?? DEFAULT_START_MS): Promise<ClusterMember> {
    await m.restart({ startTimeoutMs: timeoutMs, waitFor: "healthy" });
    return m;
  }

  /**
   * Add a member at run time: POST /v2/members on a live member (retried while etcd answers
   * 500 "unhealthy cluster", which it does within 5 s of a member connecting), then start the
   * new process with --initial-cluster-state existing and the full --initial-cluster.
   */
  async addMember(target: TargetName, o: { name?: string; via?: ClusterMember; extraArgs?: string[]; timeoutMs?: number } = {}): Promise<{ member: ClusterMember; response: Res }> {
    const name = o.name ?? `${this.opts.namePrefix ?? "m"}${this.nextIndex++}`;
    const [clientPort, peerPort] = await freePorts(2);
    const peerURL = `http://127.0.0.1:${peerPort!}`;
    const deadline = Date.now() + (o.timeoutMs ?? 20_000);
    let response: Res | null = null;
    for (;;) {
      const via = o.via ?? this.live[0];
      if (!via) throw new Error("addMember: no live member to ask");
      try {
        response = await req(via.clientURL, "POST", "/v2/members", {
          body: JSON.stringify({ peerURLs: [peerURL] }),
          headers: { "Content-Type": "application/json" },
          timeoutMs: 10_000,
        });
        if (response.status === 201) break;
      } catch (err) {
        response = null;
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new Error(`addMember: POST /v2/members kept failing: ${response ? `${response.status} ${response.text}` : "no answer"}`);
      await sleep(500);
    }
    const added = response.json() as MemberInfo;
    // The full list from the cluster, with the new member's name filled in (it has none yet).
    const list = await this.memberList(o.via ?? this.live[0]!);
    const initialCluster = list
      .map((i) => (i.id === added.id ? `${name}=${peerURL}` : i.peerURLs.map((u) => `${i.name}=${u}`).join(",")))
      .join(",");
    if (list.some((i) => i.id !== added.id && i.name === "")) {
      throw new Error(`addMember: a member has no name yet (not started?): ${JSON.stringify(list)}`);
    }
    const m = new ClusterMember(target, {
      name,
      dataDir: join(this.root, `${name}.etcd`),
      clientPort: clientPort!,
      peerPort: peerPort!,
      initialCluster,
      initialClusterState: "existing",
      initialClusterToken: this.token,
      extraArgs: [...this.extraArgs, ...(o.extraArgs ?? [])],
      startTimeoutMs: this.opts.startTimeoutMs ?? DEFAULT_START_MS,
      ...(this.opts.env ? { env: this.opts.env } : {}),
    }, "joined");
    m.id = added.id;
    this.members.push(m);
    await m.start();
    return { member: m, response };
  }

  /**
   * Remove a member: DELETE /v2/members/<id> on another live member (retried on 500 for a
   * while: strict reconfig checks can refuse it right after a change). Does not wait for the
   * removed process to exit: use waitExit().
   */
  async removeMember(m: ClusterMember, o: { via?: ClusterMember; timeoutMs?: number } = {}): Promise<Res> {
    if (m.id === null) await this.refreshIds();
    if (m.id === null) throw new Error(`removeMember: no id known for ${m.describe()}`);
    const deadline = Date.now() + (o.timeoutMs ?? 15_000);
    let last: Res | null = null;
    for (;;) {
      const via = o.via ?? this.live.find((x) => x !== m);
      if (!via) throw new Error("removeMember: no other live member to ask");
      try {
        last = await req(via.clientURL, "DELETE", `/v2/members/${m.id}`, { timeoutMs: 10_000 });
        if (last.status === 204) {
          m.removed = true;
          return last;
        }
        if (last.status !== 500) throw new Error(`removeMember: ${last.describe()}: ${last.text}`);
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new Error(`removeMember: DELETE kept failing: ${last ? `${last.status} ${last.text}` : "no answer"}`);
      await sleep(500);
    }
  }

  /** Wait until a process exits by itself; true if it did within timeoutMs. */
  async waitExit(m: Member, timeoutMs: number): Promise<boolean> {
    if (!m.running) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([m.exited().then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Start (spawn only: it is not expected to become healthy) a new member that lists the
   * whole cluster plus itself in --initial-cluster, --initial-cluster-state new, but with a
   * different --initial-cluster-token.
   */
  async startWrongToken(target: TargetName, o: { name?: string; token?: string } = {}): Promise<ClusterMember> {
    const name = o.name ?? `wrong${this.nextIndex++}`;
    const [clientPort, peerPort] = await freePorts(2);
    const m = new ClusterMember(target, {
      name,
      dataDir: join(this.root, `${name}.etcd`),
      clientPort: clientPort!,
      peerPort: peerPort!,
      initialCluster: `${this.initialCluster()},${name}=http://127.0.0.1:${peerPort!}`,
      initialClusterState: "new",
      initialClusterToken: o.token ?? `${this.token}-wrong`,
      extraArgs: this.extraArgs,
      ...(this.opts.env ? { env: this.opts.env } : {}),
    }, "wrong-token");
    this.others.push(m);
    m.spawn();
    return m;
  }

  /**
   * Start a v2 proxy (`--proxy on`) whose --initial-cluster lists `knows` (default: every
   * current member). Waits until its client port answers /version.
   */
  async startProxy(target: TargetName, o: { knows?: ClusterMember[]; refreshMs?: number; extraArgs?: string[]; name?: string } = {}): Promise<ClusterMember> {
    const name = o.name ?? `proxy${this.nextIndex++}`;
    const [clientPort, peerPort] = await freePorts(2);
    const clientURL = `http://127.0.0.1:${clientPort!}`;
    const knows = o.knows ?? this.current;
    const dataDir = join(this.root, `${name}.etcd`);
    const flags = [
      "--enable-v2",
      "--proxy", "on",
      "--name", name,
      "--data-dir", dataDir,
      "--listen-client-urls", clientURL,
      "--advertise-client-urls", clientURL,
      "--initial-cluster", knows.map((m) => `${m.name}=${m.peerURL}`).join(","),
      "--proxy-refresh-interval", String(o.refreshMs ?? 30_000),
      ...(o.extraArgs ?? []),
    ];
    const p = new ClusterMember(target, {
      name, dataDir, clientPort: clientPort!, peerPort: peerPort!, flags, waitFor: "listening",
      startTimeoutMs: this.opts.startTimeoutMs ?? DEFAULT_START_MS,
      ...(this.opts.env ? { env: this.opts.env } : {}),
    }, "proxy");
    this.others.push(p);
    await p.start();
    return p;
  }

  /** Every process's captured output (the tail of each, maxPerProcess characters). */
  logs(maxPerProcess = 12_000): string {
    const parts: string[] = [];
    for (const m of [...this.members, ...this.others]) {
      const out = m.output();
      const tail = out.length > maxPerProcess ? `[... ${out.length - maxPerProcess} characters cut ...]\n${out.slice(-maxPerProcess)}` : out;
      parts.push(`===== ${m.role} ${m.describe()}${m.removed ? " [removed]" : ""}\n${tail}`);
    }
    return parts.join("\n");
  }

  /** Kill every process (SIGKILL: fast) and remove the data unless CLUSTER_KEEP_DATA is set. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.members, ...this.others].map((m) => m.kill9().catch(() => {})));
    if (process.env.CLUSTER_KEEP_DATA) {
      console.error(`cluster ${this.label}: data kept in ${this.root}`);
    } else {
      try { rmSync(this.root, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  }

  /**
   * Run fn; if it throws, print every process's log to stderr (and rethrow). Use around the
   * body of each test so that a failure shows what the members said.
   */
  async check<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      console.error(`\n----- cluster ${this.label}: a check failed: ${(err as Error)?.message ?? err}\n${this.logs()}\n----- end of logs`);
      throw err;
    }
  }
}

/** Start a cluster, run fn with it (logs printed on failure), always stop it. */
export async function withCluster<T>(opts: ClusterOptions, fn: (c: Cluster) => Promise<T>): Promise<T> {
  const c = await Cluster.start(opts);
  try {
    return await c.check(() => fn(c));
  } finally {
    await c.stop();
  }
}

// ---- small client helpers used by the cluster tests ----

export type Attempt = { ok: true; res: Res; via: Member } | { ok: false; error: string; via: Member };

/** One v2 PUT of key=value through a member (never throws). */
export async function tryPut(m: Member, key: string, value: string, timeoutMs = 3000): Promise<Attempt> {
  try {
    const res = await req(m.clientURL, "PUT", `/v2/keys${key}`, { form: { value }, timeoutMs });
    if (res.status === 200 || res.status === 201) return { ok: true, res, via: m };
    return { ok: false, error: `${res.status} ${res.text.trim()}`, via: m };
  } catch (err) {
    return { ok: false, error: String((err as Error)?.message ?? err), via: m };
  }
}

/** PUT through the given members in turn until one acknowledges it (or the deadline passes). */
export async function putAnywhere(members: Member[], key: string, value: string, timeoutMs = 20_000): Promise<Res> {
  const deadline = Date.now() + timeoutMs;
  let i = 0;
  let last = "";
  while (Date.now() < deadline) {
    const m = members[i++ % members.length]!;
    const a = await tryPut(m, key, value, Math.min(5000, Math.max(500, deadline - Date.now())));
    if (a.ok) return a.res;
    last = `${m.clientURL}: ${a.error}`;
    await sleep(100);
  }
  throw new Error(`PUT ${key} was not acknowledged by any member within ${timeoutMs} ms (last: ${last})`);
}

/** Poll until fn returns a truthy value; throws the last failure reason after timeoutMs. */
export async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | null | undefined | false>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = "not yet";
    } catch (err) {
      last = String((err as Error)?.message ?? err);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${timeoutMs} ms (last: ${last})`);
    await sleep(intervalMs);
  }
}
