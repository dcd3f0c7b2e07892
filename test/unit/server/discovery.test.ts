// v2 discovery (core/server/discovery.ts) against a real member process acting as the
// discovery service: ours on Node, and real etcd when it is installed (DISCOVERY_TARGETS=node
// or =etcd to pick). The "joiners" are plain calls of discoverCluster; no member starts.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/server/discovery.test.js
//   ./node_modules/.bin/bun test/unit/server/discovery.test.ts
import { suite, test as test0 } from "uvu";
import * as assert from "uvu/assert";
import {
  DiscoveryError,
  ERR_BAD_SIZE_KEY,
  ERR_DUPLICATE_ID,
  ERR_DUPLICATE_NAME,
  ERR_SIZE_NOT_FOUND,
  ERR_TIMEOUT,
  discoverCluster,
  getDiscoveredCluster,
  joinFailureMessage,
} from "../../../core/server/discovery.ts";
import type { DiscoveryRuntime } from "../../../core/server/discovery.ts";
import { memberId } from "../../../core/server/ids.ts";
import { RecordingLogger } from "../../support/memory-runtime.ts";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { etcdBinary, etcdInstalled, freePorts, parseTargets, startMember, tempDir } from "../../support/processes.ts";
import type { Member, TargetName } from "../../support/processes.ts";

