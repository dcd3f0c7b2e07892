// One simulation run: a seed decides everything (cluster size and settings, network, workload,
// which faults are on the menu — "swarm" testing: each seed exercises a different mix), the
// cluster runs under faults for `durationMs` of virtual time with the continuous checks after
// every event, then faults stop, the cluster gets a quiet period and must converge, and the
// final checks run. The same seed and options give the same run, bit for bit (traceDigest).
import type { Operation } from "../check/history.ts";
import { SimCluster } from "./cluster.ts";
import { Workload, type WorkloadOptions } from "./client.ts";
import { installSimEnv } from "./env.ts";
import { Invariants, type CheckCounters, type Violation } from "./invariants.ts";
import { FAULT_KINDS, Nemesis, type FaultKind, type FaultRecord, type NemesisOptions } from "./nemesis.ts";
import { DEFAULT_NET, Network, type NetConfig } from "./network.ts";
import { appliedIndex, raftStatus, type RaftOverrides } from "./probe.ts";
import type { ClusterOptions } from "./cluster.ts";
import { fmtTime, Rng, Scheduler, Trace, type TraceLine } from "./scheduler.ts";

export interface SimOptions {
  seed: number;
  /** Virtual ms of the faulty phase (default 30 s). */
  durationMs?: number;
  /** Cluster size (default: 3 or 5 by seed). */
  size?: number;
  /** Fault menu (default: a random subset by seed); [] = no faults. */
  faults?: FaultKind[];
  /** Test-only Raft switches for every member. */
  raft?: RaftOverrides;
  /** Run the figure8 scenario over and over (as the fault menu's only entry). */
  figure8?: boolean;
  /** Print every trace line as it happens. */
  echo?: boolean;
  /** Trace every network message (verbose). */
  traceMessages?: boolean;
  /** Member log level written to the trace (default info). */
  traceLevel?: "debug" | "info" | "warn" | "error";
  /** Keep every trace line (for printing a long window). */
  keepTrace?: boolean;
  /** Trace kept in the result: this long before the first violation (default 3 s). */
  traceWindowMs?: number;
  /** Stop at the first violation (default true). */
  stopOnViolation?: boolean;
  /** Time budget of the linearizability check, wall ms (default 20 s). */
  checkTimeoutMs?: number;
  /** Non-quorum reads must never go back per machine (default) or only per process. */
  readViewPer?: "machine" | "process";
  /** Skip the history checks (linearizability, watches): Raft invariants only. */
  skipHistory?: boolean;
}

export interface SimConfig {
  seed: number;
  size: number;
  durationMs: number;
  quietMs: number;
  cluster: ClusterOptions;
  net: NetConfig;
  workload: WorkloadOptions;
  nemesis: NemesisOptions;
  /** Clock skew the history model allows (ms). */
  modelClockSkew: number;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  violations: Violation[];
  config: SimConfig;
  /** Virtual ms covered (faulty phase + quiet phase). */
  simulatedMs: number;
  events: number;
  wallMs: number;
  ops: number;
  opsOk: number;
  opsUnknown: number;
  ackedWrites: number;
  checks: CheckCounters;
  faults: FaultRecord[];
  faultsInjected: number;
  faultsByKind: Partial<Record<FaultKind, number>>;
  figure8Completed: number;
  crashes: number;
  snapshotsSent: number;
  netStats: Network["stats"];
  maxRaftIndex: number;
  traceDigest: string;
  /** Trace lines around the first violation (or the last lines). */
  trace: TraceLine[];
  mathRandomCalls: number;
  history?: Operation[];
}

