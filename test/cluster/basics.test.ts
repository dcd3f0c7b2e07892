// A 3-member cluster, one member per target (CLUSTER_TARGETS, default node,bun,deno):
// membership and leader APIs agree on every member, a write through any member is readable
// on all, and a watch on one member sees writes made through another.
//
//   npx tsc -p tsconfig.json && CLUSTER_TARGETS=etcd node dist/test/cluster/basics.test.js
//
// etcd 3.4.23 behaviour relied on (checked with CLUSTER_TARGETS=etcd):
// - GET /v2/members: 200 {"members":[{id,name,peerURLs,clientURLs}]}, ids in lower-case hex;
//   every member returns the same set (etcd sorts by id; here compared as sets).
// - GET /v2/members/leader: 200 with the leader's member object, the same on every member.
// - GET /v2/stats/self: {name,id,state,leaderInfo:{leader,...}}; state "StateLeader" on the
//   leader, "StateFollower" elsewhere.
// - GET /v2/stats/leader: on the leader 200 {"leader":<id>,"followers":{<id>:{latency,counts}}}
//   listing every other member; on a follower 403 {"message":"not current leader"}.
// - X-Etcd-Cluster-Id and X-Raft-Term are the same on every member once idle.
// - Followers forward v2 writes to the leader; ?quorum=true reads are linearizable on any
//   member; plain reads are served locally and catch up shortly.
// - A v2 watch (wait=true) on one member fires for a write made through another, with the
//   same modifiedIndex; waitIndex in the past is answered from the replicated event history.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Watch } from "../support/http.ts";
import { eventually, putAnywhere, tryPut } from "../support/cluster.ts";
import { TARGETS_LABEL, get, quorumGet, sharedCluster } from "./common.ts";

console.log(`cluster basics on ${TARGETS_LABEL}`);
const shared = sharedCluster({ label: "basics" });
test.after(async () => {
  await shared.stop();
});

test("/v2/members lists every member with its name and client URLs, the same on every member", async () => {
  const c = await shared.get();
  await c.check(async () => {
    for (const m of c.members) {
      const r = await get(m, "/v2/members");
      assert.is(r.status, 200, `${r.describe()}: ${r.text}`);
      const list = r.json().members as Array<{ id: string; name: string; peerURLs: string[]; clientURLs: string[] }>;
      assert.is(list.length, c.members.length, `${m.name}: ${r.text}`);
      for (const x of c.members) {
        const info = list.find((i) => i.name === x.name);
        assert.ok(info, `${m.name}: ${x.name} missing from ${r.text}`);
        assert.match(info!.id, /^[0-9a-f]{1,16}$/, `${m.name}: id of ${x.name}`);
        assert.equal(info!.peerURLs, [x.peerURL], `${m.name}: peerURLs of ${x.name}`);
        assert.equal(info!.clientURLs, [x.clientURL], `${m.name}: clientURLs of ${x.name}`);
        assert.is(info!.id, x.id, `${m.name}: id of ${x.name}`);
      }
    }
  });
});

test("every member reports the same leader; /v2/stats/leader on the leader, 403 on followers; /v2/stats/self", async () => {
  const c = await shared.get();
  await c.check(async () => {
    const leader = await c.waitLeader(20_000);
    for (const m of c.members) {
      const r = await get(m, "/v2/members/leader");
      assert.is(r.status, 200, `${r.describe()}: ${r.text}`);
      const info = r.json();
      assert.is(info.id, leader.id, `${m.name} /v2/members/leader`);
      assert.is(info.name, leader.name);
      assert.equal(info.clientURLs, [leader.clientURL]);

      const self = (await get(m, "/v2/stats/self")).json();
      assert.is(self.name, m.name);
      assert.is(self.id, m.id);
      assert.is(self.leaderInfo?.leader, leader.id, `${m.name} /v2/stats/self leaderInfo: ${JSON.stringify(self)}`);
      assert.is(self.state, m === leader ? "StateLeader" : "StateFollower", `${m.name} state`);

      const ls = await get(m, "/v2/stats/leader");
      if (m === leader) {
        assert.is(ls.status, 200, `${ls.describe()}: ${ls.text}`);
        const body = ls.json();
        assert.is(body.leader, leader.id);
        const followers = Object.keys(body.followers ?? {}).sort();
        assert.equal(followers, c.members.filter((x) => x !== leader).map((x) => x.id!).sort(), `followers map: ${ls.text}`);
        for (const f of followers) {
          const s = body.followers[f];
          assert.type(s.latency?.current, "number", `latency of ${f}: ${ls.text}`);
          assert.type(s.counts?.success, "number", `counts of ${f}: ${ls.text}`);
        }
      } else {
        assert.is(ls.status, 403, `${m.name} (follower) ${ls.describe()}: ${ls.text}`);
        assert.equal(ls.json(), { message: "not current leader" });
      }
    }
  });
});

