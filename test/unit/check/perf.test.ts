// Performance of the checker on generated histories. Bounded (every check has a timeout) but not
// timed-asserted: durations are printed. A check that times out fails the test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkLinearizable, lastStats } from "../../check/linearizability.ts";
import { createV2Model, v2Model } from "../../check/model-v2.ts";
import { generate, inject, type GenOptions } from "./generate.ts";

// The generator applies an unknown-outcome op, if at all, within 130 time units of its invoke.
const windowed = createV2Model({ unknownWithin: 200 });

function measure(label: string, g: GenOptions, anomaly = false, stripIndexes = false, model = v2Model): void {
  const gen = generate(g);
  let h = gen.history;
  if (anomaly) h = inject(gen, "stale-read", g.seed) ?? h;
  if (stripIndexes) {
    // As if X-Etcd-Index and error indexes had not been recorded.
    h = h.map((o) => {
      const r = { ...o.result };
      if (r.type === "ok") delete r.etcdIndex;
      if (r.type === "error") delete r.index;
      return { ...o, result: r };
    });
  }
  const unknown = h.filter((o) => o.result.type === "unknown" || (o.result.type === "error" && o.result.code === 300)).length;
  const t0 = performance.now();
  const r = checkLinearizable(h, model, { timeoutMs: 60_000 });
  const ms = performance.now() - t0;
  console.log(
    `  ${label}: ${h.length} ops (${unknown} unknown), ${g.keys} keys, ${g.clients} clients -> ${JSON.stringify(r.ok)} in ${ms.toFixed(0)} ms ` +
      `(${lastStats.partitions} partitions, ${lastStats.steps} search steps)`,
  );
  assert.is(r.ok, !anomaly);
}

test("checker performance (durations printed)", () => {
  console.log("");
  measure("brief's case", { seed: 7, ops: 5000, keys: 20, clients: 8, unknownRate: 0.05 });
  measure("brief's case, other seed", { seed: 8, ops: 5000, keys: 20, clients: 8, unknownRate: 0.05 });
  measure("10% unknown", { seed: 9, ops: 5000, keys: 20, clients: 8, unknownRate: 0.1 });
  measure("20k ops", { seed: 10, ops: 20000, keys: 20, clients: 8, unknownRate: 0.05 });
  measure("one hot key", { seed: 11, ops: 2000, keys: 1, clients: 8, unknownRate: 0.05 });
  measure("one hot key, 16 clients", { seed: 12, ops: 2000, keys: 1, clients: 16, unknownRate: 0.05 });
  measure("one hot key, 10% unknown, 10% TTL", { seed: 13, ops: 3000, keys: 1, clients: 8, unknownRate: 0.1, ttlRate: 0.1 });
  measure("brief's case, no X-Etcd-Index recorded", { seed: 7, ops: 5000, keys: 20, clients: 8, unknownRate: 0.05 }, false, true);
  measure("one hot key, no X-Etcd-Index recorded", { seed: 11, ops: 2000, keys: 1, clients: 8, unknownRate: 0.05 }, false, true);
  measure("brief's case with a stale read (incl. minimizing)", { seed: 7, ops: 5000, keys: 20, clients: 8, unknownRate: 0.05 }, true);
  // Proving a failure means exhausting every placement of the unknown outcomes before it: the
  // hardest case. (2000 ops on one key without the window: about 10 s.)
  measure("one hot key with a stale read", { seed: 4, ops: 1000, keys: 1, clients: 8, unknownRate: 0.05 }, true);
  measure("one hot key with a stale read, unknownWithin 200", { seed: 2, ops: 2000, keys: 1, clients: 8, unknownRate: 0.05 }, true, false, windowed);
  measure("one hot key, 10% unknown, 10% TTL, unknownWithin 200", { seed: 13, ops: 3000, keys: 1, clients: 8, unknownRate: 0.1, ttlRate: 0.1 }, false, false, windowed);
});

test.run();
