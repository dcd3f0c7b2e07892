// Runtime reconfiguration: add a member (POST /v2/members, then start it with
// --initial-cluster-state existing and the full --initial-cluster), then remove one
// (DELETE /v2/members/<id>): the member list on every member follows, and the removed
// process exits by itself.
//
//   npx tsc -p tsconfig.json && CLUSTER_TARGETS=etcd node dist/test/cluster/membership.test.js
//
// The added member runs on the first target of CLUSTER_TARGETS (CLUSTER_ADD_TARGET overrides).
//
// etcd 3.4.23 behaviour relied on:
// - POST /v2/members {"peerURLs":[u]} -> 201 {"id","name":"","peerURLs":[u],"clientURLs":[]}.
//   With --strict-reconfig-check (default) it answers 500 while some member has been
//   connected for less than 5 s, so the helper retries for a while;
// - the joined member fetches the membership from its peers, publishes its name and client
//   URLs, and every member then lists 4 members with names and client URLs;
// - DELETE /v2/members/<id> -> 204; a second DELETE -> 410 (member removed / not found);
// - the removed member notices it was removed and shuts itself down (observed: exits within
//   a second or two, exit status 0 is not guaranteed so only the exit is checked).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { req } from "../support/http.ts";
import { eventually, putAnywhere, tryPut } from "../support/cluster.ts";
import type { Cluster } from "../support/cluster.ts";
import { isTargetName } from "../support/processes.ts";
import type { TargetName } from "../support/processes.ts";
import { TARGETS, TARGETS_LABEL, get, quorumGet, withTestCluster } from "./common.ts";

const ADD_TARGET: TargetName = (() => {
  const t = process.env.CLUSTER_ADD_TARGET ?? TARGETS[0]!;
  if (!isTargetName(t)) throw new Error(`CLUSTER_ADD_TARGET: unknown target ${t}`);
  return t;
})();
console.log(`cluster membership on ${TARGETS_LABEL} (added member: ${ADD_TARGET})`);

/** Wait until every running member lists exactly the expected members, all with names and client URLs. */
async function waitMemberLists(c: Cluster, expect: { name: string; id: string; peerURL: string; clientURL: string }[], timeoutMs: number): Promise<void> {
  const want = expect.map((e) => `${e.id} ${e.name} ${e.peerURL} ${e.clientURL}`).sort();
  await eventually(`every member lists ${expect.map((e) => e.name).join(",")}`, timeoutMs, async () => {
    for (const m of c.live) {
      const list = await c.memberList(m);
      const got = list.map((i) => `${i.id} ${i.name} ${i.peerURLs.join("|")} ${i.clientURLs.join("|")}`).sort();
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${m.name} lists ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    return true;
  }, 250);
}

test("add a member at run time, then remove one: member lists follow, the removed process exits", async () => {
  await withTestCluster({ label: "membership" }, async (c) => {
    const leader = await c.waitLeader(20_000);
    await putAnywhere(c.live, "/members/before", "1");

    // ---- add
    const { member: added, response } = await c.addMember(ADD_TARGET, { name: "added4", via: leader, timeoutMs: 20_000 });
    const body = response.json();
    assert.match(body.id, /^[0-9a-f]{1,16}$/, `POST /v2/members answer: ${response.text}`);
    assert.equal(body.peerURLs, [added.peerURL]);
    assert.is(body.name, "", "a member added but not yet started has no name");
    assert.equal(body.clientURLs, []);
    console.log(`  added ${added.name} (${added.target}) id ${added.id}`);
    await waitMemberLists(c, c.current.map((m) => ({ name: m.name, id: m.id!, peerURL: m.peerURL, clientURL: m.clientURL })), 20_000);
    await c.waitLeader(20_000);
    // The new member serves data written before it joined, and takes writes.
    await eventually("the new member has the data written before it joined", 10_000, async () => {
      const r = await quorumGet(added, "/members/before");
      return r.status === 200 && r.json().node.value === "1";
    });
    const w = await tryPut(added, "/members/via-added", "2", 10_000);
    assert.ok(w.ok, `write through the new member: ${w.ok ? "" : w.error}`);
    for (const m of c.live) {
      const r = await quorumGet(m, "/members/via-added");
      assert.is(r.json().node?.value, "2", `${m.name}: ${r.text}`);
    }

    // ---- remove an original follower (through the leader)
    const leader2 = await c.waitLeader(20_000);
    const victim = c.members.find((m) => m !== leader2 && m !== added && !m.removed)!;
    const del = await c.removeMember(victim, { via: leader2 });
    assert.is(del.status, 204, `DELETE /v2/members/${victim.id}: ${del.text}`);
    console.log(`  removed ${victim.name} (${victim.target}) id ${victim.id}`);
    const exited = await c.waitExit(victim, 20_000);
    assert.ok(exited, `${victim.name} was removed but its process did not exit by itself within 20 s`);
    const ex = await victim.exited();
    console.log(`  ${victim.name}'s process exited by itself (code ${ex.code}, signal ${ex.signal})`);
    const again = await req(leader2.clientURL, "DELETE", `/v2/members/${victim.id}`);
    assert.is(again.status, 410, `second DELETE: ${again.status} ${again.text}`);

    await waitMemberLists(c, c.current.map((m) => ({ name: m.name, id: m.id!, peerURL: m.peerURL, clientURL: m.clientURL })), 20_000);
    const after = await c.waitLeader(20_000);
    assert.ok(c.current.includes(after), "the leader is a current member");
    await putAnywhere(c.live, "/members/after", "3");
    for (const m of c.live) {
      const r = await quorumGet(m, "/members/after");
      assert.is(r.json().node?.value, "3", `${m.name}: ${r.text}`);
      const stats = await get(m, "/v2/stats/self");
      assert.is(stats.json().leaderInfo?.leader, after.id);
    }
  });
});

test.run();