test("X-Etcd-Cluster-Id and X-Raft-Term are equal across members", async () => {
  const c = await shared.get();
  await c.check(async () => {
    await c.waitLeader(20_000);
    await eventually("same X-Raft-Term on every member", 10_000, async () => {
      const rs = await Promise.all(c.members.map((m) => get(m, "/v2/keys/")));
      const ids = rs.map((r) => r.header("x-etcd-cluster-id"));
      const terms = rs.map((r) => r.header("x-raft-term"));
      assert.ok(ids[0] && /^[0-9a-f]+$/.test(ids[0]), `X-Etcd-Cluster-Id ${ids[0]}`);
      assert.ok(ids.every((x) => x === ids[0]), `X-Etcd-Cluster-Id differs: ${ids.join(" ")}`);
      assert.ok(terms[0] && /^\d+$/.test(terms[0]) && Number(terms[0]) >= 1, `X-Raft-Term ${terms[0]}`);
      if (!terms.every((t) => t === terms[0])) throw new Error(`X-Raft-Term differs: ${terms.join(" ")}`);
      return true;
    });
  });
});

test("a write through each member is readable on all (quorum read at once, plain read eventually)", async () => {
  const c = await shared.get();
  await c.check(async () => {
    for (const [i, writer] of c.members.entries()) {
      const key = `/basics/rw/via-${writer.name}`;
      const value = `v${i}-${Date.now()}`;
      const w = await tryPut(writer, key, value, 10_000);
      assert.ok(w.ok, `PUT through ${writer.name}: ${w.ok ? "" : w.error}`);
      const idx = (w as { res: { json(): any } }).res.json().node.modifiedIndex as number;
      for (const reader of c.members) {
        const q = await quorumGet(reader, key);
        assert.is(q.status, 200, `${reader.name} quorum GET ${key}: ${q.status} ${q.text}`);
        assert.is(q.json().node.value, value, `${reader.name} quorum GET ${key}`);
        assert.is(q.json().node.modifiedIndex, idx);
      }
      // A plain (serializable) read is served locally: it may lag a moment behind.
      await putAnywhere([writer], `${key}-plain`, value);
      for (const reader of c.members) {
        await eventually(`${reader.name} plain GET ${key}-plain`, 5000, async () => {
          const r = await get(reader, `/v2/keys${key}-plain`);
          return r.status === 200 && r.json().node.value === value;
        });
      }
    }
  });
});

test("a watch on one member sees a write made through another (live and from history)", async () => {
  const c = await shared.get();
  await c.check(async () => {
    const n = c.members.length;
    const indexes: number[] = [];
    for (let i = 0; i < n; i++) {
      const watcher = c.members[i]!;
      const writer = c.members[(i + 1) % n]!;
      const key = `/basics/watch/k${i}`;
      const cur = await get(watcher, `/v2/keys${key}`);
      const w = new Watch(watcher.clientURL, `/v2/keys${key}`, { wait: true, waitIndex: cur.etcdIndex + 1 });
      try {
        await w.response(5000);
        const value = `from-${writer.name}`;
        const put = await tryPut(writer, key, value, 10_000);
        assert.ok(put.ok, `PUT through ${writer.name}: ${put.ok ? "" : put.error}`);
        const idx = (put as { res: { json(): any } }).res.json().node.modifiedIndex as number;
        indexes.push(idx);
        const ev = JSON.parse(await w.next(5000));
        assert.is(ev.action, "set", `watch on ${watcher.name}: ${JSON.stringify(ev)}`);
        assert.is(ev.node.key, key);
        assert.is(ev.node.value, value);
        assert.is(ev.node.modifiedIndex, idx, `watch on ${watcher.name} for a write through ${writer.name}`);
      } finally {
        w.close();
      }
    }
    // History: a watch with a past waitIndex on every member returns the same event.
    for (let i = 0; i < n; i++) {
      const key = `/basics/watch/k${i}`;
      for (const m of c.members) {
        const r = await get(m, `/v2/keys${key}`, { wait: true, waitIndex: indexes[i]! }, 5000);
        assert.is(r.status, 200, `${m.name} history watch ${key}: ${r.text}`);
        assert.is(r.json().node.modifiedIndex, indexes[i], `${m.name} history watch ${key}`);
        assert.is(r.json().node.value, `from-${c.members[(i + 1) % n]!.name}`);
      }
    }
  });
});

test.run();
