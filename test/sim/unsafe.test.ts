// Proof that the simulation catches a broken Raft: with core/raft's test-only
// unsafeCommitOldTerms switch on (a leader commits entries of earlier terms by counting
// replicas: the bug of Figure 8 in the Raft paper) and one entry per append message, the
// adaptive figure8 fault schedule (nemesis.ts) steers elections and partial replication into
// the Figure 8 situation; a committed entry then changes, and the continuous invariant
// ("committed entries never change") must report it within a bounded number of seeds.
// The same schedule with the switch off is the control: no such violation.
//
//   npx tsc -p tsconfig.json && node dist/test/sim/unsafe.test.js
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runSimulation, type SimOptions, type SimResult } from "./simulation.ts";

/** Violations that mean a safety property broke (what the unsafe switch must produce). */
const SAFETY = new Set(["committed-entry-changed", "apply-diverged", "durability", "linearizability", "final-state", "election-safety"]);
/** Seeds tried before giving up. */
const BOUND = 10;

function options(seed: number, unsafe: boolean): SimOptions {
  return {
    seed,
    durationMs: 30_000,
    figure8: true,
    raft: unsafe ? { unsafeCommitOldTerms: true, maxSizePerMsg: 1 } : { maxSizePerMsg: 1 },
    // Keep going after the first violation: every check runs, and the result says which fired.
    stopOnViolation: false,
    skipHistory: false,
    checkTimeoutMs: 5000,
  };
}

function safety(r: SimResult): string[] {
  return r.violations.filter((v) => SAFETY.has(v.kind)).map((v) => `${v.kind}: ${v.message.split("\n")[0]}`);
}

test(`unsafeCommitOldTerms is caught within ${BOUND} seeds of the figure8 schedule`, async () => {
  let found: { seed: number; what: string[] } | null = null;
  const tried: string[] = [];
  for (let seed = 1; seed <= BOUND && found === null; seed++) {
    const r = await runSimulation(options(seed, true));
    const bad = safety(r);
    tried.push(`seed ${seed}: figure8 completed ${r.figure8Completed}×, ${bad.length} safety violation(s)`);
    if (bad.length > 0) found = { seed, what: bad };
  }
  console.log(`  ${tried.join("\n  ")}`);
  assert.ok(found !== null, `no violation in ${BOUND} seeds:\n${tried.join("\n")}`);
  console.log(`  caught at seed ${found!.seed}: ${found!.what[0]}`);
  assert.ok(found!.what.some((w) => w.startsWith("committed-entry-changed")), "the committed-entry invariant fires");
});

test("control: the same schedule with the switch off breaks no safety property", async () => {
  for (const seed of [2, 3]) {
    const r = await runSimulation(options(seed, false));
    assert.ok(r.faultsByKind.figure8 !== undefined, "the scenario ran");
    const other = r.violations.filter((v) => !SAFETY.has(v.kind));
    if (other.length > 0) console.log(`  (seed ${seed}: other findings, see sim.test: ${other.map((v) => v.kind).join(", ")})`);
    assert.equal(safety(r), [], `seed ${seed}`);
  }
});

test.run();
