// A member started with the wrong --initial-cluster-token is refused: it lists the running
// cluster's members plus itself in --initial-cluster (state new), but with another token it
// computes other member IDs and another cluster ID, so the peers refuse its messages. It never
// joins, the cluster's member list does not change, and the logs say why.
//
//   npx tsc -p tsconfig.json && CLUSTER_TARGETS=etcd node dist/test/cluster/token.test.js
//
// The intruder runs on the first target of CLUSTER_TARGETS.
//
// etcd 3.4.23 behaviour relied on (observed):
// - the intruder keeps running; its client port accepts connections but never answers
//   (etcd serves clients only once the member has published itself through raft);
//   it logs, many times per second:
//     E | rafthttp: request sent was ignored (cluster ID mismatch: peer[<id>]=<cluster id>, local=<its cluster id>)
//   and "etcdserver: publish error: etcdserver: request timed out";
// - each running member logs: E | rafthttp: request cluster ID mismatch (got <its id> want <ours>);
// - the member list and the leader of the cluster are unchanged, writes keep working.
// Accepted from our members: the same, or the intruder exiting with an error; /health must
// never be 200 on it; "cluster ID mismatch" (any case, "cluster-id"/"clusterID" too) must
// appear in its log or in a peer's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { req } from "../support/http.ts";
import { putAnywhere } from "../support/cluster.ts";
import { sleep } from "../support/processes.ts";
import { TARGETS, TARGETS_LABEL, quorumGet, withTestCluster } from "./common.ts";

const WATCH_MS = 8000;
const MISMATCH_RE = /cluster[ _-]?id[^\n]{0,20}mismatch|mismatch[^\n]{0,40}cluster[ _-]?id/i;
console.log(`cluster wrong-token member on ${TARGETS_LABEL}`);

test("a member with the wrong --initial-cluster-token never joins; member list unchanged; logs say why", async () => {
  await withTestCluster({ label: "token" }, async (c) => {
    const leader = await c.waitLeader(20_000);
    const before = (await c.memberList(leader)).map((i) => `${i.id} ${i.name}`).sort();
    const intruder = await c.startWrongToken(TARGETS[0]!, { name: "intruder" });
    console.log(`  started ${intruder.name} (${intruder.target}) with token ${c.token}-wrong`);

    // For WATCH_MS: the intruder is never healthy, and the cluster's membership never changes.
    const deadline = Date.now() + WATCH_MS;
    let healthAnswers = 0;
    while (Date.now() < deadline) {
      if (intruder.running) {
        try {
          const h = await req(intruder.clientURL, "GET", "/health", { timeoutMs: 1000 });
          healthAnswers++;
          assert.ok(h.status !== 200 || !/"health"\s*:\s*"true"/.test(h.text), `the wrong-token member reports healthy: ${h.status} ${h.text}`);
        } catch {
          /* no answer: etcd does not serve clients before it has joined */
        }
      }
      for (const m of c.members) {
        const now = (await c.memberList(m)).map((i) => `${i.id} ${i.name}`).sort();
        assert.equal(now, before, `${m.name}'s member list changed`);
      }
      await sleep(500);
    }
    const still = await c.waitLeader(10_000);
    assert.is(still, leader, "the leader changed");
    await putAnywhere(c.members, "/token/still-works", "yes");
    for (const m of c.members) {
      const r = await quorumGet(m, "/token/still-works");
      assert.is(r.json().node?.value, "yes");
    }

    const exited = !intruder.running;
    const logs = [intruder, ...c.members].map((m) => ({ m, lines: m.output().split("\n").filter((l) => MISMATCH_RE.test(l)) }));
    for (const { m, lines } of logs) {
      if (lines.length > 0) console.log(`  ${m.name} logged ${lines.length} line(s) like: ${lines[0]!.trim().slice(0, 200)}`);
    }
    console.log(`  intruder ${exited ? "exited" : "still running"}; its /health answered ${healthAnswers} time(s)`);
    assert.ok(logs.some((l) => l.lines.length > 0), `no "cluster ID mismatch" in any log:\n${intruder.output().slice(-3000)}`);
  });
});

test.run();
