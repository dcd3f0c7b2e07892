// The proxy's cluster view (core/proxy/endpoints.ts) with a fake network, an in-memory disk
// and hand-fired timers: members from peer /members, the fallback to client /v2/members,
// refreshes that follow membership changes, the saved cluster file.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/proxy/endpoints.test.js
//   ./node_modules/.bin/bun test/unit/proxy/endpoints.test.ts
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryFileSystem } from "../../../core/fs/memory.ts";
import { ClusterEndpoints } from "../../../core/proxy/endpoints.ts";
import { RecordingLogger } from "../../support/memory-runtime.ts";

interface M {
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** Members served on every listed peer URL (GET /members) and client URL (GET /v2/members). */
function fakeCluster(initial: M[]) {
  let members = initial;
  const down = new Set<string>();
  const asked: string[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    const u = new URL(req.url);
    asked.push(u.origin + u.pathname);
    if (down.has(u.origin)) throw new TypeError("fetch failed");
    const isPeer = members.some((m) => m.peerURLs.some((p) => new URL(p).origin === u.origin));
    const isClient = members.some((m) => m.clientURLs.some((c) => new URL(c).origin === u.origin));
    if (isPeer && u.pathname === "/members") {
      const body = "[" + members.map((m, i) => `{"id":${10376865431093405000 + i},"name":${JSON.stringify(m.name)},"peerURLs":${JSON.stringify(m.peerURLs)},"clientURLs":${JSON.stringify(m.clientURLs)}}`).join(",") + "]";
      return new Response(body, { headers: { "Content-Type": "application/json", "X-Etcd-Cluster-Id": "cdf818194e3a8c32" } });
    }
    if (isClient && u.pathname === "/v2/members") {
      return Response.json({ members: members.map((m, i) => ({ id: (0x1000 + i).toString(16), ...m })) });
    }
    return new Response("404 page not found\n", { status: 404 });
  };
  return { fetch, down, asked, set: (m: M[]) => (members = m) };
}

function timers() {
  const pending: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    pending,
    setTimer: (ms: number, fn: () => void) => {
      const t = { ms, fn, cancelled: false };
      pending.push(t);
      return () => {
        t.cancelled = true;
      };
    },
    /** Fire the live timers (once each). */
    async fire(): Promise<void> {
      const due = pending.splice(0).filter((t) => !t.cancelled);
      for (const t of due) t.fn();
      await new Promise((r) => setTimeout(r, 10));
    },
    live: () => pending.filter((t) => !t.cancelled),
  };
}

const m1 = { name: "m1", peerURLs: ["http://10.0.0.1:2380"], clientURLs: ["http://10.0.0.1:2379"] };
const m2 = { name: "m2", peerURLs: ["http://10.0.0.2:2380"], clientURLs: ["http://10.0.0.2:2379"] };
const m3 = { name: "m3", peerURLs: ["http://10.0.0.3:2380"], clientURLs: ["http://10.0.0.3:2379", "http://10.0.0.3:4001"] };
const FILE = "/data/p/proxy/cluster";
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

test("learns the client URLs from a peer's /members, saves etcd's file format, refreshes on the interval", async () => {
  const net = fakeCluster([m1, m2]);
  const t = timers();
  const fs = new MemoryFileSystem();
  await fs.mkdir("/data/p/proxy");
  const log = new RecordingLogger();
  const ce = new ClusterEndpoints({ fetch: net.fetch, setTimer: t.setTimer, peerURLs: ["http://10.0.0.1:2380"], fs, file: FILE, log, refreshIntervalMs: 30_000 });
  await ce.start();
  assert.equal(ce.clientURLs(), ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]);
  assert.equal([...ce.endpoints()].sort(), ce.clientURLs());
  assert.equal(ce.peerURLs(), ["http://10.0.0.1:2380", "http://10.0.0.2:2380"]);
  assert.equal(JSON.parse(decode(await fs.readFile(FILE))), {
    PeerURLs: ["http://10.0.0.1:2380", "http://10.0.0.2:2380"],
    ClientURLs: ["http://10.0.0.1:2379", "http://10.0.0.2:2379"],
  });
  assert.ok(log.find("info", 'httpproxy: endpoints found ["http://10.0.0.1:2379" "http://10.0.0.2:2379"]').length === 1, log.dump());
  assert.equal(t.live().map((x) => x.ms), [30_000]);

  // A member joins and one leaves: the next refresh follows.
  const changes: string[][] = [];
  ce.onChange((urls) => changes.push(urls));
  net.set([m2, m3]);
  await t.fire();
  assert.equal(ce.clientURLs(), ["http://10.0.0.2:2379", "http://10.0.0.3:2379", "http://10.0.0.3:4001"]);
  assert.equal(ce.peerURLs(), ["http://10.0.0.2:2380", "http://10.0.0.3:2380"]);
  assert.equal(changes, [["http://10.0.0.2:2379", "http://10.0.0.3:2379", "http://10.0.0.3:4001"]]);
  assert.equal(JSON.parse(decode(await fs.readFile(FILE))).PeerURLs, ["http://10.0.0.2:2380", "http://10.0.0.3:2380"]);
  assert.ok(log.find("info", "proxy: updated peer urls in cluster file from [http://10.0.0.1:2380 http://10.0.0.2:2380] to [http://10.0.0.2:2380 http://10.0.0.3:2380]").length === 1, log.dump());
  assert.is(t.live().length, 1, "the next refresh is scheduled");

  // The saved file is read back (and etcd's own, without ClientURLs, too).
  assert.equal(await ClusterEndpoints.load(fs, FILE), {
    peerURLs: ["http://10.0.0.2:2380", "http://10.0.0.3:2380"],
    clientURLs: ["http://10.0.0.2:2379", "http://10.0.0.3:2379", "http://10.0.0.3:4001"],
  });
  await fs.writeFile("/etcd-cluster", new TextEncoder().encode('{"PeerURLs":["http://127.0.0.1:42380"]}'));
  assert.equal(await ClusterEndpoints.load(fs, "/etcd-cluster"), { peerURLs: ["http://127.0.0.1:42380"], clientURLs: [] });
  assert.is(await ClusterEndpoints.load(fs, "/missing"), null);

  ce.stop();
  assert.is(t.live().length, 0, "stop cancels the refresh timer");
});

