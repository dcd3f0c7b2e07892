// Bootstrap through a discovery service (--discovery <url>, no --initial-cluster): a single
// member (a separate process, on the first target of CLUSTER_TARGETS: etcd when the target is
// etcd) serves the v2 keys API as the discovery service. The operator sets
// `PUT <T>/_config/size value=3`; three members started with the same discovery URL form one
// cluster; a fourth with --discovery-fallback exit exits non-zero with "discovery: cluster is
// full"; a fifth with the default fallback (proxy) becomes a v2 proxy for the cluster.
//
//   npx tsc -p tsconfig.json && CLUSTER_TARGETS=etcd node dist/test/cluster/discovery.test.js
//   node dist/test/cluster/discovery.test.js      # members on node,bun,deno
//
// The discovery service runs on TARGETS[0], the three members on TARGETS, the fourth on
// TARGETS[1], the fifth (proxy) on TARGETS[2].
//
// etcd 3.4.23 behaviour relied on (spec cluster-ops.md §2, §3.2):
// - member IDs are SHA-1(sorted peer URLs + discovery URL)[:8] (the discovery URL is the
//   token), the cluster ID SHA-1 of the sorted member IDs (8 bytes each, big-endian)[:8];
// - the registry <T> holds one key per member, named by its ID in hex, whose value is the
//   member's own `name=peerURL`; `_config` is hidden from listings;
// - a member that finds the cluster full checks it before registering, so it never
//   registers; with --discovery-fallback exit it logs "discovery: cluster is full" and exits
//   with status 1; with proxy it starts a v2 proxy (it writes <data-dir>/proxy/cluster) that
//   forwards to the members it found. Neither writes a WAL (etcd does leave an empty
//   member/snap/db behind: it creates it before running discovery).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { req } from "../support/http.ts";
import { Cluster, eventually, putAnywhere, tryPut } from "../support/cluster.ts";
import type { ClusterMember } from "../support/cluster.ts";
import { memberFlags } from "../support/processes.ts";
import type { TargetName } from "../support/processes.ts";
import { START_MS, TARGETS, TARGETS_LABEL, checkTargets, expectedClusterId, expectedMemberId, quorumGet } from "./common.ts";

const at = (i: number): TargetName => TARGETS[i % TARGETS.length]!;
console.log(`cluster discovery on ${TARGETS_LABEL} (service on ${at(0)}, exit member on ${at(1)}, proxy on ${at(2)})`);

function discoveryFlags(url: string, extra: string[] = []) {
  return (p: { name: string; dataDir: string; clientURL: string; peerURL: string }): string[] => [
    "--enable-v2",
    "--name", p.name,
    "--data-dir", p.dataDir,
    "--listen-client-urls", p.clientURL,
    "--advertise-client-urls", p.clientURL,
    "--listen-peer-urls", p.peerURL,
    "--initial-advertise-peer-urls", p.peerURL,
    "--discovery", url,
    ...extra,
  ];
}

async function registry(service: ClusterMember, token: string): Promise<{ key: string; value: string; createdIndex: number }[]> {
  const r = await req(service.clientURL, "GET", `/v2/keys/_etcd/registry/${token}`, { query: { recursive: true, sorted: true }, timeoutMs: 5000 });
  assert.is(r.status, 200, `registry: ${r.text}`);
  return (r.json().node.nodes ?? []).map((n: { key: string; value: string; createdIndex: number }) => ({ key: n.key, value: n.value, createdIndex: n.createdIndex }));
}

