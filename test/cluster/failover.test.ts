// kill -9 the leader under a stream of writes from several clients: a new leader is elected,
// the stream resumes (clients retry on other members), no acknowledged write is lost, and the
// old leader restarts on its data dir and catches up (the same data on all members).
//
//   npx tsc -p tsconfig.json && CLUSTER_TARGETS=etcd node dist/test/cluster/failover.test.js
//
// Each client c writes /failover/c<c>/k<i> = v<i> sequentially (i = 0, 1, ...). A request that
// fails (connection refused, timeout, 5xx) is retried with the same key and value on the next
// member, so the only uncertainty is whether an unacknowledged attempt was applied, which
// does not matter: the check is that every acknowledged (200/201) write is present on every
// member with its value, at an index >= the acknowledged one.
//
// etcd 3.4.23 behaviour relied on:
// - followers forward v2 writes to the leader; when the leader dies, the followers elect a
//   new one after the election timeout (1 s default; observed ~1-2 s), and writes through
//   them succeed again;
// - /v2/members/leader names the leader; a restarted member rejoins on its old data dir
//   (the --initial-* flags are ignored once member/wal exists) and catches up from the leader.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, tryPut } from "../support/cluster.ts";
import type { ClusterMember } from "../support/cluster.ts";
import { sleep } from "../support/processes.ts";
import { TARGETS_LABEL, elapsedSince, flatten, get, treeText, withTestCluster } from "./common.ts";

const CLIENTS = 6;
/** Writes before the kill, at least (or after PRE_KILL_MS, whichever is later). */
const PRE_KILL_ACKS = 150;
const PRE_KILL_MS = 1500;
/** After the kill, every client must get this many acknowledgements... */
const POST_KILL_ACKS_PER_CLIENT = 20;
/** ... within this long. */
const POST_KILL_LIMIT_MS = 25_000;
console.log(`cluster failover on ${TARGETS_LABEL}`);

interface Ack {
  key: string;
  value: string;
  modifiedIndex: number;
  at: number;
}

test("kill -9 the leader under writes: new leader, the stream resumes, no acknowledged write lost, the old leader catches up", async () => {
  await withTestCluster({ label: "failover" }, async (c) => {
    const oldLeader = await c.waitLeader(20_000);
    const members = [...c.members];
    const acks: Ack[] = [];
    const errors: string[] = [];
    let stop = false;
    let killedAt = 0;

    async function client(id: number): Promise<void> {
      let i = 0;
      let target = id % members.length;
      while (!stop) {
        const key = `/failover/c${id}/k${i}`;
        const value = `v${i}`;
        const m: ClusterMember = members[target]!;
        const a = await tryPut(m, key, value, 3000);
        if (a.ok) {
          acks.push({ key, value, modifiedIndex: a.res.json().node.modifiedIndex, at: Date.now() });
          i++;
        } else {
          if (errors.length < 200) errors.push(`c${id} ${m.name} ${key}: ${a.error}`);
          target = (target + 1) % members.length; // retry the same write on the next member
          await sleep(50);
        }
      }
    }

    const t0 = Date.now();
    const clients = Array.from({ length: CLIENTS }, (_, id) => client(id));
    try {
      await eventually(`${PRE_KILL_ACKS} writes acknowledged before the kill`, 20_000, async () => acks.length >= PRE_KILL_ACKS && Date.now() - t0 >= PRE_KILL_MS);
      const acksAtKill = acks.length;
      killedAt = Date.now();
      await c.kill9(oldLeader);
      console.log(`  killed leader ${oldLeader.name} (${oldLeader.target}) after ${acksAtKill} acknowledged writes`);

      const survivors = c.live;
      const newLeader = await c.waitLeader(20_000, survivors);
      assert.is.not(newLeader, oldLeader);
      console.log(`  new leader ${newLeader.name} (${newLeader.target}) after ${elapsedSince(killedAt)}`);

      await eventually(`every client gets ${POST_KILL_ACKS_PER_CLIENT} acknowledgements after the kill`, POST_KILL_LIMIT_MS, async () => {
        const after = new Map<string, number>();
        for (const a of acks) {
          if (a.at <= killedAt) continue;
          const cl = a.key.split("/")[2]!;
          after.set(cl, (after.get(cl) ?? 0) + 1);
        }
        return after.size === CLIENTS && [...after.values()].every((n) => n >= POST_KILL_ACKS_PER_CLIENT);
      }, 200);
      console.log(`  stream resumed: ${acks.filter((a) => a.at > killedAt).length} writes acknowledged after the kill (${elapsedSince(killedAt)}); ${errors.length} failed attempts in all`);
      for (const e of errors.slice(0, 4)) console.log(`    e.g. ${e.slice(0, 200)}`);
    } finally {
      stop = true;
      await Promise.all(clients);
    }

    // The old leader comes back on its data dir and catches up.
    await c.restart(oldLeader);
    const leader = await c.waitLeader(20_000);
    console.log(`  ${oldLeader.name} restarted; leader ${leader.name}; ${acks.length} acknowledged writes to check`);
    const maxIndex = Math.max(...acks.map((a) => a.modifiedIndex));
    // A quorum read on the leader first, then wait until every member's plain view is the same.
    const reference = await treeText(leader, "/failover", true);
    assert.ok(reference.index >= maxIndex, `leader index ${reference.index} < highest acknowledged ${maxIndex}`);
    await eventually("every member holds the same /failover tree", 20_000, async () => {
      const trees = await Promise.all(c.members.map((m) => treeText(m, "/failover", false)));
      const bad = trees.map((t, i) => (t.text === reference.text ? null : `${c.members[i]!.name}: ${t.count} nodes at index ${t.index}`)).filter((x) => x !== null);
      if (bad.length > 0) throw new Error(`differs from the leader's (${reference.count} nodes): ${bad.join("; ")}`);
      return true;
    }, 250);

    for (const m of c.members) {
      const tree = flatten(JSON.parse((await treeText(m, "/failover", false)).text));
      const lost: string[] = [];
      for (const a of acks) {
        const got = tree.get(a.key);
        if (!got || got.value !== a.value || got.modifiedIndex < a.modifiedIndex) {
          lost.push(`${a.key}=${a.value}@${a.modifiedIndex} -> ${got ? `${got.value}@${got.modifiedIndex}` : "missing"}`);
        }
      }
      assert.is(lost.length, 0, `${m.name}: ${lost.length} acknowledged writes lost or changed: ${lost.slice(0, 10).join(", ")}`);
    }
    // The restarted member also serves writes again.
    const w = await tryPut(oldLeader, "/failover/after-restart", "ok", 10_000);
    assert.ok(w.ok, `a write through the restarted ${oldLeader.name}: ${w.ok ? "" : w.error}`);
    const r = await get(oldLeader, "/v2/keys/failover/after-restart", { quorum: true });
    assert.is(r.json().node?.value, "ok");
  });
});

test.run();
