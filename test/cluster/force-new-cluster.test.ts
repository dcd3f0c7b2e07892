// Disaster recovery with --force-new-cluster: a 3-member cluster holding some data (plain keys
// written through every member, a directory with keys, an empty directory, a key with a long
// TTL) loses every member (two kill -9, then SIGTERM on the third); that third member is started
// again on its own data dir with --force-new-cluster. It must come up as a one-member cluster
// (GET /v2/members lists only itself with its old ID, /v2/members/leader is itself), with every
// acknowledged write, accept new writes, and keep all of it after a normal restart without the flag.
//
//   npx tsc -p tsconfig.json && CLUSTER_TARGETS=etcd node dist/test/cluster/force-new-cluster.test.js
//   node dist/test/cluster/force-new-cluster.test.js      # node,bun,deno
//
// FNC_SURVIVOR=follower (default) or leader picks the member that is restarted;
// FNC_SNAPSHOT_COUNT=n adds --snapshot-count n (e.g. 10: the data dirs then hold snapshots).
//
// etcd 3.4.23 behaviour relied on:
// - --force-new-cluster on an existing data dir drops the WAL entries past the member's own
//   commit index, commits (locally) the removal of every other member, and starts as a
//   one-member cluster with the same member ID and cluster ID (X-Etcd-Cluster-Id unchanged);
//   on its original data dir its peer URL stays the one it had (the "http://localhost:2380"
//   of the spec's §5 is what `etcdctl backup` leaves, not tested here);
// - the keys keep their createdIndex/modifiedIndex (the log is replayed as it was); only the
//   store's own index moves on (the removals touch the membership records);
// - a TTL key keeps its expiration time (its ttl counts down across the restart);
// - writes are only "acknowledged" once committed, but a follower may not yet know that the
//   last entries are committed: the test waits until every member has applied every write
//   before stopping them, so that any member's data dir holds all acknowledged writes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { req } from "../support/http.ts";
import { eventually, putAnywhere, tryPut } from "../support/cluster.ts";
import type { Cluster, ClusterMember } from "../support/cluster.ts";
import { sleep } from "../support/processes.ts";
import { TARGETS_LABEL, flatten, get, quorumGet, withTestCluster } from "./common.ts";

const SURVIVOR = process.env.FNC_SURVIVOR === "leader" ? "leader" : "follower";
const LONG_TTL = 3600;
const SNAPSHOT_ARGS = process.env.FNC_SNAPSHOT_COUNT ? ["--snapshot-count", process.env.FNC_SNAPSHOT_COUNT] : [];
console.log(`cluster --force-new-cluster on ${TARGETS_LABEL} (restarting the ${SURVIVOR}${SNAPSHOT_ARGS.length ? `, ${SNAPSHOT_ARGS.join(" ")}` : ""})`);

type Flat = ReturnType<typeof flatten>;

/** The /fnc tree as "key value dir created modified" lines, sorted (ttl/expiration left out). */
function lines(flat: Flat): string[] {
  return [...flat.entries()]
    .map(([k, v]) => `${k} ${v.dir ? "<dir>" : JSON.stringify(v.value)} c=${v.createdIndex} m=${v.modifiedIndex}`)
    .sort();
}

async function tree(m: ClusterMember, quorum: boolean): Promise<{ flat: Flat; root: any; index: number }> {
  const r = await get(m, "/v2/keys/fnc", { recursive: true, sorted: true, ...(quorum ? { quorum: true } : {}) }, 15_000);
  if (r.status !== 200) throw new Error(`${r.describe()}: ${r.text}`);
  const root = r.json().node;
  return { flat: flatten(root), root, index: r.etcdIndex };
}

function findNode(root: any, key: string): any {
  if (root?.key === key) return root;
  for (const n of root?.nodes ?? []) {
    const f = findNode(n, key);
    if (f) return f;
  }
  return undefined;
}

