// Bootstrap from DNS SRV records (--discovery-srv <domain>), in process: real DNS cannot be
// used here, so three members run inside this Node process, each started with
// startMember(rt, cfg) on a Node runtime whose resolveSrv answers injected records:
//   _etcd-server._tcp.example.test      -> 127.0.0.1:<peer port of a>, <b>, <c>
//   _etcd-server-ssl._tcp.example.test  -> ENOTFOUND (as from a real resolver)
// The members must form one cluster, named a, b, c, with the member IDs (and cluster ID) a
// static bootstrap with the same peer URLs and --initial-cluster-token gives:
// SHA-1(peerURL + token)[:8], and SHA-1(sorted IDs as 8 big-endian bytes)[:8]. A fourth member
// whose advertised peer URL is not among the records fails with
// `cannot find local etcd member "d" in SRV records`.
//
//   npx tsc -p tsconfig.json && node dist/test/cluster/srv.test.js
//
// This file runs our members on Node only, whatever CLUSTER_TARGETS says (etcd resolves SRV
// records through the system resolver, which a test cannot feed). Note that real etcd 3.4.23
// would refuse this http-only setup: its GetDNSClusterNames keeps the http records only when
// the http lookup *failed* and returns the ssl lookup's error ("error querying DNS SRV records
// for _etcd-server-ssl ...", etcd-io/etcd#11321, spec cluster-ops.md §3.4); we do what 3.5 does.
// SRV_KEEP_LOGS=1 prints the members' logs even when every check passes.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseConfig } from "../../core/config.ts";
import type { Config } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import type { Runtime, SrvRecord } from "../../core/runtime.ts";
import { startMember } from "../../core/server/start.ts";
import type { RunningMember } from "../../core/server/start.ts";
import { createNodeRuntime } from "../../runtimes/node/runtime.ts";
import { req } from "../support/http.ts";
import { eventually } from "../support/cluster.ts";
import { freePorts, tempDir } from "../support/processes.ts";
import { TARGETS_LABEL, expectedClusterId, expectedMemberId } from "./common.ts";

const DOMAIN = "example.test";
const TOKEN = "srv-test-token";
console.log(`cluster DNS SRV bootstrap: in-process Node members (CLUSTER_TARGETS=${TARGETS_LABEL} does not apply)`);

function notFound(name: string): Error {
  return Object.assign(new Error(`querySrv ENOTFOUND ${name}`), { code: "ENOTFOUND", hostname: name });
}

interface Spec {
  name: string;
  clientURL: string;
  peerURL: string;
  dataDir: string;
}

/** A Node runtime whose SRV lookups answer from `records`; logs go to `lines`. */
function runtimeWith(records: Map<string, SrvRecord[]>, lines: string[], queried: string[]): Runtime {
  const log = createLogger((line) => lines.push(line), () => Date.now());
  const rt = createNodeRuntime({ log });
  return {
    ...rt,
    resolveSrv: async (name: string): Promise<SrvRecord[]> => {
      queried.push(name);
      const r = records.get(name);
      if (!r) throw notFound(name);
      return r.map((x) => ({ ...x }));
    },
  };
}

function configFor(s: Spec): Config {
  const parsed = parseConfig([
    "--name", s.name,
    "--discovery-srv", DOMAIN,
    "--initial-cluster-token", TOKEN,
    "--initial-advertise-peer-urls", s.peerURL,
    "--listen-peer-urls", s.peerURL,
    "--listen-client-urls", s.clientURL,
    "--advertise-client-urls", s.clientURL,
    "--data-dir", s.dataDir,
    "--enable-v2",
  ], {});
  if (parsed.kind !== "ok") throw new Error(`parseConfig for ${s.name}: ${JSON.stringify(parsed)}`);
  return parsed.config;
}

