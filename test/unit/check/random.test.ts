import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkLinearizable } from "../../check/linearizability.ts";
import { createV2Model, v2Model } from "../../check/model-v2.ts";
import { generate, inject, type Anomaly } from "./generate.ts";

const VERBOSE = process.env.CHECK_VERBOSE === "1";

test("histories of a correct server are always accepted", () => {
  let unknowns = 0;
  let total = 0;
  for (let seed = 1; seed <= 120; seed++) {
    const g = generate({ seed, ops: 60 + (seed % 7) * 40, keys: 1 + (seed % 5), clients: 2 + (seed % 6), unknownRate: (seed % 4) * 0.05, ttlRate: 0.1 });
    total += g.history.length;
    unknowns += g.history.filter((o) => o.result.type === "unknown" || (o.result.type === "error" && o.result.code === 300)).length;
    const r = checkLinearizable(g.history, v2Model, { timeoutMs: 20_000 });
    if (r.ok !== true) assert.unreachable(`seed ${seed}: ${JSON.stringify(r.ok)} ${"explanation" in r ? "\n" + r.explanation : ""}`);
  }
  if (VERBOSE) console.log(`${total} ops, ${unknowns} unknown`);
});

// The generator applies an unknown-outcome op, if at all, within 130 time units of its invoke.
const windowed = createV2Model({ unknownWithin: 200 });

test("larger histories with many unknown outcomes and TTLs are accepted", () => {
  for (let seed = 500; seed < 506; seed++) {
    const g = generate({ seed, ops: 1500, keys: 5, clients: 8, unknownRate: 0.1, ttlRate: 0.15 });
    for (const m of [v2Model, windowed]) {
      const r = checkLinearizable(g.history, m, { timeoutMs: 20_000 });
      if (r.ok !== true) assert.unreachable(`seed ${seed}: ${JSON.stringify(r.ok)} ${"explanation" in r ? "\n" + r.explanation : ""}`);
    }
  }
});

const anomalies: [Anomaly, string[]][] = [
  ["stale-read", ["linearizability"]],
  ["phantom-read", ["linearizability"]],
  ["duplicate-index", ["index-unique"]],
  ["index-order", ["index-order"]],
  ["time-travel", ["linearizability"]],
  ["plain-regress", ["plain-read"]],
];

for (const [kind, kinds] of anomalies) {
  test(`one injected anomaly is rejected: ${kind}`, () => {
    let tried = 0;
    for (let seed = 1; tried < 25 && seed < 200; seed++) {
      const g = generate({ seed, ops: 150 + (seed % 5) * 50, keys: 1 + (seed % 4), clients: 3 + (seed % 5), unknownRate: 0.05 });
      // The unmodified history passes...
      const base = checkLinearizable(g.history, v2Model, { timeoutMs: 20_000 });
      assert.is(base.ok, true, `seed ${seed} base`);
      const h = inject(g, kind, seed);
      if (h === null) continue;
      tried++;
      // ...and with the anomaly it fails (with or without the unknown-outcome window).
      const r = checkLinearizable(h, seed % 2 ? v2Model : windowed, { timeoutMs: 20_000 });
      if (r.ok !== false) {
        assert.unreachable(`seed ${seed}: ${kind} not detected (${JSON.stringify(r)})`);
        return;
      }
      assert.ok(kinds.includes(r.kind), `seed ${seed}: ${kind} reported as ${r.kind}:\n${r.explanation}`);
      if (VERBOSE && tried === 1) console.log(`--- ${kind}\n${r.explanation}\n`);
    }
    assert.ok(tried >= 10, `only ${tried} histories had room for ${kind}`);
  });
}

test("a server that loses updates (CAS against a stale copy) is caught", () => {
  let tried = 0;
  for (let seed = 1; tried < 25 && seed < 300; seed++) {
    const g = generate({ seed, ops: 200, keys: 2, clients: 5, unknownRate: 0.05, bug: "lost-update" });
    if (!g.bugInjected) continue;
    tried++;
    const r = checkLinearizable(g.history, v2Model, { timeoutMs: 20_000 });
    if (r.ok !== false) {
      assert.unreachable(`seed ${seed}: lost update not detected (${JSON.stringify(r)})`);
      return;
    }
    assert.is(r.kind, "linearizability", r.explanation);
    if (VERBOSE && tried === 1) console.log(`--- lost update\n${r.explanation}\n`);
  }
  assert.ok(tried >= 10, `only ${tried} histories had the bug`);
});

test.run();