/** Only this member is listed, with its old ID and URLs, and it is the leader (checked on itself). */
async function checkAlone(c: Cluster, m: ClusterMember, what: string): Promise<void> {
  const list = await eventually(`${what}: /v2/members lists one member`, 15_000, async () => {
    const l = await c.memberList(m);
    return l.length === 1 ? l : null;
  }, 200);
  assert.is(list[0]!.id, m.id, `${what}: member ID kept: ${JSON.stringify(list)}`);
  assert.is(list[0]!.name, m.name, JSON.stringify(list));
  assert.equal(list[0]!.peerURLs, [m.peerURL], JSON.stringify(list));
  assert.equal(list[0]!.clientURLs, [m.clientURL], JSON.stringify(list));
  const leader = await eventually(`${what}: /v2/members/leader`, 15_000, async () => {
    const r = await get(m, "/v2/members/leader");
    return r.status === 200 ? r : null;
  }, 200);
  assert.is(leader.json().id, m.id, `${what}: /v2/members/leader: ${leader.text}`);
  const self = await get(m, "/v2/stats/self");
  assert.is(self.json().state, "StateLeader", `${what}: /v2/stats/self: ${self.text}`);
  assert.is(self.json().leaderInfo?.leader, m.id, `${what}: /v2/stats/self: ${self.text}`);
}

function checkTtlKey(root: any, what: string, maxTtl: number): void {
  const n = findNode(root, "/fnc/ttl");
  assert.ok(n, `${what}: /fnc/ttl is missing`);
  assert.is(n.value, "expires-later");
  assert.type(n.expiration, "string", `${what}: /fnc/ttl has no expiration: ${JSON.stringify(n)}`);
  assert.ok(typeof n.ttl === "number" && n.ttl > LONG_TTL - 120 && n.ttl <= maxTtl, `${what}: /fnc/ttl ttl ${n.ttl} (want a little under ${maxTtl})`);
}

