// SIGSTOP the leader for longer than the election timeout, then SIGCONT it, under load, on a
// 3-member cluster of real processes (one member per runtime by default; CLUSTER_TARGETS=etcd
// runs three real etcd 3.4.23 members and proves the test).
//
//   npx tsc -p tsconfig.json && node dist/test/fault/pause.test.js
//   FAULT_SEED=1234 CLUSTER_TARGETS=node node dist/test/fault/pause.test.js
//
// Each round: find the leader, stop it (SIGSTOP) for PAUSE_MS (3 s; the election timeout is 1 s),
// resume it (SIGCONT). While it is stopped the other two must elect a new leader and keep
// acknowledging writes; once resumed the old leader must step down (its /v2/stats/self says
// StateFollower and names the new leader). A monitor samples every member every ~100 ms:
// X-Raft-Term (from a plain GET /v2/keys/), /v2/stats/self, X-Raft-Term again; a sample with
// state StateLeader and the same term before and after says "leader in that term". Two members
// leader in the same term (each in two samples or more) is a violation. The client history (workload.ts) is checked at the
// end, which also catches two leaders committing (two writes at one index, stale reads, ...).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TARGETS_LABEL, elapsedSince, withTestCluster } from "../cluster/common.ts";
import type { ClusterMember } from "../support/cluster.ts";
import { sleep } from "../support/processes.ts";
import { seededRandom } from "../support/random.ts";
import { Workload, assertAllRunning, assertLinearizable, checkAcknowledgedPresent, convergeAndReadAll, externalCheck, waitCaughtUp } from "./workload.ts";

const SEED = process.env.FAULT_SEED !== undefined ? Number(process.env.FAULT_SEED) : Date.now() % 2_147_483_647;
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 3);
const PAUSE_MS = Number(process.env.FAULT_PAUSE_MS ?? 3000);
const MAX_PAUSE_MS = 10_000;
console.log(`fault pause on ${TARGETS_LABEL}, seed ${SEED} (replay: FAULT_SEED=${SEED} CLUSTER_TARGETS=${TARGETS_LABEL} node dist/test/fault/pause.test.js)`);

interface Sample {
  member: string;
  at: number;
  term: number;
  state: string;
  leader: string;
}

/** Samples every member's role and term until stopped. */
class Monitor {
  readonly samples: Sample[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];
  private readonly t0 = Date.now();

  constructor(private readonly members: ClusterMember[]) {}

  private async term(m: ClusterMember): Promise<number> {
    const r = await fetch(`${m.clientURL}/v2/keys/`, { signal: AbortSignal.timeout(400) });
    await r.text();
    const t = r.headers.get("x-raft-term");
    if (t === null) throw new Error("no X-Raft-Term");
    return Number(t);
  }

  private async loop(m: ClusterMember): Promise<void> {
    while (!this.stopping) {
      try {
        const t1 = await this.term(m);
        const r = await fetch(`${m.clientURL}/v2/stats/self`, { signal: AbortSignal.timeout(400) });
        const s = (await r.json()) as { state?: string; leaderInfo?: { leader?: string } };
        const t2 = await this.term(m);
        if (t1 === t2) this.samples.push({ member: m.name, at: Date.now() - this.t0, term: t1, state: String(s.state), leader: String(s.leaderInfo?.leader ?? "") });
      } catch {
        /* stopped, dead or slow: no sample */
      }
      await sleep(100);
    }
  }