/** Everything a seed decides. */
export function configFor(opts: SimOptions): SimConfig {
  const r = new Rng(opts.seed).fork("config");
  const size = opts.size ?? (r.chance(0.5) ? 3 : 5);
  const durationMs = opts.durationMs ?? 30_000;
  const clockSkewMs = r.pick([0, 20, 100, 300]);
  const driftMax = r.pick([0, 0.0002, 0.001]);
  const net: NetConfig = {
    ...DEFAULT_NET,
    maxDelay: r.pick([1, 3, 10]),
    drop: r.pick([0, 0.002, 0.01, 0.03]),
    dup: r.pick([0, 0.002, 0.01]),
    tailChance: r.pick([0, 0.01, 0.03]),
  };
  let menu: FaultKind[];
  if (opts.figure8) menu = ["figure8"];
  else if (opts.faults) menu = opts.faults;
  else {
    // Swarm: each kind is on this seed's menu with probability 0.6 (figure8 less often).
    menu = FAULT_KINDS.filter((k) => r.chance(k === "figure8" ? 0.25 : 0.6));
    if (menu.length === 0) menu = [r.pick(FAULT_KINDS)];
  }
  const weights: Partial<Record<FaultKind, number>> = {};
  for (const k of menu) weights[k] = k === "membership" ? 0.5 : 1;
  const cluster: ClusterOptions = {
    size,
    snapshotCount: r.pick([10, 30, 100, 1000]),
    heartbeatMs: 100,
    electionMs: r.pick([500, 1000]),
    clockSkewMs,
    driftMax,
    diskLatency: { min: 0.02, max: r.pick([0.2, 1, 5]), slowChance: r.pick([0, 0.01]), slowMs: r.pick([20, 200]) },
    preVote: r.chance(0.3),
    traceLevel: opts.traceLevel ?? "info",
  };
  const raft: RaftOverrides = { ...(opts.raft ?? {}) };
  if (raft.maxSizePerMsg === undefined && (menu.includes("figure8") || r.chance(0.2))) raft.maxSizePerMsg = r.pick([1, 1, 2048]);
  if (Object.keys(raft).length > 0) cluster.raft = raft;
  // Now and then a heavy load: thousands of entries, so logs get compacted and lagging
  // members are sent snapshots.
  const heavy = r.chance(0.1);
  const workload: WorkloadOptions = {
    clients: heavy ? 10 : r.int(2, 6),
    keys: r.int(1, 5),
    thinkMin: 0,
    thinkMax: heavy ? 2 : r.pick([10, 50, 200]),
    timeoutMin: 500,
    timeoutMax: r.pick([2000, 6000, 15000]),
    ttlChance: r.pick([0, 0.05, 0.2]),
    inOrderChance: r.pick([0, 0.03]),
    watchers: r.int(0, 3),
    netMin: 0.1,
    netMax: 2,
    // The simulated client API holds requests until the member has published itself, as
    // startMember does (and etcd): a restarted member then never answers from an older state
    // than it showed before, so a member's view must not go back even across restarts.
    readViewPer: opts.readViewPer ?? "machine",
    bigValueChance: r.pick([0, 0.01]),
    bigValueBytes: 30_000,
  };
  const nemesis: NemesisOptions = {
    meanIntervalMs: r.pick([700, 2000, 5000]),
    weights,
    maxDown: size >= 5 ? r.int(1, 2) : 1,
    clockSkewMs,
    minMembers: 3,
    maxMembers: 5,
    memberTimeoutMs: 8000,
  };
  const quietMs = 8000;
  const total = durationMs + quietMs + 40_000;
  return {
    seed: opts.seed,
    size,
    durationMs,
    quietMs,
    cluster,
    net,
    workload,
    nemesis,
    modelClockSkew: 2 * clockSkewMs + 2 * driftMax * total + 50,
  };
}

/** One line describing a config, for the trace and failure reports. */
export function describeConfig(c: SimConfig): string {
  const w = Object.keys(c.nemesis.weights).join(",") || "none";
  const raft = c.cluster.raft ? ` raft=${JSON.stringify(c.cluster.raft)}` : "";
  return `size=${c.size} duration=${fmtTime(c.durationMs)} snapshot-count=${c.cluster.snapshotCount} election=${c.cluster.electionMs}ms ` +
    `prevote=${c.cluster.preVote} skew=±${c.cluster.clockSkewMs}ms drift=${c.cluster.driftMax} disk≤${c.cluster.diskLatency?.max}ms ` +
    `net=${c.net.minDelay}-${c.net.maxDelay}ms drop=${c.net.drop} dup=${c.net.dup} clients=${c.workload.clients} keys=${c.workload.keys} ` +
    `watchers=${c.workload.watchers} ttl=${c.workload.ttlChance}${c.workload.clients >= 10 ? " heavy" : ""} faults=[${w}] every≈${c.nemesis.meanIntervalMs}ms${raft}`;
}

