// The simulator's command line (npm run sim -- ...).
//
//   --seed N              replay one seed; prints its config, the fault schedule, the trace
//                         around the first violation (or the end) and the checks' figures
//   --seeds N             a campaign of N seeds (from --start, default 1), on --jobs workers
//                         (default: the number of CPUs), for at most --minutes M
//   --duration S          virtual seconds of faults per seed (default 30)
//   --size 3|5            cluster size (default: by seed)
//   --faults a,b          fault menu (default: a random subset by seed); see nemesis.ts
//   --figure8             the figure8 scenario only
//   --unsafe              Raft's test-only unsafeCommitOldTerms switch on (with
//                         maxSizePerMsg 1): the checks must catch it
//   --trace               print every trace line as it happens (with --seed)
//   --messages            trace every network message (with --seed)
//   --window S            seconds of trace shown before a violation (default 3)
//   --twice               run the seed twice and compare the trace digests (determinism)
//   --json                one JSON line per seed (campaign) / the result (single seed)
//   --reads-per-process   a local read may see an older state after its member restarted
//                         (default: never, per machine, as etcd serves only once caught up)
//   --history             print the client history (with --seed)
//   --debug               member debug logs in the trace (with --seed)
//   --keep-going          do not stop at the first violation (run every check)
//
// A failure prints the seed, the fault schedule and the exact command that replays it.
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { describeOperation } from "../check/history.ts";
import type { FaultKind } from "./nemesis.ts";
import { fmtTime } from "./scheduler.ts";
import { describeConfig, runSimulation, type SimOptions, type SimResult } from "./simulation.ts";