test("three members bootstrap through a discovery service; a 4th exits (fallback exit), a 5th becomes a proxy", async () => {
  checkTargets();
  const c = Cluster.create({ label: "discovery", startTimeoutMs: START_MS });
  try {
    await c.check(async () => {
      // ---- the discovery service and the token
      const service = await c.spawnProcess(at(0), {
        name: "disc",
        role: "service",
        flags: (p) => memberFlags({ ...p, initialCluster: `${p.name}=${p.peerURL}`, initialClusterToken: `disc-${Date.now()}` }),
      });
      await service.waitReady(START_MS, "healthy");
      const token = `tok${Date.now().toString(16)}${Math.floor(Math.random() * 1e9).toString(16)}`;
      const url = `${service.clientURL}/v2/keys/_etcd/registry/${token}`;
      const size = await req(service.clientURL, "PUT", `/v2/keys/_etcd/registry/${token}/_config/size`, { form: { value: 3 } });
      assert.is(size.status, 201, `PUT _config/size: ${size.text}`);
      console.log(`  discovery URL ${url}`);

      // ---- three members
      const members: ClusterMember[] = [];
      for (let i = 0; i < 3; i++) members.push(await c.spawnProcess(at(i), { name: `d${i + 1}`, flags: discoveryFlags(url) }));
      await Promise.all(members.map((m) => m.waitReady(START_MS, "healthy")));
      await c.refreshIds();
      const leader = await c.waitLeader(20_000);
      console.log(`  ${members.map((m) => `${m.name} (${m.target}) ${m.id}`).join(", ")}; leader ${leader.name}`);

      // Same member list everywhere, IDs derived with the discovery URL as the token.
      const want = members
        .map((m) => JSON.stringify({ id: expectedMemberId([m.peerURL], url), name: m.name, peerURLs: [m.peerURL], clientURLs: [m.clientURL] }))
        .sort();
      await eventually("every member lists the three members with names and client URLs", 15_000, async () => {
        for (const m of members) {
          const got = (await c.memberList(m)).map((i) => JSON.stringify({ id: i.id, name: i.name, peerURLs: i.peerURLs, clientURLs: i.clientURLs })).sort();
          if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${m.name} lists ${got.join(" ")}; want ${want.join(" ")}`);
        }
        return true;
      }, 200);
      const clusterIds = new Set<string | null>();
      for (const m of members) clusterIds.add((await req(m.clientURL, "GET", "/v2/keys/")).header("x-etcd-cluster-id"));
      assert.equal([...clusterIds], [expectedClusterId(members.map((m) => m.id!))], "X-Etcd-Cluster-Id on every member");

      // Writes through each member replicate.
      for (const m of members) {
        const a = await tryPut(m, `/disc/via-${m.name}`, m.name, 10_000);
        assert.ok(a.ok, `write through ${m.name}: ${a.ok ? "" : a.error}`);
      }
      for (const m of members) {
        for (const w of members) {
          const r = await quorumGet(m, `/disc/via-${w.name}`);
          assert.is(r.json().node?.value, w.name, `${m.name} reads /disc/via-${w.name}: ${r.text}`);
        }
      }

      // ---- the registry looks like etcd's
      const reg = await registry(service, token);
      const regText = JSON.stringify(reg);
      assert.is(reg.length, 3, `registry: ${regText}`);
      const ids = members.map((m) => m.id!);
      assert.equal(reg.map((n) => n.key), [...ids].sort().map((id) => `/_etcd/registry/${token}/${id}`), `registry keys: ${regText}`);
      for (const m of members) {
        const n = reg.find((x) => x.key.endsWith(`/${m.id}`))!;
        assert.is(n.value, `${m.name}=${m.peerURL}`, `registry value of ${m.name}`);
      }
      const sz = await req(service.clientURL, "GET", `/v2/keys/_etcd/registry/${token}/_config/size`);
      assert.is(sz.json().node?.value, "3", sz.text);

      // ---- a 4th member, --discovery-fallback exit: exits non-zero, "discovery: cluster is full"
      const extra = await c.spawnProcess(at(1), { name: "d4", role: "discovery-member", flags: discoveryFlags(url, ["--discovery-fallback", "exit"]) });
      assert.ok(await c.waitExit(extra, 30_000), "the 4th member (--discovery-fallback exit) did not exit within 30 s");
      const ex = await extra.exited();
      assert.ok(ex.code !== 0 && ex.code !== null, `the 4th member exited with code ${ex.code} signal ${ex.signal}`);
      assert.match(extra.output(), "discovery: cluster is full", "the 4th member's log");
      const line = extra.output().split("\n").find((l) => l.includes("cluster is full"))!;
      console.log(`  d4 (${extra.target}) exited with code ${ex.code}: ${line.trim()}`);
      assert.equal(await registry(service, token), reg, "the 4th member must not register");

      // ---- a 5th member, default fallback (proxy): a proxy that serves the cluster
      const proxy = await c.spawnProcess(at(2), { name: "d5", role: "proxy", waitFor: "listening", flags: discoveryFlags(url) });
      await proxy.waitReady(START_MS, "listening");
      console.log(`  d5 (${proxy.target}) serves as a proxy on ${proxy.clientURL}`);
      assert.ok(proxy.running, "the 5th member exited");
      const pw = await eventually("a write through the proxy", 15_000, async () => {
        const r = await req(proxy.clientURL, "PUT", "/v2/keys/disc/via-proxy", { form: { value: "p" }, timeoutMs: 5000 });
        return r.status === 200 || r.status === 201 ? r : null;
      }, 250);
      assert.ok(pw.header("x-etcd-cluster-id") === [...clusterIds][0], `cluster ID through the proxy: ${pw.header("x-etcd-cluster-id")}`);
      for (const m of members) {
        const r = await quorumGet(m, "/disc/via-proxy");
        assert.is(r.json().node?.value, "p", `${m.name}: ${r.text}`);
      }
      await putAnywhere(members, "/disc/for-proxy", "q");
      const pr = await req(proxy.clientURL, "GET", "/v2/keys/disc/for-proxy", { query: { quorum: true } });
      assert.is(pr.status, 200, `GET through the proxy: ${pr.text}`);
      assert.is(pr.json().node.value, "q");
      const pm = await req(proxy.clientURL, "GET", "/v2/members");
      assert.is(pm.status, 200, pm.text);
      assert.equal(pm.json().members.map((i: { id: string }) => i.id).sort(), [...ids].sort(), `members through the proxy: ${pm.text}`);
      // (etcd leaves an empty member/snap/db behind in both; no WAL, so neither is a member.)
      assert.ok(existsSync(join(proxy.dataDir, "proxy", "cluster")), `no proxy/cluster in ${proxy.dataDir}`);
      assert.not.ok(existsSync(join(proxy.dataDir, "member", "wal")), `a member WAL in the proxy's ${proxy.dataDir}`);
      assert.not.ok(existsSync(join(extra.dataDir, "member", "wal")), `a member WAL in the exited 4th member's ${extra.dataDir}`);
      assert.equal(await registry(service, token), reg, "the 5th member must not register");
      const lists = await Promise.all(members.map((m) => c.memberList(m)));
      for (const l of lists) assert.is(l.length, 3, "still three members");
    });
  } finally {
    await c.stop();
  }
});

test.run();
