// A follower stopped while many writes happen restarts and catches up by snapshot: its log
// shows it received and applied a snapshot from the leader, and its data matches the others.
// Every member runs with --snapshot-count 100.
//
//   npx tsc -p tsconfig.json && CLUSTER_TARGETS=etcd node dist/test/cluster/snapshot.test.js
//   SNAPSHOT_WRITES=8000 ...   (how many writes while the follower is down; default 6000)
//
// etcd 3.4.23 behaviour relied on:
// - with --snapshot-count 100 the leader snapshots every 100 applied entries, but keeps
//   5000 entries of log after each snapshot for slow followers (DefaultSnapshotCatchUpEntries),
//   so a follower must fall more than ~5100 entries behind before it needs a snapshot: hence
//   6000 writes while it is down;
// - the follower's log then shows (capnslog) "[...] starts to restore snapshot [index: N, term: T]"
//   (raft), "receiving database snapshot", "applying snapshot at index N...",
//   "finished applying incoming snapshot at index N"; SNAPSHOT_LOG_RE matches any of these,
//   and similar wording from our members ("received/applying/installed/restored snapshot").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, tryPut } from "../support/cluster.ts";
import type { ClusterMember } from "../support/cluster.ts";
import { TARGETS_LABEL, elapsedSince, etcdIndexOf, treeText, withTestCluster } from "./common.ts";

const WRITES = Number(process.env.SNAPSHOT_WRITES ?? 6000);
const WORKERS = 32;
const WRITE_LIMIT_MS = 45_000;
/** What a member prints when it catches up from a snapshot sent by the leader. */
export const SNAPSHOT_LOG_RE = /starts to restore snapshot|(receiv|appl|install|restor)(e|es|ed|ing)\b[^\n]{0,40}snapshot|snapshot[^\n]{0,40}(received|applied|installed|restored)/i;
console.log(`cluster snapshot catch-up on ${TARGETS_LABEL}: ${WRITES} writes while a follower is stopped`);

test("a follower stopped during many writes restarts and catches up by snapshot", async () => {
  await withTestCluster({ label: "snapshot", extraArgs: ["--snapshot-count", "100"] }, async (c) => {
    const leader = await c.waitLeader(20_000);
    const follower = c.members.find((m) => m !== leader)!;
    for (let i = 0; i < 10; i++) {
      const a = await tryPut(leader, `/snap/before/k${i}`, `b${i}`, 5000);
      assert.ok(a.ok, a.ok ? "" : a.error);
    }
    await eventually(`${follower.name} has the first writes`, 10_000, async () => (await etcdIndexOf(follower)) >= (await etcdIndexOf(leader)));
    await c.stopMember(follower);
    console.log(`  stopped follower ${follower.name} (${follower.target}); leader ${leader.name} (${leader.target})`);

    // Many writes through the two live members.
    const live = c.live;
    const t0 = Date.now();
    let next = 0;
    const failures: string[] = [];
    async function worker(w: number): Promise<void> {
      while (next < WRITES && Date.now() - t0 < WRITE_LIMIT_MS && failures.length < 20) {
        const i = next++;
        const m: ClusterMember = live[w % live.length]!;
        const a = await tryPut(m, `/snap/k${i}`, `value-${i}`, 10_000);
        if (!a.ok) failures.push(`${m.name} /snap/k${i}: ${a.error}`);
      }
    }
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    assert.is(failures.length, 0, `writes failed: ${failures.join("; ")}`);
    assert.ok(next >= WRITES, `only ${next} of ${WRITES} writes in ${WRITE_LIMIT_MS} ms`);
    console.log(`  ${WRITES} writes in ${elapsedSince(t0)}`);

    await c.restart(follower);
    const t1 = Date.now();
    const leaderIndex = await etcdIndexOf(leader);
    await eventually(`${follower.name} catches up to index ${leaderIndex}`, 30_000, async () => (await etcdIndexOf(follower)) >= leaderIndex, 200);
    console.log(`  ${follower.name} restarted and caught up in ${elapsedSince(t1)}`);

    const out = follower.outputSinceStart();
    const lines = out.split("\n").filter((l) => SNAPSHOT_LOG_RE.test(l));
    assert.ok(lines.length > 0, `${follower.name}'s log after the restart does not show a snapshot from the leader:\n${out.slice(-4000)}`);
    for (const l of lines.slice(0, 5)) console.log(`    ${follower.name}: ${l.trim().slice(0, 200)}`);

    // The same data everywhere: a quorum read on each member, compared node for node.
    const trees = await Promise.all(c.members.map((m) => treeText(m, "/snap", true, 30_000)));
    const ref = trees[0]!;
    assert.ok(ref.count >= WRITES + 10, `only ${ref.count} nodes under /snap`);
    for (const [i, t] of trees.entries()) {
      assert.ok(t.text === ref.text, `${c.members[i]!.name}'s /snap (${t.count} nodes) differs from ${c.members[0]!.name}'s (${ref.count} nodes)`);
    }
    // Spot checks on the restarted member.
    for (const i of [0, Math.floor(WRITES / 2), WRITES - 1]) {
      const r = await tryPut(follower, `/snap/after/k${i}`, "x", 10_000);
      assert.ok(r.ok, r.ok ? "" : r.error);
    }
  });
});

test.run();