interface Args {
  seed?: number;
  seeds?: number;
  start: number;
  minutes?: number;
  jobs: number;
  durationS?: number;
  size?: number;
  faults?: FaultKind[];
  figure8: boolean;
  unsafe: boolean;
  trace: boolean;
  messages: boolean;
  windowS: number;
  twice: boolean;
  json: boolean;
  history: boolean;
  readsPerProcess: boolean;
  debug: boolean;
  keepGoing: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { start: 1, jobs: availableParallelism(), figure8: false, unsafe: false, trace: false, messages: false, windowS: 3, twice: false, json: false, history: false, readsPerProcess: false, debug: false, keepGoing: false };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${f} needs a value`);
      return v;
    };
    switch (f) {
      case "--seed": a.seed = Number(val()); break;
      case "--seeds": a.seeds = Number(val()); break;
      case "--start": a.start = Number(val()); break;
      case "--minutes": a.minutes = Number(val()); break;
      case "--jobs": a.jobs = Math.max(1, Number(val())); break;
      case "--duration": a.durationS = Number(val()); break;
      case "--size": a.size = Number(val()); break;
      case "--faults": a.faults = val().split(",").filter((x) => x !== "") as FaultKind[]; break;
      case "--figure8": a.figure8 = true; break;
      case "--unsafe": a.unsafe = true; break;
      case "--trace": a.trace = true; break;
      case "--messages": a.messages = true; break;
      case "--window": a.windowS = Number(val()); break;
      case "--twice": a.twice = true; break;
      case "--json": a.json = true; break;
      case "--history": a.history = true; break;
      case "--reads-per-process": a.readsPerProcess = true; break;
      case "--debug": a.debug = true; break;
      case "--keep-going": a.keepGoing = true; break;
      default: throw new Error(`unknown option ${f} (see test/sim/run.ts)`);
    }
  }
  return a;
}

/** The options that decide a run (everything the replay command must repeat). */
function simOptions(a: Args, seed: number): SimOptions {
  const o: SimOptions = { seed };
  if (a.durationS !== undefined) o.durationMs = a.durationS * 1000;
  if (a.size !== undefined) o.size = a.size;
  if (a.faults !== undefined) o.faults = a.faults;
  if (a.figure8) o.figure8 = true;
  if (a.unsafe) o.raft = { unsafeCommitOldTerms: true, maxSizePerMsg: 1 };
  if (a.readsPerProcess) o.readViewPer = "process";
  if (a.keepGoing) o.stopOnViolation = false;
  return o;
}

export function replayCommand(o: SimOptions): string {
  const parts = ["npm run sim --", `--seed ${o.seed}`];
  if (o.durationMs !== undefined) parts.push(`--duration ${o.durationMs / 1000}`);
  if (o.size !== undefined) parts.push(`--size ${o.size}`);
  if (o.faults !== undefined) parts.push(`--faults ${o.faults.join(",")}`);
  if (o.figure8) parts.push("--figure8");
  if (o.raft?.unsafeCommitOldTerms) parts.push("--unsafe");
  if (o.readViewPer === "process") parts.push("--reads-per-process");
  if (o.stopOnViolation === false) parts.push("--keep-going");
  return parts.join(" ");
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** The report of a failed (or replayed) seed. */
export function report(r: SimResult, o: SimOptions, windowS = 3): string {
  const out: string[] = [];
  out.push(`seed ${r.seed}: ${r.ok ? "ok" : `${r.violations.length} violation(s)`}`);
  out.push(`config: ${describeConfig(r.config)}`);
  out.push(`fault schedule:`);
  for (const f of r.faults) out.push(`  ${fmtTime(f.time)} ${f.kind} ${f.detail}`);
  if (r.faults.length === 0) out.push("  (none)");
  const v = r.violations[0];
  const at = v ? (v.focus ?? v.time) : 0;
  const lines = v ? r.trace.filter((l) => l.time >= at - windowS * 1000) : r.trace.slice(-60);
  out.push(!v ? "trace (last lines):" : v.focus !== undefined ? `trace (${windowS} s before the operation the first violation names, at ${fmtTime(v.focus)}):` : `trace (${windowS} s before the first violation):`);
  for (const l of lines) out.push(`  ${fmtTime(l.time)} ${l.text}`);
  for (const x of r.violations) out.push(`VIOLATION ${x.kind} at ${fmtTime(x.time)}: ${x.message}`);
  out.push(summaryLine(r));
  if (!r.ok) out.push(`replay: ${replayCommand(o)}`);
  return out.join("\n");
}

function summaryLine(r: SimResult): string {
  const c = r.checks;
  return `seed ${r.seed}: ${fmtTime(r.simulatedMs)} simulated in ${(r.wallMs / 1000).toFixed(1)} s, ${fmtInt(r.events)} events, ` +
    `${r.ops} ops (${r.opsOk} ok, ${r.opsUnknown} unknown; linearizability ${c.linearizability} over ${c.opsChecked} ops in ${c.linearizabilityMs.toFixed(0)} ms), ` +
    `${c.watchesChecked} watches/${c.watchEventsChecked} events, raft index ${r.maxRaftIndex}, ${c.entriesChecked} entry cross-checks, ${c.terms} terms, ` +
    `${r.faultsInjected} faults (${r.crashes} crashes), ${r.snapshotsSent} snapshots sent, digest ${r.traceDigest}`;
}

// ---- campaign

export interface SeedSummary {
  seed: number;
  ok: boolean;
  simulatedMs: number;
  wallMs: number;
  ops: number;
  opsChecked: number;
  linearizability: string;
  faults: number;
  faultsByKind: Partial<Record<string, number>>;
  crashes: number;
  snapshots: number;
  watchEvents: number;
  entriesChecked: number;
  violations: { kind: string; message: string; time: number }[];
  report?: string;
  digest: string;
}

export async function runOne(o: SimOptions): Promise<SeedSummary> {
  let r: SimResult;
  try {
    r = await runSimulation({ checkTimeoutMs: 10_000, ...o });
  } catch (e) {
    return {
      seed: o.seed, ok: false, simulatedMs: 0, wallMs: 0, ops: 0, opsChecked: 0, linearizability: "skipped", faults: 0, faultsByKind: {},
      crashes: 0, snapshots: 0, watchEvents: 0, entriesChecked: 0, digest: "",
      violations: [{ kind: "harness", message: String((e as Error)?.stack ?? e), time: 0 }],
      report: `seed ${o.seed}: the simulator itself failed: ${String((e as Error)?.stack ?? e)}\nreplay: ${replayCommand(o)}`,
    };
  }
  return {
    seed: r.seed, ok: r.ok, simulatedMs: r.simulatedMs, wallMs: r.wallMs, ops: r.ops, opsChecked: r.checks.opsChecked,
    linearizability: r.checks.linearizability, faults: r.faultsInjected, faultsByKind: r.faultsByKind, crashes: r.crashes,
    snapshots: r.snapshotsSent, watchEvents: r.checks.watchEventsChecked, entriesChecked: r.checks.entriesChecked,
    violations: r.violations.map((v) => ({ kind: v.kind, message: v.message.split("\n").slice(0, 2).join(" ").slice(0, 400), time: v.time })),
    report: r.ok ? undefined : report(r, o),
    digest: r.traceDigest,
  };
}

/**
 * Runs seeds on `jobs` worker threads (each seed in a fresh simulation; workers reuse their
 * process). `next` hands out the options of the next seed, or null when done; `done` gets
 * each summary as it comes. Resolves when every worker has finished.
 */
export function runInWorkers(jobs: number, next: () => SimOptions | null, done: (s: SeedSummary) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let running = 0;
    const feed = (w: Worker): void => {
      const o = next();
      if (o === null) {
        void w.terminate();
        if (--running === 0) resolve();
        return;
      }
      w.postMessage(o);
    };
    for (let i = 0; i < jobs; i++) {
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: { worker: true } });
      running++;
      w.on("message", (s: SeedSummary) => {
        done(s);
        feed(w);
      });
      w.on("error", (e: Error) => {
        console.error(`worker error: ${e.stack ?? e}`);
        if (--running === 0) resolve();
      });
      feed(w);
    }
  });
}

async function campaign(a: Args): Promise<number> {
  const total = a.seeds!;
  const deadline = a.minutes !== undefined ? Date.now() + a.minutes * 60_000 : Infinity;
  const t0 = Date.now();
  let next = a.start;
  const end = a.start + total;
  const results: SeedSummary[] = [];
  const jobs = Math.min(a.jobs, total);
  const failures: SeedSummary[] = [];
  let lastProgress = Date.now();
  const progress = (force = false): void => {
    if (!force && Date.now() - lastProgress < 15_000) return;
    lastProgress = Date.now();
    const sim = results.reduce((x, r) => x + r.simulatedMs, 0);
    console.log(`  ... ${results.length} seeds, ${(sim / 3_600_000).toFixed(2)} simulated h, ${fmtInt(results.reduce((x, r) => x + r.opsChecked, 0))} ops checked, ` +
      `${failures.length} failing seeds, ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
  };
  console.log(`campaign: seeds ${a.start}..${end - 1}, ${jobs} worker(s)${a.minutes !== undefined ? `, at most ${a.minutes} min` : ""}; ${replayCommand(simOptions(a, 0)).replace(" --seed 0", "")}`);
  await runInWorkers(
    jobs,
    () => (next >= end || Date.now() > deadline ? null : simOptions(a, next++)),
    (s) => {
      results.push(s);
      if (a.json) console.log(JSON.stringify({ ...s, report: undefined }));
      if (!s.ok) {
        failures.push(s);
        console.log(`\nFAILED ${s.report ?? `seed ${s.seed}`}\n`);
      }
      progress();
    },
  );
  progress(true);
  const sim = results.reduce((x, r) => x + r.simulatedMs, 0);
  const ops = results.reduce((x, r) => x + r.ops, 0);
  const checked = results.reduce((x, r) => x + r.opsChecked, 0);
  const faults = results.reduce((x, r) => x + r.faults, 0);
  const crashes = results.reduce((x, r) => x + r.crashes, 0);
  const snaps = results.reduce((x, r) => x + r.snapshots, 0);
  const watchEvents = results.reduce((x, r) => x + r.watchEvents, 0);
  const timeouts = results.filter((r) => r.linearizability === "timeout").length;
  const byKind: Record<string, number> = {};
  for (const r of results) for (const [k, n] of Object.entries(r.faultsByKind)) byKind[k] = (byKind[k] ?? 0) + (n ?? 0);
  const vKinds: Record<string, number> = {};
  for (const f of failures) for (const v of f.violations) vKinds[v.kind] = (vKinds[v.kind] ?? 0) + 1;
  console.log("");
  console.log(`campaign summary: ${results.length} seeds (${a.start}..${a.start + results.length - 1}) in ${((Date.now() - t0) / 60_000).toFixed(1)} min on ${jobs} worker(s)`);
  console.log(`  simulated time:     ${(sim / 3_600_000).toFixed(2)} h (${fmtTime(sim / Math.max(1, results.length))} per seed)`);
  console.log(`  operations:         ${fmtInt(ops)} issued, ${fmtInt(checked)} checked for linearizability (${timeouts} seed(s) hit the checker's time limit)`);
  console.log(`  watch events:       ${fmtInt(watchEvents)} checked`);
  console.log(`  faults injected:    ${fmtInt(faults)} (${Object.entries(byKind).sort().map(([k, n]) => `${k} ${n}`).join(", ")}); ${fmtInt(crashes)} process crashes, ${fmtInt(snaps)} snapshots sent`);
  console.log(`  violations:         ${failures.length === 0 ? "0" : `${failures.length} seed(s): ${Object.entries(vKinds).map(([k, n]) => `${k} ×${n}`).join(", ")}`}`);
  // The first failing seeds of each kind, with their replay commands (every report is above).
  const shown = new Set<number>();
  for (const kind of Object.keys(vKinds)) {
    for (const f of failures.filter((x) => x.violations[0]?.kind === kind).sort((x, y) => x.seed - y.seed).slice(0, 5)) shown.add(f.seed);
  }
  for (const f of failures.filter((x) => shown.has(x.seed)).sort((x, y) => x.seed - y.seed)) {
    console.log(`    seed ${f.seed}: ${f.violations.map((v) => v.kind).join(", ")} — replay: ${replayCommand(simOptions(a, f.seed))}`);
  }
  if (failures.length > shown.size) console.log(`    ... and ${failures.length - shown.size} more failing seeds (reports above)`);
  return failures.length === 0 ? 0 : 1;
}