test("--force-new-cluster after losing every member: one-member cluster, all acknowledged data, survives a normal restart", async () => {
  await withTestCluster({ label: "force-new-cluster", extraArgs: SNAPSHOT_ARGS }, async (c) => {
    const leader = await c.waitLeader(20_000);

    // ---- data, written through every member; every acknowledgement recorded
    const acked = new Map<string, string>();
    const put = async (key: string, value: string): Promise<void> => {
      await putAnywhere(c.live, key, value);
      acked.set(key, value);
    };
    const mk = await req(leader.clientURL, "PUT", "/v2/keys/fnc/dir", { form: { dir: true }, timeoutMs: 10_000 });
    assert.is(mk.status, 201, `mkdir /fnc/dir: ${mk.text}`);
    const mk2 = await req(leader.clientURL, "PUT", "/v2/keys/fnc/emptydir", { form: { dir: true }, timeoutMs: 10_000 });
    assert.is(mk2.status, 201, `mkdir /fnc/emptydir: ${mk2.text}`);
    const ttl = await req(c.live[1]!.clientURL, "PUT", "/v2/keys/fnc/ttl", { form: { value: "expires-later", ttl: LONG_TTL }, timeoutMs: 10_000 });
    assert.is(ttl.status, 201, `PUT /fnc/ttl: ${ttl.text}`);
    for (let i = 0; i < 30; i++) {
      const via = c.live[i % c.live.length]!;
      const a = await tryPut(via, i % 2 === 0 ? `/fnc/dir/k${i}` : `/fnc/k${i}`, `v${i}`, 10_000);
      assert.ok(a.ok, `write ${i} through ${via.name}: ${a.ok ? "" : a.error}`);
      acked.set(i % 2 === 0 ? `/fnc/dir/k${i}` : `/fnc/k${i}`, `v${i}`);
    }
    await put("/fnc/k1", "overwritten");
    const del = await req(leader.clientURL, "DELETE", "/v2/keys/fnc/k3", { timeoutMs: 10_000 });
    assert.is(del.status, 200, `DELETE /fnc/k3: ${del.text}`);
    acked.delete("/fnc/k3");
    await put("/fnc/last", "last");

    // ---- every member has applied everything (plain reads identical everywhere)
    const before = await tree(leader, true);
    const want = lines(before.flat);
    await eventually("every member has applied every write", 10_000, async () => {
      for (const m of c.live) {
        const t = await tree(m, false);
        if (JSON.stringify(lines(t.flat)) !== JSON.stringify(want)) throw new Error(`${m.name} differs`);
      }
      return true;
    }, 100);
    await sleep(300);
    for (const [k, v] of acked) assert.is(before.flat.get(k)?.value, v, `before: ${k}`);
    const clusterId = (await get(leader, "/v2/keys/fnc")).header("x-etcd-cluster-id");
    assert.ok(clusterId, "X-Etcd-Cluster-Id");

    // ---- lose the whole cluster
    const survivor = SURVIVOR === "leader" ? leader : c.live.find((m) => m !== leader)!;
    const others = c.live.filter((m) => m !== survivor);
    for (const m of others) await c.kill9(m);
    const t0 = Date.now();
    await c.stopMember(survivor, 10_000);
    const ex = await survivor.exited();
    console.log(`  kill -9 ${others.map((m) => `${m.name} (${m.target})`).join(", ")}; SIGTERM ${survivor.name} (${survivor.target}, ${survivor === leader ? "leader" : "follower"}): exited in ${Date.now() - t0} ms, code ${ex.code} signal ${ex.signal}`);

    // ---- restart it alone with --force-new-cluster
    const forced = await c.restartWithFlags(survivor, ["--force-new-cluster"]);
    console.log(`  ${forced.name} restarted with --force-new-cluster: healthy`);
    await checkAlone(c, forced, "after --force-new-cluster");
    const after = await tree(forced, true);
    assert.equal(lines(after.flat), want, "after --force-new-cluster: the /fnc tree differs");
    for (const [k, v] of acked) assert.is(after.flat.get(k)?.value, v, `after --force-new-cluster: ${k}`);
    assert.ok(after.flat.get("/fnc/emptydir")?.dir, "the empty directory is kept");
    assert.not.ok(after.flat.has("/fnc/k3"), "a deleted key came back");
    checkTtlKey(after.root, "after --force-new-cluster", LONG_TTL);
    assert.ok(after.index >= before.index, `X-Etcd-Index went back: ${before.index} -> ${after.index}`);
    const r0 = await get(forced, "/v2/keys/fnc");
    assert.is(r0.header("x-etcd-cluster-id"), clusterId, "the cluster ID is kept");

    // ---- new writes, including a compare-and-swap on an old key
    for (let i = 0; i < 10; i++) {
      const a = await tryPut(forced, `/fnc/new/k${i}`, `n${i}`, 10_000);
      assert.ok(a.ok, `new write ${i}: ${a.ok ? "" : a.error}`);
      acked.set(`/fnc/new/k${i}`, `n${i}`);
    }
    const cas = await req(forced.clientURL, "PUT", "/v2/keys/fnc/last", { form: { value: "swapped" }, query: { prevValue: "last" }, timeoutMs: 10_000 });
    assert.is(cas.status, 200, `CAS on /fnc/last: ${cas.text}`);
    acked.set("/fnc/last", "swapped");
    const mid = await tree(forced, true);
    for (const [k, v] of acked) assert.is(mid.flat.get(k)?.value, v, `after the new writes: ${k}`);

    // ---- a normal restart (no flag): still alone, everything kept
    await c.stopMember(forced, 10_000);
    const plain = await c.restartWithFlags(forced, []);
    console.log(`  ${plain.name} restarted without the flag: healthy`);
    await checkAlone(c, plain, "after a normal restart");
    const final = await tree(plain, true);
    assert.equal(lines(final.flat), lines(mid.flat), "after a normal restart: the /fnc tree differs");
    for (const [k, v] of acked) assert.is(final.flat.get(k)?.value, v, `after a normal restart: ${k}`);
    checkTtlKey(final.root, "after a normal restart", LONG_TTL);
    const a = await tryPut(plain, "/fnc/final", "ok", 10_000);
    assert.ok(a.ok, `write after the normal restart: ${a.ok ? "" : a.error}`);
    const g = await quorumGet(plain, "/fnc/final");
    assert.is(g.json().node?.value, "ok");
    assert.is(g.header("x-etcd-cluster-id"), clusterId, "the cluster ID is kept after the normal restart");
    console.log(`  ${acked.size} acknowledged keys kept; index ${before.index} before, ${after.index} after --force-new-cluster, ${final.index} after the restart`);
  });
});

test.run();
