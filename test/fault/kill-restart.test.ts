// kill -9 under load on a 3-member cluster of real processes (one member per runtime by default;
// CLUSTER_TARGETS=etcd runs three real etcd 3.4.23 members and proves the test).
//
//   npx tsc -p tsconfig.json && node dist/test/fault/kill-restart.test.js
//   FAULT_SEED=1234 CLUSTER_TARGETS=etcd node dist/test/fault/kill-restart.test.js   (replay a seed)
//
// Five clients do set / CAS / quorum GET / delete on 5 keys against random members (workload.ts)
// while, for ROUNDS rounds, a member is killed with SIGKILL at a random moment (the leader with
// probability 0.4, else any member), left down for a random pause and restarted on its data dir.
// The seed fixes the schedule and the clients' choices (not the timing). At the end: every member
// serves the same tree, quorum reads of every key agree on all members, every acknowledged write
// is present or superseded, and the whole history passes the check in workload.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TARGETS_LABEL, elapsedSince, withTestCluster } from "../cluster/common.ts";
import type { ClusterMember } from "../support/cluster.ts";
import { sleep } from "../support/processes.ts";
import { seededRandom } from "../support/random.ts";
import { Workload, assertAllRunning, assertLinearizable, checkAcknowledgedPresent, convergeAndReadAll, externalCheck } from "./workload.ts";

const SEED = process.env.FAULT_SEED !== undefined ? Number(process.env.FAULT_SEED) : Date.now() % 2_147_483_647;
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 5);
console.log(`fault kill-restart on ${TARGETS_LABEL}, seed ${SEED} (replay: FAULT_SEED=${SEED} CLUSTER_TARGETS=${TARGETS_LABEL} node dist/test/fault/kill-restart.test.js)`);

test("kill -9 random members (sometimes the leader) under load, restart them: members agree, nothing acknowledged is lost, the history is linearizable", async () => {
  await withTestCluster({ label: "fault-kill" }, async (c) => {
    const t0 = Date.now();
    const rnd = seededRandom(SEED);
    await c.waitLeader(20_000);
    const w = new Workload({ members: () => c.members, seed: SEED, clients: 5, keys: 5, prefix: "/fault", timeoutMs: 2000 });
    w.start();
    let lastRestart = 0;
    try {
      await sleep(1000);
      for (let round = 0; round < ROUNDS; round++) {
        await sleep(300 + Math.floor(rnd() * 1700));
        const wantLeader = rnd() < 0.4;
        const any = c.members[Math.floor(rnd() * c.members.length)]!;
        let victim: ClusterMember = any;
        if (wantLeader) victim = (await c.waitLeader(10_000).catch(() => null)) ?? any;
        const pause = 200 + Math.floor(rnd() * 2800);
        assertAllRunning(c.members, `before round ${round + 1}`);
        const before = w.okSince(0, { writes: true }).length;
        await c.kill9(victim);
        const killedAt = w.now();
        console.log(`  round ${round + 1}: killed ${victim.name} (${victim.target})${wantLeader ? " [leader]" : ""} at ${elapsedSince(t0)}, ${before} writes acknowledged so far; down for ${pause} ms`);
        await sleep(pause);
        const t = Date.now();
        await c.restart(victim, 30_000);
        lastRestart = w.now();
        const during = w.okSince(killedAt, { writes: true }).length;
        console.log(`    restarted ${victim.name} in ${Date.now() - t} ms; ${during} writes acknowledged since the kill`);
      }
      await sleep(1500);
    } finally {
      await w.stop();
    }
    const after = w.okSince(lastRestart, { writes: true }).length;
    console.log(`  load stopped at ${elapsedSince(t0)}: ${w.summary()}; ${after} writes acknowledged after the last restart`);
    assert.ok(after > 0, "writes are acknowledged after the last restart");

    assertAllRunning(c.members, "at the end");
    await c.waitLeader(20_000);
    const finals = await convergeAndReadAll(w, c.members);
    const lost = checkAcknowledgedPresent(w.history, finals);
    assert.equal(lost, [], `every acknowledged write is present or superseded:\n  ${lost.join("\n  ")}`);
    const r = assertLinearizable(w, `kill-restart-${SEED}`);
    console.log(`  converged; history check passed (${r.checked} operations with a position, ${r.revealed} unknown writes revealed by reads); ${await externalCheck(w.history)} (${elapsedSince(t0)})`);
  });
});

test.run();