test("three members bootstrap from DNS SRV records; a member missing from the records fails", async () => {
  const root = tempDir("etcd-ts-srv-");
  const logs = new Map<string, string[]>();
  const running: { name: string; m: RunningMember }[] = [];
  const queried: string[] = [];
  try {
    const ports = await freePorts(8);
    const specs: Spec[] = ["a", "b", "c", "d"].map((name, i) => ({
      name,
      clientURL: `http://127.0.0.1:${ports[2 * i]!}`,
      peerURL: `http://127.0.0.1:${ports[2 * i + 1]!}`,
      dataDir: join(root, `${name}.etcd`),
    }));
    const members = specs.slice(0, 3);
    const outsider = specs[3]!;
    const records = new Map<string, SrvRecord[]>([
      [`_etcd-server._tcp.${DOMAIN}`, members.map((s) => ({ name: "127.0.0.1", port: Number(new URL(s.peerURL).port), priority: 0, weight: 0 }))],
    ]);

    // ---- the three members
    const started = await Promise.all(members.map(async (s) => {
      const lines: string[] = [];
      logs.set(s.name, lines);
      const r = await startMember(runtimeWith(records, lines, queried), configFor(s));
      if (!("member" in r)) throw new Error(`${s.name} started as a proxy`);
      running.push({ name: s.name, m: r });
      return r;
    }));
    await Promise.all(started.map((r, i) => eventually(`${members[i]!.name} published itself`, 20_000, async () => {
      await r.ready;
      return true;
    })));
    assert.ok(queried.includes(`_etcd-server._tcp.${DOMAIN}`), `SRV names looked up: ${queried.join(", ")}`);
    assert.ok(queried.includes(`_etcd-server-ssl._tcp.${DOMAIN}`), `SRV names looked up: ${queried.join(", ")}`);

    // Names, IDs (token-derived, as a static bootstrap gives) and URLs, the same on every member.
    const want = members
      .map((s) => JSON.stringify({ id: expectedMemberId([s.peerURL], TOKEN), name: s.name, peerURLs: [s.peerURL], clientURLs: [s.clientURL] }))
      .sort();
    const ids = members.map((s) => expectedMemberId([s.peerURL], TOKEN));
    await eventually("every member lists a, b, c with the token-derived IDs", 15_000, async () => {
      for (const s of members) {
        const r = await req(s.clientURL, "GET", "/v2/members", { timeoutMs: 3000 });
        if (r.status !== 200) throw new Error(`${s.name}: ${r.status} ${r.text}`);
        const got = (r.json().members as Array<{ id: string; name: string; peerURLs: string[]; clientURLs: string[] }>)
          .map((i) => JSON.stringify({ id: i.id, name: i.name, peerURLs: i.peerURLs, clientURLs: i.clientURLs }))
          .sort();
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${s.name} lists ${got.join(" ")}; want ${want.join(" ")}`);
      }
      return true;
    }, 200);
    for (const [i, s] of members.entries()) {
      assert.is(started[i]!.member.memberId, ids[i], `${s.name}'s own member ID`);
    }
    const clusterId = expectedClusterId(ids);
    const leaderIds = new Set<string>();
    await eventually("every member reports the same leader", 15_000, async () => {
      leaderIds.clear();
      for (const s of members) {
        const r = await req(s.clientURL, "GET", "/v2/members/leader", { timeoutMs: 3000 });
        if (r.status !== 200) return false;
        leaderIds.add(r.json().id);
      }
      return leaderIds.size === 1 && ids.includes([...leaderIds][0]!);
    }, 200);
    for (const s of members) {
      const r = await req(s.clientURL, "GET", "/v2/keys/", { timeoutMs: 3000 });
      assert.is(r.header("x-etcd-cluster-id"), clusterId, `${s.name}: X-Etcd-Cluster-Id`);
    }
    console.log(`  a, b, c: IDs ${ids.join(", ")}, cluster ${clusterId}, leader ${[...leaderIds][0]}`);

    // Writes replicate.
    for (const s of members) {
      const w = await req(s.clientURL, "PUT", `/v2/keys/srv/${s.name}`, { form: { value: s.name }, timeoutMs: 10_000 });
      assert.ok(w.status === 201 || w.status === 200, `PUT through ${s.name}: ${w.status} ${w.text}`);
    }
    for (const s of members) {
      for (const w of members) {
        const r = await req(s.clientURL, "GET", `/v2/keys/srv/${w.name}`, { query: { quorum: true }, timeoutMs: 10_000 });
        assert.is(r.json().node?.value, w.name, `${s.name} reads /srv/${w.name}: ${r.text}`);
      }
    }

    // ---- a member that is not in the records
    const lines: string[] = [];
    logs.set(outsider.name, lines);
    let failure: unknown = null;
    try {
      const r = await startMember(runtimeWith(records, lines, queried), configFor(outsider));
      await r.stop();
    } catch (e) {
      failure = e;
    }
    assert.ok(failure instanceof Error, `${outsider.name} (not in the SRV records) started`);
    assert.match((failure as Error).message, `cannot find local etcd member "${outsider.name}" in SRV records`);
    console.log(`  ${outsider.name} (${outsider.peerURL}, not in the records): ${(failure as Error).message}`);
    const still = await req(members[0]!.clientURL, "GET", "/v2/members");
    assert.is(still.json().members.length, 3, still.text);
    if (process.env.SRV_KEEP_LOGS) for (const [n, l] of logs) console.log(`===== ${n}\n${l.join("\n")}`);
  } catch (err) {
    console.error(`\n----- srv: a check failed: ${(err as Error)?.message ?? err}`);
    for (const [n, l] of logs) console.error(`===== ${n}\n${l.slice(-150).join("\n")}`);
    console.error("----- end of logs");
    throw err;
  } finally {
    await Promise.all(running.map(({ m }) => m.stop().catch((e: unknown) => console.error(`stop: ${String(e)}`))));
    try { rmSync(root, { recursive: true, force: true }); } catch { /* best effort */ }
  }
});

test.run();