const realRuntime: DiscoveryRuntime = {
  fetch: (r) => fetch(r),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

let tokenSeq = 0;
const newToken = (): string => `tok${Date.now().toString(36)}${tokenSeq++}`;

async function put(url: string, value: string): Promise<void> {
  const r = await fetch(url, { method: "PUT", body: new URLSearchParams({ value }) });
  if (r.status >= 300) throw new Error(`PUT ${url}: ${r.status} ${await r.text()}`);
}

interface Listed {
  key: string;
  value: string;
  createdIndex: number;
}

async function list(dirURL: string): Promise<Listed[]> {
  const r = await fetch(dirURL + "?recursive=true");
  const body = (await r.json()) as { node: { nodes?: Listed[] } };
  return (body.node.nodes ?? []).filter((n) => !n.key.endsWith("/_config")).sort((a, b) => a.createdIndex - b.createdIndex);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

const joiner = (url: string, name: string, port: number, extra: { log?: RecordingLogger; timeoutMs?: number } = {}) =>
  discoverCluster(realRuntime, { url, name, peerURLs: [`http://127.0.0.1:${port}`], ...extra });

function discoverySuite(target: TargetName): void {
  const s = suite(`discovery against ${target}`);
  let member: Member | null = null;
  let setupError: unknown = null;
  const service = (): Member => {
    if (setupError !== null) throw setupError;
    if (member === null) throw new Error("no discovery service");
    return member;
  };
  const tokenURL = (token: string): string => `${service().clientURL}/v2/keys/_etcd/registry/${token}`;

  s.before(async () => {
    try {
      member = await startMember(target, { name: "disc" });
    } catch (e) {
      setupError = e; // uvu 0.5 swallows errors thrown in hooks
    }
  });
  s.after(async () => {
    await member?.stop();
  });

  s("three concurrent joiners get the same initial cluster; a fourth finds it full and does not register", async () => {
    const url = tokenURL(newToken());
    await put(`${url}/_config/size`, "3");
    const results = await Promise.all([joiner(url, "m1", 10001), joiner(url, "m2", 10002), joiner(url, "m3", 10003)]);
    for (const r of results) assert.is(r.kind, "ok");
    const clusters = results.map((r) => (r.kind === "ok" ? r.initialCluster : ""));
    assert.is(clusters[1], clusters[0]);
    assert.is(clusters[2], clusters[0]);

    // The registry: keys are the member IDs derived with the discovery URL as token, values
    // "name=peerURL", and the initial cluster lists them in createdIndex order.
    const nodes = await list(url);
    assert.is(nodes.length, 3);
    assert.is(clusters[0], nodes.map((n) => n.value).join(","));
    assert.equal(nodes.map((n) => n.value).sort(), ["m1=http://127.0.0.1:10001", "m2=http://127.0.0.1:10002", "m3=http://127.0.0.1:10003"]);
    for (const n of nodes) {
      const port = n.value.slice(n.value.lastIndexOf(":") + 1);
      assert.is(n.key.slice(n.key.lastIndexOf("/") + 1), await memberId([`http://127.0.0.1:${port}`], url));
    }

    const fourth = await joiner(url, "m4", 10004);
    assert.is(fourth.kind, "full");
    if (fourth.kind === "full") {
      assert.is(fourth.initialCluster, clusters[0]);
      assert.equal(fourth.peerURLs, ["http://127.0.0.1:10001", "http://127.0.0.1:10002", "http://127.0.0.1:10003"]);
      assert.equal(fourth.clientURLs, []); // nobody listens on those peer URLs
    }
    assert.is((await list(url)).length, 3, "the fourth member must not register");

    // A proxy's view (etcd's GetCluster) of the full cluster.
    assert.is(await getDiscoveredCluster(realRuntime, { url }), clusters[0]);

    // A member that registered before (same ID) is refused.
    const again = await rejection(joiner(url, "m1", 10001));
    assert.instance(again, DiscoveryError);
    assert.is(again.message, ERR_DUPLICATE_ID);
    assert.is(joinFailureMessage(again), "failed to join discovery cluster (discovery: found duplicate id)");
  });

  s("a joiner waits for the others, and logs as etcd does", async () => {
    const url = tokenURL(newToken());
    await put(`${url}/_config/size`, "2");
    const log = new RecordingLogger();
    const first = joiner(url, "a", 10011, { log });
    // Let the first one register and start waiting.
    for (let i = 0; i < 50 && (await list(url)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const second = await joiner(url, "b", 10012);
    const r1 = await first;
    assert.is(r1.kind, "ok");
    assert.is(second.kind, "ok");
    if (r1.kind === "ok" && second.kind === "ok") {
      assert.is(r1.initialCluster, "a=http://127.0.0.1:10011,b=http://127.0.0.1:10012");
      assert.is(second.initialCluster, r1.initialCluster);
    }
    const id = await memberId(["http://127.0.0.1:10011"], url);
    assert.ok(log.find("info", `discovery: found self ${id} in the cluster`).length === 1, log.dump());
    assert.ok(log.find("info", "discovery: found 1 peer(s), waiting for 1 more").length === 1, log.dump());
    assert.ok(log.find("info", "discovery: found 2 needed peer(s)").length === 1, log.dump());
  });

  s("a member registering with several peer URLs registers them sorted, comma-separated", async () => {
    const url = tokenURL(newToken());
    await put(`${url}/_config/size`, "1");
    const r = await discoverCluster(realRuntime, { url, name: "multi", peerURLs: ["http://127.0.0.1:10022", "http://127.0.0.1:10021"] });
    assert.equal(r, { kind: "ok", initialCluster: "multi=http://127.0.0.1:10021,multi=http://127.0.0.1:10022" });
  });

  s("size key missing -> discovery: size key not found", async () => {
    const e = await rejection(joiner(tokenURL(newToken()), "x", 10031));
    assert.instance(e, DiscoveryError);
    assert.is(e.message, ERR_SIZE_NOT_FOUND);
  });

  s("size key not a number -> discovery: size key is bad", async () => {
    for (const bad of ["x", "3.0", " 3", ""]) {
      const url = tokenURL(newToken());
      await put(`${url}/_config/size`, bad);
      const e = await rejection(joiner(url, "x", 10032));
      assert.is(e.message, ERR_BAD_SIZE_KEY, `size ${JSON.stringify(bad)}`);
    }
  });

  s("two members with the same name -> discovery: found duplicate name", async () => {
    const url = tokenURL(newToken());
    await put(`${url}/_config/size`, "2");
    const rs = await Promise.allSettled([joiner(url, "same", 10041), joiner(url, "same", 10042)]);
    for (const r of rs) {
      assert.is(r.status, "rejected");
      if (r.status === "rejected") assert.is((r.reason as Error).message, ERR_DUPLICATE_NAME);
    }
  });

  s("connection errors are retried with exponential back-off", async () => {
    const url = tokenURL(newToken());
    await put(`${url}/_config/size`, "1");
    let failures = 2;
    const delays: number[] = [];
    const flaky: DiscoveryRuntime = {
      fetch: (r) => (failures-- > 0 ? Promise.reject(new TypeError("fetch failed")) : fetch(r)),
      setTimer: (ms, fn) => {
        delays.push(ms);
        return realRuntime.setTimer(ms, fn);
      },
    };
    const log = new RecordingLogger();
    const r = await discoverCluster(flaky, { url, name: "f", peerURLs: ["http://127.0.0.1:10051"], log, retryBaseMs: 5 });
    assert.equal(r, { kind: "ok", initialCluster: "f=http://127.0.0.1:10051" });
    const retries = log.find("info", /cluster status check: error connecting to http:\/\/127\.0\.0\.1:\d+, retrying in/);
    assert.is(retries.length, 2, log.dump());
    assert.ok(delays.includes(10) && delays.includes(20), `back-off 5*2^1 then 5*2^2 ms: ${delays.join(",")}`);
  });

  s("the overall timeout bounds the wait for missing members", async () => {
    const url = tokenURL(newToken());
    await put(`${url}/_config/size`, "3");
    const t0 = Date.now();
    const e = await rejection(joiner(url, "lonely", 10061, { timeoutMs: 400 }));
    assert.instance(e, DiscoveryError);
    assert.ok(e.message.startsWith(ERR_TIMEOUT), e.message);
    assert.ok(Date.now() - t0 < 5000);
  });

  s("a full cluster's client URLs come from its members' peer /members", async () => {
    const m = service();
    const url = tokenURL(newToken());
    await put(`${url}/_config/size`, "1");
    // Register the discovery service's own member, so that its peer URL answers /members.
    const first = await discoverCluster(realRuntime, { url, name: m.name, peerURLs: [m.peerURL] });
    assert.is(first.kind, "ok");
    const extra = await joiner(url, "extra", 10071);
    assert.equal(extra, { kind: "full", initialCluster: `${m.name}=${m.peerURL}`, peerURLs: [m.peerURL], clientURLs: [m.clientURL] });
  });

  if (etcdInstalled()) {
    s("interop: a real etcd member and our joiner bootstrap the same cluster through one token", async () => {
      const url = tokenURL(newToken());
      await put(`${url}/_config/size`, "2");
      const [client, peer] = await freePorts(2);
      const dir = tempDir("etcd-ts-disc-etcd-");
      const etcdPeer = `http://127.0.0.1:${peer}`;
      const child = spawn(etcdBinary()!, [
        "--name", "real", "--data-dir", dir,
        "--listen-client-urls", `http://127.0.0.1:${client}`, "--advertise-client-urls", `http://127.0.0.1:${client}`,
        "--listen-peer-urls", etcdPeer, "--initial-advertise-peer-urls", etcdPeer,
        "--discovery", url,
      ], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (out += d));
      try {
        const ours = await joiner(url, "ours", 10081);
        assert.is(ours.kind, "ok", out);
        const nodes = await list(url);
        assert.is(nodes.length, 2);
        const etcdNode = nodes.find((n) => n.value === `real=${etcdPeer}`);
        assert.ok(etcdNode, JSON.stringify(nodes));
        // etcd registered under the ID we derive for it (discovery URL as the token).
        assert.is(etcdNode!.key.slice(etcdNode!.key.lastIndexOf("/") + 1), await memberId([etcdPeer], url));
        if (ours.kind === "ok") assert.is(ours.initialCluster, nodes.map((n) => n.value).join(","));
        // etcd found the same two members (it then waits for ours to start, which never happens).
        for (let i = 0; i < 100 && !out.includes("found 2 needed peer(s)"); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(out.includes("found 2 needed peer(s)"), out);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once("exit", r));
          child.kill("SIGKILL");
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  s.run();
}

test0("member IDs for discovery use the discovery URL as token (observed with etcd 3.4.23)", async () => {
  assert.is(await memberId(["http://127.0.0.1:45380"], "http://127.0.0.1:42379/v2/keys/_etcd/registry/dup"), "fe6593168a0b3f36");
});
test0.run();

const targets = parseTargets(process.env.DISCOVERY_TARGETS ?? "node,etcd").filter((t) => t !== "etcd" || etcdInstalled());
for (const t of targets) discoverySuite(t);
