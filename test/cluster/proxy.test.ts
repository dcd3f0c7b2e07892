// A v2 proxy (`--proxy on`) follows a membership change: its --initial-cluster names one
// member only; it learns the others from that member's peer port, so requests through it keep
// working after that member is removed from the cluster (and its process exits). Then a
// member is added and every original member removed: requests through the proxy still work,
// which they can only do if its refreshes learned the added member.
//
//   npx tsc -p tsconfig.json && CLUSTER_TARGETS=etcd node dist/test/cluster/proxy.test.js
//
// The proxy runs on the first target of CLUSTER_TARGETS, with --proxy-refresh-interval 500.
//
// etcd 3.4.23 behaviour relied on (observed):
// - a proxy needs no peer listener; at start it fetches GET <peerURL>/members from the peers in
//   --initial-cluster, logs "proxy: updated peer urls in cluster file from [one] to [all three]"
//   and "endpoints found [client URLs]", and writes <data-dir>/proxy/cluster;
// - it refreshes the list every --proxy-refresh-interval ms (default 30000) from the peer URLs
//   it last learned, so the removed member is dropped and requests go to the others; a
//   connection error on one endpoint is retried on the next within the same request;
// - membership changes as in membership.test.ts (add retried while etcd answers 500 for
//   5 s after a connection; a removed member exits; removing down to one member is allowed);
// - responses through the proxy carry the members' X-Etcd-* headers (etcd's proxy repeats the
//   CORS headers, which is not checked here).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { req } from "../support/http.ts";
import { eventually } from "../support/cluster.ts";
import { sleep } from "../support/processes.ts";
import { TARGETS, TARGETS_LABEL, quorumGet, withTestCluster } from "./common.ts";

const REFRESH_MS = Number(process.env.PROXY_REFRESH_MS ?? 500);
/** How long to let the proxy refresh (a few intervals). */
const SETTLE_MS = Math.min(4 * REFRESH_MS, 3000);
console.log(`cluster v2 proxy on ${TARGETS_LABEL} (proxy on ${TARGETS[0]})`);

async function putVia(url: string, key: string, value: string): Promise<{ status: number; text: string; index?: number }> {
  const r = await req(url, "PUT", `/v2/keys${key}`, { form: { value }, timeoutMs: 10_000 });
  return { status: r.status, text: r.text, ...(r.status < 300 ? { index: r.json().node.modifiedIndex } : {}) };
}

test("a proxy that knows one member keeps working after that member is removed, and follows later changes", async () => {
  await withTestCluster({ label: "proxy" }, async (c) => {
    const leader = await c.waitLeader(20_000);
    const known = c.members.find((m) => m !== leader)!;
    const proxy = await c.startProxy(TARGETS[0]!, { knows: [known], refreshMs: REFRESH_MS });
    console.log(`  proxy ${proxy.clientURL} (${proxy.target}) knows only ${known.name}`);

    // Through the proxy: writes, reads, member list.
    const w = await putVia(proxy.clientURL, "/proxy/a", "1");
    assert.ok(w.status === 200 || w.status === 201, `PUT through the proxy: ${w.status} ${w.text}`);
    const g = await req(proxy.clientURL, "GET", "/v2/keys/proxy/a");
    assert.is(g.status, 200, g.text);
    assert.is(g.json().node.value, "1");
    assert.ok(g.header("x-etcd-index") !== null, "X-Etcd-Index through the proxy");
    const ml = await req(proxy.clientURL, "GET", "/v2/members");
    assert.is(ml.json().members.length, 3, ml.text);

    // Let the proxy learn the whole cluster, then remove the only member it was told about.
    await sleep(SETTLE_MS);
    const del = await c.removeMember(known, { via: leader });
    assert.is(del.status, 204, del.text);
    assert.ok(await c.waitExit(known, 20_000), `${known.name} did not exit after its removal`);
    console.log(`  removed ${known.name}; its process exited`);
    await c.waitLeader(20_000);
    await sleep(SETTLE_MS);

    // Requests through the proxy keep working: every one must succeed.
    for (let i = 0; i < 10; i++) {
      const p = await putVia(proxy.clientURL, `/proxy/after/k${i}`, `v${i}`);
      assert.ok(p.status === 200 || p.status === 201, `PUT ${i} through the proxy after the removal: ${p.status} ${p.text}`);
      const r = await req(proxy.clientURL, "GET", `/v2/keys/proxy/after/k${i}`, { query: { quorum: true } });
      assert.is(r.status, 200, `GET ${i} through the proxy after the removal: ${r.text}`);
      assert.is(r.json().node.value, `v${i}`);
      await sleep(100);
    }
    const ml2 = await eventually("the proxy serves the new member list", 5000, async () => {
      const r = await req(proxy.clientURL, "GET", "/v2/members");
      return r.status === 200 && r.json().members.length === 2 ? r : null;
    });
    assert.not.ok(ml2.json().members.some((m: { id: string }) => m.id === known.id), "the removed member is still listed");
    for (const m of c.live) {
      const r = await quorumGet(m, "/proxy/after/k9");
      assert.is(r.json().node?.value, "v9", `${m.name}: ${r.text}`);
    }

    // Stronger: a member added after the proxy started becomes the only member left; the proxy
    // can only reach it through what its refreshes learned.
    const { member: added } = await c.addMember(TARGETS[0]!, { name: "added4", timeoutMs: 20_000 });
    console.log(`  added ${added.name} (${added.target})`);
    await sleep(SETTLE_MS);
    for (const m of c.current.filter((x) => x !== added)) {
      const d = await c.removeMember(m, { via: added, timeoutMs: 20_000 });
      assert.is(d.status, 204, d.text);
      assert.ok(await c.waitExit(m, 20_000), `${m.name} did not exit after its removal`);
      await c.waitLeader(20_000);
      console.log(`  removed ${m.name}`);
    }
    assert.equal(c.live, [added]);
    await sleep(SETTLE_MS);
    for (let i = 0; i < 5; i++) {
      const p = await putVia(proxy.clientURL, `/proxy/only-added/k${i}`, `v${i}`);
      assert.ok(p.status === 200 || p.status === 201, `PUT ${i} through the proxy with only ${added.name} left: ${p.status} ${p.text}`);
      const r = await req(proxy.clientURL, "GET", `/v2/keys/proxy/only-added/k${i}`);
      assert.is(r.status, 200, r.text);
      assert.is(r.json().node.value, `v${i}`);
    }
    const r = await quorumGet(added, "/proxy/only-added/k4");
    assert.is(r.json().node?.value, "v4");

    const log = proxy.output();
    const learned = log.split("\n").filter((l) => /peer urls|endpoints found/i.test(l));
    for (const l of learned.slice(0, 3)) console.log(`    proxy: ${l.trim().slice(0, 220)}`);
  });
});

test.run();