export async function runSimulation(opts: SimOptions): Promise<SimResult> {
  const wall0 = performance.now();
  const env = installSimEnv(opts.seed);
  const cfg = configFor(opts);
  const trace = new Trace(opts.keepTrace ? 1_000_000 : 3000);
  trace.echo = opts.echo ?? false;
  trace.keepAll = opts.keepTrace ?? false;
  const sched = new Scheduler(opts.seed, trace);
  const root = sched.rng;
  const net = new Network(sched, root.fork("net"), cfg.net);
  net.traceMessages = opts.traceMessages ?? false;
  const cluster = new SimCluster(sched, net, root.fork("cluster"), cfg.cluster);
  const inv = new Invariants(sched, cluster);
  const workload = new Workload(sched, cluster, root.fork("workload"), cfg.workload);
  const nemesis = new Nemesis(sched, cluster, net, root.fork("nemesis"), cfg.nemesis);
  const onRejection = (reason: unknown): void => {
    inv.violate("unhandled-rejection", String((reason as Error)?.stack ?? reason));
  };
  process.on("unhandledRejection", onRejection);
  cluster.hooks = {
    started: (s, inc) => inv.started(s, inc),
    storeEvent: (s, _inc, e, refresh) => inv.storeEvent(s, e, refresh),
    log: (s, _level, msg) => {
      if (msg.includes("applied incoming snapshot")) workload.snapshotInstalled(s);
    },
    problem: (s, kind, msg) => {
      if (kind === "open" || kind === "start") inv.violate("restart", `${s.name}: ${msg}`);
      if (kind === "fatal") inv.violate("member-fatal", `${s.name}: ${msg}`);
    },
  };
  sched.log(`sim seed ${opts.seed}: ${describeConfig(cfg)}`);
  const stopOnViolation = opts.stopOnViolation ?? true;
  const stop = (): boolean => stopOnViolation && inv.violations.length > 0;
  let exceptions = 0;
  const afterEvent = (): void => {
    inv.observe();
    nemesis.observe();
    while (exceptions < sched.errors.length) {
      const e = sched.errors[exceptions++]!;
      inv.violate("exception", `event ${e.label}: ${String((e.error as Error)?.stack ?? e.error)}`);
    }
  };
  let history: Operation[] = [];
  let ackedWrites = 0;
  let maxRaftIndex = 0;
  try {
    sched.at(0, () => void cluster.bootstrap(), "bootstrap");
    sched.at(300, () => workload.start(), "workload");
    const menu = Object.keys(cfg.nemesis.weights).length;
    if (menu > 0) nemesis.start(2000);
    await sched.run({ until: cfg.durationMs, afterEvent, stop });
    if (!stop()) {
      // Quiet: no faults, clients wind down, everything restarted.
      nemesis.stop();
      workload.stop();
      await sched.run({ until: cfg.durationMs + cfg.quietMs, afterEvent, stop });
    }
    if (!stop()) {
      // Converge: a leader, every member applied everything the leader committed.
      const deadline = sched.now + 40_000;
      let converged = false;
      while (!stop() && sched.now < deadline) {
        await sched.run({ until: sched.now + 250, afterEvent, stop });
        const leader = cluster.leader();
        const cur = cluster.current();
        if (!leader || cur.some((s) => !s.live)) continue;
        const commit = raftStatus(leader.member!).hardState.commit;
        const idx = leader.member!.store.index;
        if (cur.every((s) => appliedIndex(s.member!) === commit && s.member!.store.index === idx)) {
          converged = true;
          break;
        }
      }
      if (!converged && !stop()) {
        inv.violate("liveness", `no convergence within 40 s of quiet: ${cluster.all().map((s) => {
          const st = s.member ? raftStatus(s.member) : null;
          return `${s.name}:${s.state}${s.paused ? "(paused)" : ""}${st ? ` ${st.softState.state} t${st.hardState.term} c${st.hardState.commit} a${appliedIndex(s.member!)}` : ""}${s.note ? ` (${s.note})` : ""}`;
        }).join("; ")}`);
      }
    }
    history = workload.history();
    if (!stop() || !stopOnViolation) {
      const keys = Array.from({ length: cfg.workload.keys }, (_, i) => `/k${i}`);
      inv.checkConvergence(keys);
      ackedWrites = inv.checkDurability(history);
      if (!opts.skipHistory) {
        inv.checkHistory(history, cfg.modelClockSkew, opts.checkTimeoutMs ?? 20_000);
        inv.checkWatches(workload.watches);
      }
    }
    for (const s of cluster.all()) if (s.member) maxRaftIndex = Math.max(maxRaftIndex, appliedIndex(s.member));
  } finally {
    process.off("unhandledRejection", onRejection);
    cluster.shutdown();
    sched.clear();
    env.restore();
  }
  const first = inv.violations[0];
  const at = first ? (first.focus ?? first.time) : 0;
  const traceLines = first ? trace.window(at - (opts.traceWindowMs ?? 3000), first.focus !== undefined ? at + 1000 : at + 1) : trace.tail().slice(-200);
  const snapshotsSent = net.stats.snapshots;
  const result: SimResult = {
    seed: opts.seed,
    ok: inv.violations.length === 0,
    violations: inv.violations,
    config: cfg,
    simulatedMs: sched.now,
    events: sched.events,
    wallMs: performance.now() - wall0,
    ops: history.length,
    opsOk: history.filter((o) => o.result.type === "ok").length,
    opsUnknown: Invariants.unknowns(history),
    ackedWrites,
    checks: inv.counters,
    faults: nemesis.schedule,
    faultsInjected: nemesis.counters.injected,
    faultsByKind: nemesis.counters.byKind,
    figure8Completed: nemesis.counters.figure8Completed,
    crashes: cluster.counters.crashes,
    snapshotsSent,
    netStats: net.stats,
    maxRaftIndex,
    traceDigest: trace.digest(),
    trace: traceLines,
    mathRandomCalls: env.mathRandomCalls(),
    history,
  };
  return result;
}
