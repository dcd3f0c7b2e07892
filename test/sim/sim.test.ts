// Whole clusters under simulation, for npm test: a fixed set of seeds (each its own mix of
// cluster size, network, workload and faults), run on worker threads, every one of which must
// pass every check (Raft invariants, durability, convergence, linearizability, watches); and
// one seed run twice in this process, which must give the same run bit for bit.
//
// A failing seed prints its fault schedule, the trace before the violation and the command
// that replays it (npm run sim -- --seed N ...). Seeds that once found a bug stay in the list.
//
//   npx tsc -p tsconfig.json && node dist/test/sim/sim.test.js      (SIM_SEEDS=200 for more)
import { availableParallelism } from "node:os";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runInWorkers, type SeedSummary } from "./run.ts";
import { runSimulation, type SimOptions } from "./simulation.ts";

const COUNT = Number(process.env.SIM_SEEDS ?? 60);
/** SIM_READS=process: accept a restarted member answering local reads from an older state. */
const READS = process.env.SIM_READS === "process" ? "process" : "machine";
const JOBS = Math.max(1, Math.min(availableParallelism(), Number(process.env.SIM_JOBS ?? 2)));

/** Seeds 1..COUNT at 20 s of faults each, and a few long ones (more entries, snapshots, membership). */
function seeds(): SimOptions[] {
  const out: SimOptions[] = [];
  for (let seed = 1; seed <= COUNT; seed++) out.push({ seed, durationMs: 20_000 });
  for (const seed of [1001, 1002]) out.push({ seed, durationMs: 90_000, size: 5 });
  out.push({ seed: 1003, durationMs: 60_000, faults: ["crash", "crash-leader", "crash-majority", "disk-fault", "membership", "partition"] });
  out.push({ seed: 1004, durationMs: 60_000, size: 5, faults: ["figure8", "pause", "clock-jump", "swizzle"] });
  // Seeds campaigns found failing, kept once fixed (the campaign's default 30 s of faults):
  //  5010: a member that fell behind never caught up: the leader had joined after what it had
  //        applied, so its answers to that leader were dropped (fixed: remotes, X-PeerURLs).
  // 21237: an entry proposed before a member restarted settled a request of its next run with
  //        the wrong outcome (request IDs repeated across runs; fixed: a per-run ID prefix).
  for (const seed of [5010, 21237]) out.push({ seed, durationMs: 30_000 });
  return out.map((o) => (READS === "process" ? { ...o, readViewPer: "process" } : o));
}

test("the same seed gives the same run, bit for bit (trace digest)", async () => {
  const o: SimOptions = { seed: 42, durationMs: 8000 };
  const a = await runSimulation(o);
  const b = await runSimulation(o);
  assert.is(a.traceDigest, b.traceDigest, "trace digests differ");
  assert.is(a.events, b.events);
  assert.is(a.ops, b.ops);
  assert.ok(a.ops > 0 && a.checks.entriesApplied > 0, "the run did something");
});

test(`fixed seeds: every check passes (${COUNT} + 4 seeds on ${JOBS} workers)`, async () => {
  const list = seeds();
  let i = 0;
  const results: SeedSummary[] = [];
  const t0 = Date.now();
  await runInWorkers(JOBS, () => list[i++] ?? null, (s) => {
    results.push(s);
    if (!s.ok) console.log(`\n${s.report ?? `seed ${s.seed} failed`}\n`);
  });
  const failed = results.filter((r) => !r.ok).sort((a, b) => a.seed - b.seed);
  const sim = results.reduce((a, r) => a + r.simulatedMs, 0);
  const ops = results.reduce((a, r) => a + r.opsChecked, 0);
  const faults = results.reduce((a, r) => a + r.faults, 0);
  console.log(`  ${results.length} seeds: ${(sim / 3_600_000).toFixed(2)} simulated h, ${ops} ops checked, ${faults} faults, ` +
    `${failed.length} failing, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  assert.is(results.length, list.length, "every seed ran");
  assert.ok(results.some((r) => r.snapshots > 0) || results.some((r) => r.faultsByKind["crash"]), "the seeds exercise crashes or snapshots");
  assert.equal(
    failed.map((f) => `seed ${f.seed}: ${f.violations.map((v) => `${v.kind}: ${v.message}`).join("; ")}`),
    [],
    "violations (each report above has the replay command)",
  );
});

test.run();
