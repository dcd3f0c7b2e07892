// The v2 proxy end to end: startProxy in this process on Node (createNodeRuntime), in front of
// a real member process (ours, and real etcd when installed; PROXY_TARGETS=node|etcd to pick).
// Set, get and watch go through it; readonly refuses writes; the cluster file is written and
// read back on restart; a refresh follows a changed member list (faked with a stub peer
// endpoint whose /members answer the test changes); unreachable members give etcd's 502/503.
//
//   npx tsc -p tsconfig.json && node dist/test/proxy/proxy.test.js
import { readFileSync, rmSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseConfig } from "../../core/config.ts";
import type { Config } from "../../core/config.ts";
import { startProxy } from "../../core/proxy/start.ts";
import type { RunningProxy } from "../../core/proxy/start.ts";
import type { Listener, Runtime } from "../../core/runtime.ts";
import { createNodeRuntime } from "../../runtimes/node/runtime.ts";
import { RecordingLogger } from "../support/memory-runtime.ts";
import { etcdInstalled, freePort, parseTargets, sleep, startMember, tempDir } from "../support/processes.ts";
import type { Member, TargetName } from "../support/processes.ts";

function proxyConfig(args: string[]): Config {
  const r = parseConfig(args, {});
  if (r.kind !== "ok") throw new Error(`parseConfig: ${JSON.stringify(r)}`);
  return r.config;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function proxySuite(target: TargetName): void {
  const s = suite(`v2 proxy in front of ${target}`);
  let member: Member | null = null;
  let setupError: unknown = null;
  const log = new RecordingLogger();
  const rt: Runtime = createNodeRuntime({ log });
  const dirs: string[] = [];
  const running: RunningProxy[] = [];
  const listeners: Listener[] = [];

  const backend = (): Member => {
    if (setupError !== null) throw setupError;
    if (member === null) throw new Error("no member");
    return member;
  };

  async function proxy(extra: string[], dataDir?: string): Promise<{ p: RunningProxy; url: string; dataDir: string }> {
    const dir = dataDir ?? tempDir("etcd-ts-proxy-");
    if (dataDir === undefined) dirs.push(dir);
    const port = await freePort();
    const cfg = proxyConfig(["--name", "p", "--data-dir", dir, "--listen-client-urls", `http://127.0.0.1:${port}`, ...extra]);
    const p = await startProxy(rt, cfg);
    running.push(p);
    return { p, url: `http://127.0.0.1:${p.clientPorts[0]}`, dataDir: dir };
  }

  s.before(async () => {
    try {
      member = await startMember(target, { name: "m1" });
    } catch (e) {
      setupError = e; // uvu 0.5 swallows errors thrown in hooks
    }
  });
  s.after(async () => {
    for (const p of running) await p.stop();
    for (const l of listeners) await l.close();
    await member?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  s("set, get and watch through the proxy; the cluster file holds the peer URLs", async () => {
    const m = backend();
    const { p, url, dataDir } = await proxy(["--proxy", "on", "--initial-cluster", `${m.name}=${m.peerURL}`]);
    assert.equal(p.cluster.endpoints(), [m.clientURL]);

    const set = await fetch(`${url}/v2/keys/proxied/a`, { method: "PUT", body: new URLSearchParams({ value: "1" }) });
    assert.is(set.status, 201);
    const setBody = (await set.json()) as { action: string; node: { modifiedIndex: number } };
    assert.is(setBody.action, "set");
    assert.ok(set.headers.get("x-etcd-index") !== null, "etcd's headers pass through");

    const got = await fetch(`${url}/v2/keys/proxied/a`);
    assert.is(got.status, 200);
    assert.equal(((await got.json()) as { node: { value: string } }).node.value, "1");
    const direct = (await (await fetch(`${m.clientURL}/v2/keys/proxied/a`)).json()) as { node: { value: string } };
    assert.is(direct.node.value, "1");

    // An error answer passes through as it is.
    const missing = await fetch(`${url}/v2/keys/proxied/nope`);
    assert.is(missing.status, 404);
    assert.is(((await missing.json()) as { errorCode: number }).errorCode, 100);

    // A long-poll watch through the proxy sees a write made directly on the member.
    const watch = fetch(`${url}/v2/keys/proxied?wait=true&recursive=true&waitIndex=${setBody.node.modifiedIndex + 1}`);
    await sleep(200);
    await fetch(`${m.clientURL}/v2/keys/proxied/b`, { method: "PUT", body: new URLSearchParams({ value: "2" }) });
    const w = await withTimeout(watch, 10_000, "watch");
    assert.is(w.status, 200);
    const ev = (await w.json()) as { action: string; node: { key: string; value: string } };
    assert.equal([ev.action, ev.node.key, ev.node.value], ["set", "/proxied/b", "2"]);

    // A streaming watch (stream=true) delivers events one by one while it stays open.
    const ac = new AbortController();
    const stream = await withTimeout(fetch(`${url}/v2/keys/streamed?wait=true&stream=true`, { signal: ac.signal }), 10_000, "stream headers");
    assert.is(stream.status, 200);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (const v of ["x", "y"]) {
      await fetch(`${m.clientURL}/v2/keys/streamed`, { method: "PUT", body: new URLSearchParams({ value: v }) });
      while (!text.includes(`"value":"${v}"`)) {
        const r = await withTimeout(reader.read(), 10_000, `stream event ${v}`);
        if (r.done) break;
        text += decoder.decode(r.value, { stream: true });
      }
      assert.ok(text.includes(`"value":"${v}"`), text);
    }
    ac.abort();
    await reader.cancel().catch(() => {});

    const local = await fetch(`${url}/v2/config/local/proxy`);
    assert.is(await local.text(), JSON.stringify({ endpoints: [m.clientURL] }) + "\n");

    const saved = JSON.parse(readFileSync(`${dataDir}/proxy/cluster`, "utf8")) as { PeerURLs: string[] };
    assert.equal(saved.PeerURLs, [m.peerURL]);
    await p.stop();
    await p.done;

    // Restarted on the same data dir without --initial-cluster, it uses the saved file.
    const again = await proxy(["--proxy", "on"], dataDir);
    assert.equal(again.p.cluster.endpoints(), [m.clientURL]);
    const g2 = await fetch(`${again.url}/v2/keys/proxied/a`);
    assert.is(((await g2.json()) as { node: { value: string } }).node.value, "1");
    assert.ok(log.find("info", `from cluster file "${dataDir}/proxy/cluster"`).length >= 1, log.dump());
    await again.p.stop();
  });

  s("readonly: writes get 501, reads are served", async () => {
    const m = backend();
    const { p, url } = await proxy(["--proxy", "readonly", "--initial-cluster", `${m.name}=${m.peerURL}`]);
    const put = await fetch(`${url}/v2/keys/ro`, { method: "PUT", body: new URLSearchParams({ value: "1" }) });
    assert.is(put.status, 501);
    assert.is(await put.text(), "");
    const del = await fetch(`${url}/v2/keys/proxied/a`, { method: "DELETE" });
    assert.is(del.status, 501);
    const get = await fetch(`${url}/v2/keys/proxied/a`);
    assert.is(get.status, 200);
    assert.is((await fetch(`${m.clientURL}/v2/keys/ro`)).status, 404);
    await p.stop();
  });

  s("a refresh follows a changed member list", async () => {
    const m = backend();
    // A stub peer endpoint: its /members answer is what the test says the cluster is.
    let members = [{ id: 1, name: m.name, peerURLs: ["PEER"], clientURLs: [m.clientURL] }];
    const stubPeer = await rt.serve({ hostname: "127.0.0.1", port: 0 }, (req) =>
      new URL(req.url).pathname === "/members"
        ? new Response(JSON.stringify(members), { headers: { "Content-Type": "application/json", "X-Etcd-Cluster-Id": "1" } })
        : new Response("404 page not found\n", { status: 404 }),
    );
    listeners.push(stubPeer);
    const peerURL = `http://127.0.0.1:${stubPeer.port}`;
    members[0]!.peerURLs = [peerURL];
    // A stub client endpoint standing for a member that joined.
    const stubClient = await rt.serve({ hostname: "127.0.0.1", port: 0 }, () =>
      new Response(JSON.stringify({ action: "get", node: { key: "/from-new-member", value: "new" } }), { headers: { "Content-Type": "application/json" } }),
    );
    listeners.push(stubClient);
    const newClientURL = `http://127.0.0.1:${stubClient.port}`;

    const { p, url, dataDir } = await proxy(["--proxy", "on", "--proxy-refresh-interval", "200", "--initial-cluster", `stub=${peerURL}`]);
    assert.equal(p.cluster.endpoints(), [m.clientURL]);
    const before = (await (await fetch(`${url}/v2/keys/proxied/a`)).json()) as { node: { value: string } };
    assert.is(before.node.value, "1");

    // The old member leaves, a new one joins.
    members = [{ id: 2, name: "m2", peerURLs: [peerURL], clientURLs: [newClientURL] }];
    const deadline = Date.now() + 15000;
    while (p.cluster.endpoints()[0] !== newClientURL && Date.now() < deadline) await sleep(50);
    assert.equal(p.cluster.endpoints(), [newClientURL]);
    const after = (await (await fetch(`${url}/v2/keys/proxied/a`)).json()) as { node: { key: string } };
    assert.is(after.node.key, "/from-new-member");
    // The file is rewritten just after the endpoints change (a write and a rename): wait for it.
    const savedURLs = (): string[] => (JSON.parse(readFileSync(`${dataDir}/proxy/cluster`, "utf8")) as { ClientURLs: string[] }).ClientURLs;
    while (savedURLs()[0] !== newClientURL && Date.now() < deadline) await sleep(50);
    assert.equal(savedURLs(), [newClientURL]);
    await p.stop();
  });

  s("no member reachable: 502 for the request that tried, then 503 zero endpoints", async () => {
    const m = backend();
    const deadPort = await freePort();
    let members = [{ id: 1, name: "gone", peerURLs: ["x"], clientURLs: [`http://127.0.0.1:${deadPort}`] }];
    const stubPeer = await rt.serve({ hostname: "127.0.0.1", port: 0 }, () =>
      new Response(JSON.stringify(members), { headers: { "Content-Type": "application/json", "X-Etcd-Cluster-Id": "1" } }),
    );
    listeners.push(stubPeer);
    const { p, url } = await proxy(["--proxy", "on", "--initial-cluster", `stub=http://127.0.0.1:${stubPeer.port}`]);
    const r1 = await fetch(`${url}/v2/keys/x`);
    assert.is(r1.status, 502);
    assert.is(await r1.text(), '{"message":"httpproxy: unable to get response from 1 endpoint(s)"}');
    const r2 = await fetch(`${url}/v2/keys/x`);
    assert.is(r2.status, 503);
    assert.is(await r2.text(), '{"message":"httpproxy: zero endpoints currently available"}');
    assert.ok(m.clientURL !== "");
    members = [];
    await p.stop();
  });

  s.run();
}

const targets = parseTargets(process.env.PROXY_TARGETS ?? "node,etcd").filter((t) => t !== "etcd" || etcdInstalled());
for (const t of targets) proxySuite(t);