async function single(a: Args): Promise<number> {
  const o: SimOptions = { ...simOptions(a, a.seed!), echo: a.trace, traceMessages: a.messages, keepTrace: true, traceWindowMs: a.windowS * 1000, traceLevel: a.debug ? "debug" : "info" };
  const r = await runSimulation(o);
  if (a.twice) {
    const r2 = await runSimulation({ ...o, echo: false });
    const same = r2.traceDigest === r.traceDigest && r2.events === r.events;
    console.log(`determinism: ${same ? "same" : "DIFFERENT"} trace digest on a second run (${r.traceDigest} / ${r2.traceDigest}, ${r.events} / ${r2.events} events)`);
    if (!same) return 2;
  }
  if (a.json) {
    console.log(JSON.stringify({ ...r, trace: r.trace.map((l) => `${fmtTime(l.time)} ${l.text}`) }));
  } else {
    console.log(report(r, o, a.windowS));
    if (a.history) {
      console.log("history:");
      for (const op of r.history ?? []) console.log("  " + describeOperation(op));
    }
  }
  return r.ok ? 0 : 1;
}

if (!isMainThread && (workerData as { worker?: boolean } | null)?.worker) {
  parentPort!.on("message", (o: SimOptions) => {
    void runOne(o).then((s) => parentPort!.postMessage(s));
  });
} else if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let a: Args;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  if (a.seed === undefined && a.seeds === undefined) a.seed = 1;
  const code = a.seeds !== undefined ? await campaign(a) : await single(a);
  process.exit(code);
}