test("the first answering peer wins; unreachable peers are skipped", async () => {
  const net = fakeCluster([m1, m2]);
  net.down.add("http://10.0.0.1:2380");
  const t = timers();
  const ce = new ClusterEndpoints({ fetch: net.fetch, setTimer: t.setTimer, peerURLs: ["http://10.0.0.1:2380", "http://10.0.0.2:2380"] });
  assert.ok(await ce.refresh());
  assert.equal(ce.clientURLs(), ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]);
  assert.equal(net.asked, ["http://10.0.0.1:2380/members", "http://10.0.0.2:2380/members"]);
});

test("with no peer answering (or none known), client URLs are asked GET /v2/members", async () => {
  const net = fakeCluster([m1, m2]);
  const t = timers();
  const ce = new ClusterEndpoints({ fetch: net.fetch, setTimer: t.setTimer, clientURLs: ["http://10.0.0.2:2379"] });
  assert.equal(ce.endpoints(), ["http://10.0.0.2:2379"], "usable before the first refresh");
  assert.ok(await ce.refresh());
  assert.equal(ce.clientURLs(), ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]);
  assert.equal(ce.peerURLs(), ["http://10.0.0.1:2380", "http://10.0.0.2:2380"]);
  assert.equal(net.asked, ["http://10.0.0.2:2379/v2/members"]);
  // Later refreshes ask the peers first.
  net.asked.length = 0;
  await ce.refresh();
  assert.equal(net.asked, ["http://10.0.0.1:2380/members"]);
});

test("a failed refresh keeps the last known endpoints; with none, retries every second", async () => {
  const net = fakeCluster([m1]);
  const t = timers();
  const log = new RecordingLogger();
  const ce = new ClusterEndpoints({ fetch: net.fetch, setTimer: t.setTimer, peerURLs: ["http://10.0.0.1:2380"], log });
  await ce.start();
  assert.equal(ce.clientURLs(), ["http://10.0.0.1:2379"]);
  net.down.add("http://10.0.0.1:2380").add("http://10.0.0.1:2379");
  await t.fire();
  assert.equal(ce.clientURLs(), ["http://10.0.0.1:2379"]);
  assert.ok(log.find("warn", "proxy: could not get the cluster members").length === 1, log.dump());
  ce.stop();

  const empty = new ClusterEndpoints({ fetch: net.fetch, setTimer: t.setTimer, peerURLs: ["http://10.0.0.1:2380"] });
  t.pending.length = 0;
  await empty.start();
  assert.equal(empty.endpoints(), []);
  assert.equal(t.live().map((x) => x.ms), [1000]);
  empty.stop();
});

test("the endpoint order is shuffled at each refresh", async () => {
  const many = Array.from({ length: 8 }, (_, i) => ({ name: `m${i}`, peerURLs: [`http://10.0.1.${i}:2380`], clientURLs: [`http://10.0.1.${i}:2379`] }));
  const net = fakeCluster(many);
  const t = timers();
  let seed = 7;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const ce = new ClusterEndpoints({ fetch: net.fetch, setTimer: t.setTimer, peerURLs: ["http://10.0.1.0:2380"], random });
  await ce.refresh();
  const first = ce.endpoints();
  await ce.refresh();
  const second = ce.endpoints();
  assert.equal([...first].sort(), ce.clientURLs());
  assert.ok(first.join() !== ce.clientURLs().join() || second.join() !== ce.clientURLs().join(), "not simply sorted");
});

test.run();