  start(): void {
    this.loops = this.members.map((m) => this.loop(m));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  /**
   * Terms in which two members said they were the leader, each in at least two samples (the term
   * and the role are read by separate requests, so one sample taken while a member changes role
   * proves little; a real second leader in a term does not vanish within 100 ms).
   */
  doubleLeaders(): string[] {
    const byTerm = new Map<number, Map<string, Sample[]>>();
    for (const s of this.samples) {
      if (s.state !== "StateLeader") continue;
      let m = byTerm.get(s.term);
      if (!m) byTerm.set(s.term, (m = new Map()));
      const list = m.get(s.member) ?? [];
      list.push(s);
      m.set(s.member, list);
    }
    const out: string[] = [];
    for (const [term, m] of byTerm) {
      const claims = [...m.entries()].filter(([, list]) => list.length >= 2);
      if (claims.length > 1) out.push(`term ${term}: ${claims.map(([name, list]) => `${name} (${list.length} samples, ${list[0]!.at}..${list[list.length - 1]!.at} ms)`).join(" and ")}`);
    }
    return out;
  }

  leaderTerms(): string {
    const seen = new Map<number, string>();
    for (const s of this.samples) if (s.state === "StateLeader" && !seen.has(s.term)) seen.set(s.term, s.member);
    return [...seen].map(([t, m]) => `${t}:${m}`).join(" ");
  }
}

test("SIGSTOP the leader past the election timeout, SIGCONT it: a new leader meanwhile, the old one steps down, one leader per term, linearizable history", async () => {
  await withTestCluster({ label: "fault-pause" }, async (c) => {
    const t0 = Date.now();
    const rnd = seededRandom(SEED);
    await c.waitLeader(20_000);
    const w = new Workload({ members: () => c.members, seed: SEED, clients: 5, keys: 5, prefix: "/fault", timeoutMs: 2000 });
    const mon = new Monitor(c.members);
    mon.start();
    w.start();
    let paused: ClusterMember | null = null;
    try {
      await sleep(1000);
      for (let round = 0; round < ROUNDS; round++) {
        await sleep(300 + Math.floor(rnd() * 1200));
        assertAllRunning(c.members, `before round ${round + 1}`);
        const old = await c.waitLeader(20_000);
        await waitCaughtUp(old, c.members);
        const others = c.members.filter((m) => m !== old);
        paused = old;
        old.pause();
        const pausedAt = w.now();
        const pausedWall = Date.now();
        console.log(`  round ${round + 1}: SIGSTOP leader ${old.name} (${old.target}, id ${old.id}) at ${elapsedSince(t0)} (${new Date().toISOString()})`);
        // A new leader among the others, serving writes, while the old one is stopped (at least
        // PAUSE_MS; longer, up to MAX_PAUSE_MS, until that happened: the election alone may take
        // up to 2 election timeouts, plus the time to see it).
        const deadline = pausedWall + MAX_PAUSE_MS;
        let newLeader: ClusterMember | null = null;
        while (Date.now() < deadline && newLeader === null) {
          newLeader = await c.waitLeader(Math.max(100, Math.min(1000, deadline - Date.now())), others).catch(() => null);
        }
        const electedAfter = Date.now() - pausedWall;
        const probe = newLeader ? await w.probeWrite(newLeader, deadline) : null;
        const probeAfter = Date.now() - pausedWall;
        await sleep(Math.max(0, PAUSE_MS - (Date.now() - pausedWall)));
        const acksWhilePaused = w.okSince(pausedAt, { writes: true, via: others.map((m) => m.name) }).length;
        old.resume();
        paused = null;
        const resumedAt = Date.now();
        assertAllRunning(others, `round ${round + 1}`);
        assert.ok(newLeader !== null, `round ${round + 1}: ${others.map((m) => m.name).join(", ")} agreed on no leader within ${MAX_PAUSE_MS} ms of stopping ${old.name}`);
        assert.ok(probe !== null, `round ${round + 1}: the new leader ${newLeader!.name} acknowledged no write within ${MAX_PAUSE_MS} ms of stopping ${old.name}`);
        console.log(`    ${newLeader!.name} (${newLeader!.target}) seen as leader ${electedAfter} ms into the pause, first probe write acknowledged at ${probeAfter} ms; ` +
          `${acksWhilePaused} writes acknowledged through the others while ${old.name} was stopped; SIGCONT after ${resumedAt - pausedWall} ms`);
        // The old leader steps down and follows.
        let last = "";
        for (;;) {
          try {
            const r = await fetch(`${old.clientURL}/v2/stats/self`, { signal: AbortSignal.timeout(1000) });
            const s = (await r.json()) as { state?: string; leaderInfo?: { leader?: string } };
            last = JSON.stringify(s);
            if (s.state === "StateFollower" && s.leaderInfo?.leader && s.leaderInfo.leader !== old.id) break;
          } catch (err) {
            last = String((err as Error)?.message ?? err);
          }
          if (Date.now() - resumedAt > 10_000) {
            assertAllRunning(c.members, `round ${round + 1}, after SIGCONT`);
            assert.unreachable(`round ${round + 1}: ${old.name} did not step down within 10 s of SIGCONT (last /v2/stats/self: ${last})`);
          }
          await sleep(50);
        }
        const leader = await c.waitLeader(10_000).catch((err) => {
          assertAllRunning(c.members, `round ${round + 1}, after SIGCONT`);
          throw err;
        });
        console.log(`    ${old.name} follows again ${Date.now() - resumedAt} ms after SIGCONT; leader ${leader.name}`);
      }
      await sleep(1000);
    } finally {
      if (paused) paused.resume();
      await w.stop();
      await mon.stop();
    }
    console.log(`  load stopped at ${elapsedSince(t0)}: ${w.summary()}; ${mon.samples.length} role samples, leaders by term: ${mon.leaderTerms()}`);
    const doubles = mon.doubleLeaders();
    assert.equal(doubles, [], `two leaders in one term:\n  ${doubles.join("\n  ")}`);

    assertAllRunning(c.members, "at the end");
    await c.waitLeader(20_000);
    const finals = await convergeAndReadAll(w, c.members);
    const lost = checkAcknowledgedPresent(w.history, finals);
    assert.equal(lost, [], `every acknowledged write is present or superseded:\n  ${lost.join("\n  ")}`);
    const r = assertLinearizable(w, `pause-${SEED}`);
    console.log(`  converged; history check passed (${r.checked} operations with a position, ${r.revealed} unknown writes revealed by reads); ${await externalCheck(w.history)} (${elapsedSince(t0)})`);
  });
});

test.run();
