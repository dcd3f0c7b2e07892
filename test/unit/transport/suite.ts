// The transport suite: transports exchanging Raft messages on real ports in one process:
// streams, POST fallback, snapshots, reconnects, identity refusals, and a clean stop. Entry
// points pick the runtime adapter:
//
//   node dist/test/unit/transport/transport.test.js       (Node, after npx tsc -p tsconfig.json)
//   ./node_modules/.bin/bun test/unit/transport/transport.test.ts    (Bun, node:http server)
//   ./node_modules/.bin/bun test/unit/transport/transport-bunserve.bun.ts  (Bun.serve)
//   ./node_modules/.bin/deno run -A test/unit/transport/transport.deno.ts
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encode } from "@msgpack/msgpack";
import { encodeBatch, encodeMessage } from "../../../core/transport/codec.ts";
import { encodeFrames, KEEPALIVE_FRAME } from "../../../core/transport/framing.ts";
import type { Message } from "../../../core/raft/types.ts";
import { bytes, CID, collectGarbage, count, mesh, msg, newRuntime, type Node, peerHeaders, type RuntimeFactory, sleep, startNode, until, useRuntime } from "./helpers.ts";

declare const Deno: unknown;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function runTransportSuite(f: RuntimeFactory): void {
  useRuntime(f);

  async function all(...nodes: Node[]): Promise<void> {
    await Promise.all(nodes.map((n) => n.stop()));
  }

  /** Resolves with how long `p` took; fails the test if that is over `limitMs`. */
  async function prompt(what: string, p: Promise<void>, limitMs = 1500): Promise<number> {
    const start = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => { timer = setTimeout(() => r("late"), limitMs); });
    const r = await Promise.race([p.then(() => "ok" as const), late]);
    clearTimeout(timer);
    assert.is(r, "ok", `${what} did not resolve within ${limitMs} ms`);
    return Date.now() - start;
  }

  async function streamsUp(nodes: Node[]): Promise<void> {
    for (const a of nodes) {
      for (const b of nodes) {
        if (a === b) continue;
        await until(`${a.id}<->${b.id} streams`, () => {
          const s = a.t.streamState(b.id);
          return !!s && s.reading && s.writing;
        });
      }
    }
  }

  test("three members: streams come up both ways and carry many messages in order", async () => {
    const [a, b, c] = await Promise.all([startNode("a"), startNode("b"), startNode("c")]);
    try {
      mesh([a, b, c]);
      await streamsUp([a, b, c]);
      assert.ok(a.t.isActive("b") && b.t.isActive("a") && c.t.isActive("a"));
      assert.ok(a.t.activeSince("b") > 0);
      assert.is(a.t.activeSince("zz"), 0);
      const N = 6000;
      for (let round = 0; round < N / 1000; round++) {
        const out: Message[] = [];
        for (let i = round * 1000; i < (round + 1) * 1000; i++) {
          const data = bytes(i % 50, i);
          out.push(msg("a", "b", { type: "MsgApp", index: i, entries: [{ index: i + 1, term: 1, type: "normal", data }] }));
          out.push(msg("a", "c", { type: "MsgApp", index: i, entries: [] }));
          if (i % 10 === 0) out.push(msg("b", "a", { index: i })); // b -> a through b's own transport below
        }
        a.t.send(out.filter((m) => m.from === "a"));
        b.t.send(out.filter((m) => m.from === "b"));
        await sleep(1);
      }
      await until("b got all", () => b.received.length === N);
      await until("c got all", () => c.received.length === N);
      await until("a got b's", () => a.received.length === N / 10);
      b.received.forEach((m, i) => {
        assert.is(m.index, i);
        assert.is(m.from, "a");
        assert.equal(m.entries[0]!.data, bytes(i % 50, i));
      });
      c.received.forEach((m, i) => assert.is(m.index, i));
      a.received.forEach((m, i) => assert.is(m.index, i * 10));
      // No POST was needed: everything went by the streams.
      assert.is(count(b, "POST /raft"), 0);
      assert.is(count(c, "POST /raft"), 0);
      await until("onSent counted", () => a.sent.ok === 2 * N);
      assert.is(a.sent.failed, 0);
      // One stream dial per direction, no reconnects while idle-but-alive (keepalives).
      await sleep(1200);
      assert.is(count(a, "GET /raft/stream/b"), 1);
      assert.is(count(b, "GET /raft/stream/a"), 1);
      assert.ok(a.t.isActive("b"));
    } finally {
      await all(a, b, c);
    }
  });

  test("no stream: messages go by POST /raft; later by the stream once it is up", async () => {
    const [a, b] = await Promise.all([startNode("a"), startNode("b")]);
    try {
      a.t.addPeer("b", [b.url]); // b does not know a yet: it will not dial a's stream
      // a dials b, but b refuses a stream from a member it does not know (404).
      await until("a dialed b", () => count(b, "GET /raft/stream/a") >= 1);
      assert.equal(a.t.streamState("b"), { reading: false, writing: false });
      const out = Array.from({ length: 500 }, (_, i) => msg("a", "b", { index: i }));
      a.t.send(out);
      await until("b got all by POST", () => b.received.length === 500);
      assert.equal(b.received.map((m) => m.index).sort((x, y) => x - y), out.map((m) => m.index));
      assert.ok(count(b, "POST /raft") >= 1);
      assert.ok(count(b, "POST /raft") <= 500, "batched");
      await until("onSent", () => a.sent.ok === 500);
      // b learns about a: it dials a, and a's messages switch to the stream.
      b.t.addPeer("a", [a.url]);
      await until("a writes to b's stream", () => a.t.streamState("b")!.writing);
      const posts = count(b, "POST /raft");
      b.received.length = 0;
      a.t.send(Array.from({ length: 100 }, (_, i) => msg("a", "b", { index: i })));
      await until("b got them", () => b.received.length === 100);
      assert.equal(b.received.map((m) => m.index), Array.from({ length: 100 }, (_, i) => i));
      assert.is(count(b, "POST /raft"), posts);
    } finally {
      await all(a, b);
    }
  });

  test("a sender not yet known (X-PeerURLs) is answered as a remote: by POST only, until it is added", async () => {
    const [a, b] = await Promise.all([startNode("a", { peerURLs: ["http://127.0.0.1:9/"] }), startNode("b")]);
    try {
      // a advertises its peer URLs with its requests.
      a.t.addPeer("b", [b.url]);
      a.t.send([msg("a", "b", { index: 1 })]);
      await until("b got a's message", () => b.received.length === 1);
      assert.is(b.advertised.get("a"), "http://127.0.0.1:9/");
      // Without X-PeerURLs nothing can be learnt: an answer to that sender is dropped.
      const post = (headers: Record<string, string>) =>
        fetch(b.url + "/raft", { method: "POST", headers: { ...headers, "Content-Type": "application/x-msgpack" }, body: encodeBatch([encodeMessage(msg("c", "b", { index: 2 }))]) as Uint8Array<ArrayBuffer> });
      assert.is((await post(peerHeaders("c", "b"))).status, 204);
      b.t.send([msg("b", "c", { index: 3 })]);
      // With it, b keeps the URLs of c (a real node here) and its answers reach c by POST.
      const c = await startNode("c");
      try {
        assert.is((await post({ ...peerHeaders("c", "b"), "X-PeerURLs": c.url })).status, 204);
        b.t.send([msg("b", "c", { index: 4 }), msg("b", "c", { index: 5 })]);
        await until("c got b's answers", () => c.received.length === 2);
        assert.equal(c.received.map((m) => m.index), [4, 5]);
        assert.ok(count(c, "POST /raft") >= 1);
        // A remote has no streams: b never dials c.
        await sleep(200);
        assert.is(count(c, "GET /raft/stream/b"), 0);
        assert.equal(b.t.streamState("c"), undefined);
        // Once c is a real peer of b, the remote is forgotten and streams come up.
        b.t.addPeer("c", [c.url]);
        c.t.addPeer("b", [b.url]);
        await until("b<->c streams", () => b.t.streamState("c")?.reading === true && c.t.streamState("b")?.writing === true);
        c.received.length = 0;
        b.t.send([msg("b", "c", { index: 6 })]);
        await until("c got it", () => c.received.length === 1);
      } finally {
        await c.stop();
      }
    } finally {
      await all(a, b);
    }
  });

  test("a message over streamMessageMaxBytes goes by POST even with the stream up", async () => {
    const tuning = { streamMessageMaxBytes: 10_000 };
    const [a, b] = await Promise.all([startNode("a", { tuning }), startNode("b", { tuning })]);
    try {
      mesh([a, b]);
      await streamsUp([a, b]);
      const big = msg("a", "b", { type: "MsgApp", index: 7, entries: [{ index: 8, term: 1, type: "normal", data: bytes(50_000, 3) }] });
      a.t.send([msg("a", "b", { index: 6 }), big]);
      await until("both", () => b.received.length === 2);
      assert.is(count(b, "POST /raft"), 1);
      const got = b.received.find((m) => m.index === 7)!;
      assert.equal(got.entries[0]!.data, bytes(50_000, 3));
    } finally {
      await all(a, b);
    }
  });

  test("snapshot: 5 MB by POST /raft/snapshot, status reported", async () => {
    const [a, b] = await Promise.all([startNode("a"), startNode("b")]);
    try {
      mesh([a, b]);
      await streamsUp([a, b]);
      const data = bytes(5 * 1024 * 1024, 9);
      const snap = msg("a", "b", {
        type: "MsgSnap", term: 4,
        snapshot: { data, metadata: { index: 1234, term: 4, confState: { voters: ["a", "b"] } } },
      });
      a.t.send([snap, msg("a", "b", { index: 1 })]);
      await until("snapshot status", () => a.snapStatus.length === 1, 10000);
      assert.equal(a.snapStatus, [["b", true]]);
      const got = b.received.find((m) => m.type === "MsgSnap")!;
      assert.ok(got, "snapshot received");
      assert.is(got.snapshot!.metadata.index, 1234);
      assert.equal(got.snapshot!.metadata.confState.voters, ["a", "b"]);
      assert.is(got.snapshot!.data.length, data.length);
      assert.ok(sameBytes(got.snapshot!.data, data), "snapshot data intact");
      assert.is(count(b, "POST /raft/snapshot"), 1);
    } finally {
      await all(a, b);
    }
  });

  test("snapshot to an unreachable peer fails: status false, unreachable reported", async () => {
    const a = await startNode("a");
    const gone = await startNode("d1");
    const deadURL = gone.url;
    await gone.stop();
    try {
      a.t.addPeer("d1", [deadURL]);
      a.t.send([msg("a", "d1", { type: "MsgSnap", snapshot: { data: bytes(1000), metadata: { index: 5, term: 1, confState: { voters: ["a", "d1"] } } } })]);
      await until("status", () => a.snapStatus.length === 1);
      assert.equal(a.snapStatus, [["d1", false]]);
      assert.ok(a.unreachable.includes("d1"));
      // Heartbeats with no stream go by POST and fail: counted as failed sends.
      a.t.send([msg("a", "d1"), msg("a", "d1")]);
      await until("failed sends", () => a.sent.failed >= 3);
      assert.not.ok(a.t.isActive("d1"));
    } finally {
      await a.stop();
    }
  });

  test("peer restart: streams drop, unreachable is reported, and they reconnect", async () => {
    const a = await startNode("a");
    let b = await startNode("b");
    try {
      mesh([a, b]);
      await streamsUp([a, b]);
      const port = b.port;
      await b.stop();
      await until("a sees b gone", () => !a.t.isActive("b"));
      assert.ok(a.unreachable.includes("b"));
      // Messages while b is down are dropped (POST fails), never piled up.
      a.t.send([msg("a", "b", { index: 1 })]);
      await until("failed", () => a.sent.failed >= 1);
      b = await startNode("b", { port });
      b.t.addPeer("a", [a.url]);
      await streamsUp([a, b]);
      a.t.send([msg("a", "b", { index: 2 })]);
      b.t.send([msg("b", "a", { index: 3 })]);
      await until("b got it", () => b.received.some((m) => m.index === 2));
      await until("a got it", () => a.received.some((m) => m.index === 3));
      assert.ok(a.log.find("info", "established a stream from peer").length >= 2);
    } finally {
      await all(a, b);
    }
  });

  test("several URLs: a dead one is skipped; updatePeer and removePeer", async () => {
    const [a, b, c] = await Promise.all([startNode("a"), startNode("b"), startNode("c")]);
    const dead = await startNode("e1");
    const deadURL = dead.url;
    await dead.stop();
    try {
      a.t.addPeer("b", [deadURL, b.url]);
      b.t.addPeer("a", [a.url]);
      await streamsUp([a, b]);
      assert.ok(count(b, "GET /raft/stream/a") >= 1, JSON.stringify([...b.requests]));
      // b's URL moves (to c's server): a redials there and c refuses (412 raft to mismatch).
      a.t.updatePeer("b", [c.url]);
      await until("a dialed c", () => count(c, "GET /raft/stream/a") >= 1);
      await until("a no longer reads from b", () => !a.t.streamState("b")!.reading);
      await until("refusal logged", () => a.log.find("error", "refused the stream").some((l) => /raft to mismatch/.test(String(l.fields?.reason))));
      a.t.updatePeer("b", [b.url]);
      await until("back", () => a.t.streamState("b")!.reading);
      // removePeer: a stops dialing b and refuses b's stream; b falls back to POST and a takes it.
      a.t.removePeer("b");
      assert.is(a.t.streamState("b"), undefined);
      assert.not.ok(a.t.isActive("b"));
      await until("b lost its writer", () => !b.t.streamState("a")!.writing);
      await sleep(300);
      const dials = count(a, "GET /raft/stream/b");
      await sleep(300);
      assert.ok(count(a, "GET /raft/stream/b") > dials, "b keeps redialing (refused with 404)");
      assert.not.ok(b.t.streamState("a")!.writing);
      a.t.send([msg("a", "b")]); // unknown peer now: dropped
      await sleep(50);
      assert.is(b.received.length, 0);
    } finally {
      await all(a, b, c);
    }
  });

  test("identity checks on the peer routes", async () => {
    const a = await startNode("a", { removed: ["dead"], tuning: { maxMessageBytes: 1000 } });
    try {
      a.t.addPeer("b", ["http://127.0.0.1:1"]);
      const post = (path: string, headers: Record<string, string>, body: Uint8Array | string) =>
        fetch(a.url + path, { method: "POST", headers, body: body as BodyInit });
      const ok = encodeBatch([encodeMessage(msg("b", "a", { index: 1 }))]);

      let r = await post("/raft", peerHeaders("b", "a", "ffff"), ok);
      assert.is(r.status, 412);
      assert.is((await r.text()).trim(), "cluster ID mismatch");
      r = await post("/raft", { ...peerHeaders("b", "a"), "X-Etcd-Cluster-ID": "" }, ok);
      assert.is(r.status, 412);
      await r.text();
      r = await post("/raft", peerHeaders("dead", "a"), ok);
      assert.is(r.status, 410);
      await r.text();
      r = await post("/raft", peerHeaders("b", "c"), ok);
      assert.is(r.status, 412);
      assert.is((await r.text()).trim(), "raft to mismatch");
      r = await post("/raft", peerHeaders("b", "a"), new Uint8Array([0xc1, 1, 2, 3]));
      assert.is(r.status, 400);
      assert.match(await r.text(), "error decoding raft message");
      r = await post("/raft", peerHeaders("b", "a"), encode({ hello: "world" }));
      assert.is(r.status, 400);
      await r.text();
      r = await post("/raft", peerHeaders("b", "a"), encodeMessage(msg("b", "a", { entries: [{ index: 1, term: 1, type: "normal", data: bytes(2000) }] })));
      assert.is(r.status, 400);
      assert.match(await r.text(), "too large");
      r = await post("/raft/snapshot", peerHeaders("b", "a"), ok);
      assert.is(r.status, 400); // not a MsgSnap
      await r.text();
      assert.is(a.received.length, 0);

      // A message whose `from` is not the sender is dropped; the others go through.
      r = await post("/raft", peerHeaders("b", "a"), encodeBatch([encodeMessage(msg("c", "a", { index: 9 })), encodeMessage(msg("b", "a", { index: 1 }))]));
      assert.is(r.status, 204);
      assert.equal(a.received.map((m) => [m.from, m.index]), [["b", 1]]);
      assert.ok(a.log.find("warn", "wrong sender").length >= 1);

      // Streams: unknown sender 404, path id must be the sender, wrong method 405.
      r = await fetch(a.url + "/raft/stream/c", { headers: peerHeaders("c", "a") });
      assert.is(r.status, 404);
      await r.text();
      r = await fetch(a.url + "/raft/stream/b", { headers: peerHeaders("c", "a") });
      assert.is(r.status, 400);
      await r.text();
      r = await fetch(a.url + "/raft/stream/b", { headers: peerHeaders("b", "a", "0") });
      assert.is(r.status, 412);
      await r.text();
      r = await fetch(a.url + "/raft/stream/dead", { headers: peerHeaders("dead", "a") });
      assert.is(r.status, 410);
      await r.text();
      r = await post("/raft/stream/b", peerHeaders("b", "a"), "x");
      assert.is(r.status, 405);
      assert.is(r.headers.get("allow"), "GET");
      await r.text();
      r = await fetch(a.url + "/raft");
      assert.is(r.status, 405);
      await r.text();
      r = await fetch(a.url + "/raft/nothing");
      assert.is(r.status, 404);
      await r.text();
      r = await fetch(a.url + "/raft/probing");
      assert.is(r.status, 200);
      await r.text();
      assert.is(a.t.handle(new Request("http://x/members")), null);
      assert.is(a.t.handle(new Request("http://x/raftx")), null);
      assert.ok(a.log.find("warn", "cluster ID mismatch").length >= 1);
      assert.ok(a.log.find("warn", "removed member").length >= 1);
    } finally {
      await a.stop();
    }
  });

  test("the dialing side: another cluster (412) and a removed member (410, onRemovedSelf)", async () => {
    const a = await startNode("a", { removed: ["ee"] });
    const other = await startNode("f0", { clusterId: "beef" });
    const r = await startNode("ee");
    try {
      a.t.addPeer("f0", [other.url]);
      a.t.addPeer("ee", [r.url]);
      other.t.addPeer("a", [a.url]);
      r.t.addPeer("a", [a.url]);
      await until("r told it was removed", () => r.removedSelf.length === 1);
      assert.equal(r.removedSelf, ["a"]);
      await until("o refused", () => other.log.find("error", "refused the stream").length >= 1);
      await sleep(300);
      assert.not.ok(other.t.isActive("a"));
      assert.not.ok(a.t.streamState("f0")!.writing);
      assert.not.ok(a.t.streamState("ee")!.writing);
      // Whatever a removed member still sends is dropped.
      r.t.send([msg("ee", "a", { index: 5 })]);
      await sleep(200);
      assert.is(a.received.length, 0);
      assert.equal(r.removedSelf, ["a"], "reported once");
    } finally {
      await all(a, other, r);
    }
  });

  test("a silent stream is dropped after deadMs and redialed", async () => {
    const rt = newRuntime();
    const cancels: number[] = [];
    let dials = 0;
    // A fake peer that answers the stream dial and then says nothing more.
    const fake = await rt.serve({ hostname: "127.0.0.1", port: 0 }, () => {
      dials++;
      return new Response(new ReadableStream({
        // One keepalive frame (so the head goes out on every server), then silence.
        start: (c) => c.enqueue(new Uint8Array(4)),
        cancel: () => void cancels.push(1),
      }), { status: 200, headers: { "X-Etcd-Cluster-ID": CID } });
    });
    const a = await startNode("a", { tuning: { deadMs: 200 } });
    try {
      a.t.addPeer("fa", [`http://127.0.0.1:${fake.port}`]);
      await until("up", () => a.t.streamState("fa")!.reading);
      await until("dropped", () => !a.t.streamState("fa")!.reading, 2000);
      assert.ok(a.log.find("warn", "lost the stream").length >= 1);
      assert.ok(a.unreachable.includes("fa"));
      await until("redialed", () => dials >= 2);
    } finally {
      await a.stop();
      await fake.close();
    }
  });

  test("after a garbage collection, a silent stream is still dropped after deadMs and stop() still ends it", async () => {
    // Node's fetch forwards the signal of a Request through weak references: once nothing
    // held the Request, its abort reached neither the connection nor the body, so neither the
    // watchdog nor stop() could end a stream on which the peer had gone quiet.
    const rt = newRuntime();
    let dials = 0;
    const fake = await rt.serve({ hostname: "127.0.0.1", port: 0 }, () => {
      dials++;
      return new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(4)) }), { status: 200, headers: { "X-Etcd-Cluster-ID": CID } });
    });
    const gc = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await collectGarbage();
        await sleep(10);
      }
    };
    const watched = await startNode("a", { tuning: { deadMs: 300 } });
    const idle = await startNode("b", { tuning: { deadMs: 60_000 } });
    try {
      watched.t.addPeer("fe", [`http://127.0.0.1:${fake.port}`]);
      await until("up", () => watched.t.streamState("fe")!.reading);
      await gc();
      await until("dropped and redialed", () => dials >= 2, 3000);
      assert.ok(watched.log.find("warn", "lost the stream").some((l) => /no data for 300 ms/.test(String(l.fields?.error))));
      idle.t.addPeer("fe", [`http://127.0.0.1:${fake.port}`]);
      await until("up", () => idle.t.streamState("fe")!.reading);
      await gc();
      await prompt("stop() on a silent stream", idle.t.stop());
      await prompt("stop() while redialing a silent peer", watched.t.stop());
    } finally {
      await Promise.all([watched.listener.close(), idle.listener.close()]);
      await fake.close();
    }
  });

  test("a stream frame over the size limit drops the stream (nothing buffered for it)", async () => {
    const rt = newRuntime();
    let dials = 0;
    const fake = await rt.serve({ hostname: "127.0.0.1", port: 0 }, () => {
      dials++;
      return new Response(new Uint8Array([0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3]), { status: 200 });
    });
    const a = await startNode("a");
    try {
      a.t.addPeer("fb", [`http://127.0.0.1:${fake.port}`]);
      await until("refused frame logged", () => a.log.find("warn", "lost the stream").some((l) => /exceeds the limit/.test(String(l.fields?.error))));
      await until("redialed", () => dials >= 2);
      assert.is(a.received.length, 0);
    } finally {
      await a.stop();
      await fake.close();
    }
  });

  test("a dialer that stops reading is cut off (stall); queued messages go by POST", async () => {
    const [a, b] = await Promise.all([startNode("a"), startNode("b")]);
    const ac = new AbortController();
    try {
      a.t.addPeer("b", [b.url]); // b itself does not dial a
      // Someone dials a's stream as b and never reads the body.
      const res = await fetch(a.url + "/raft/stream/b", { headers: peerHeaders("b", "a"), signal: ac.signal });
      assert.is(res.status, 200);
      await until("a writes to the stream", () => a.t.streamState("b")!.writing);
      const big = (i: number) => msg("a", "b", { type: "MsgApp", index: i, entries: [{ index: i, term: 1, type: "normal", data: bytes(200_000, i) }] });
      a.t.send(Array.from({ length: 150 }, (_, i) => big(i))); // 30 MB: more than any socket buffer
      // a cuts it off after writerStallMs without a read (Bun.serve may cut it first itself).
      await until("stream cut off", () => !a.t.streamState("b")!.writing, 8000);
      if (a.log.find("warn", "stalled").length === 0) assert.ok(a.log.find("warn", "lost the stream to peer").length >= 1);
      // What the stream never wrote went by POST to b.
      await until("b got the rest by POST", () => b.received.length > 0 && count(b, "POST /raft") > 0, 8000);
      await until("all settled", () => a.sent.ok + a.sent.failed === 150, 8000);
      const got = b.received.map((m) => m.index);
      assert.ok(got.length >= 100, `b received ${got.length}`);
      assert.ok(got.includes(149));
      assert.ok(a.unreachable.includes("b"));
    } finally {
      ac.abort();
      await all(a, b);
    }
  });

  test("the writer ends its body when the dialer goes away, and keeps queues bounded", async () => {
    const tuning = { queueMessages: 50 };
    const [a, b] = await Promise.all([startNode("a", { tuning }), startNode("b", { tuning })]);
    const dead = await startNode("e1");
    const deadURL = dead.url;
    await dead.stop();
    try {
      mesh([a, b]);
      await streamsUp([a, b]);
      await b.stop(); // b's dial into a goes away: a's writer must end
      await until("a's writer gone", () => !a.t.streamState("b")!.writing);
      // Now a has no stream to b and b's URL is dead: a burst is bounded by the pipeline queue.
      a.t.addPeer("e1", [deadURL]);
      a.t.send(Array.from({ length: 1000 }, (_, i) => msg("a", "e1", { index: i })));
      await until("overflow reported", () => a.sent.failed >= 1000 - 50 - 4);
      await until("the rest failed", () => a.sent.failed === 1000);
    } finally {
      await all(a, b);
    }
  });

  test("stop() right after the peer's last message and the end of its stream (removed by it)", async () => {
    // The peer's last frame (say, the commit of our removal) and the end of its body arrive
    // together; the member stops while handling that message. On Node's fetch an abort that
    // lands after the body is complete but before it has been read to the end leaves the next
    // read() pending forever, so stop() must not rely on the abort alone.
    const rt = newRuntime();
    const last = encodeFrames([encodeMessage(msg("fc", "a", { type: "MsgApp", index: 9, commit: 9 }))]);
    const fake = await rt.serve({ hostname: "127.0.0.1", port: 0 }, (req) => {
      if (new URL(req.url).pathname.startsWith("/raft/stream/")) {
        // A keepalive at once; a little later the last message and the end, together.
        const body = new ReadableStream<Uint8Array>({
          start: (c) => {
            c.enqueue(KEEPALIVE_FRAME.slice());
            setTimeout(() => {
              c.enqueue(last);
              c.close();
            }, 50);
          },
        });
        return new Response(body, { status: 200, headers: { "X-Etcd-Cluster-ID": CID } });
      }
      return new Response("removed member\n", { status: 410 });
    });
    const defer: [string, (f: () => void) => void][] = [
      ["in a microtask", (f) => queueMicrotask(f)],
      ["after a resolved promise", (f) => void Promise.resolve().then().then(f)],
      ["in a timer", (f) => void setTimeout(f, 0)],
    ];
    try {
      for (const [when, later] of defer) {
        let stopping: Promise<void> | undefined;
        const a = await startNode("a", {
          onReceive: () => later(() => { stopping ??= a.t.stop(); }),
        });
        try {
          a.t.addPeer("fc", [`http://127.0.0.1:${fake.port}`]);
          await until("the last message arrived", () => stopping !== undefined);
          await prompt(`stop() ${when} after the last message`, stopping!);
          assert.is(a.received.length, 1);
        } finally {
          await a.listener.close();
        }
      }
    } finally {
      await fake.close();
    }
  });

  test("stop() while a peer answers nothing, or answers its head and then stalls", async () => {
    const rt = newRuntime();
    const held: (() => void)[] = [];
    const trickles: ReadableStreamDefaultController<Uint8Array>[] = [];
    const seen = new Map<string, number>();
    let mode: "silent" | "trickle" = "silent";
    const fake = await rt.serve({ hostname: "127.0.0.1", port: 0 }, async (req) => {
      const path = new URL(req.url).pathname;
      const key = path.startsWith("/raft/stream/") ? "stream" : path;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      await req.body?.cancel().catch(() => {});
      if (mode === "silent") {
        await new Promise<void>((r) => held.push(r));
        return new Response(null, { status: 503 });
      }
      // A refusal whose head goes out at once and whose body never ends.
      return new Response(new ReadableStream<Uint8Array>({
        start: (c) => {
          trickles.push(c);
          c.enqueue(new TextEncoder().encode("removed"));
        },
      }), { status: path.startsWith("/raft/stream/") ? 410 : 503, headers: { "Content-Type": "text/plain" } });
    });
    try {
      for (const m of ["silent", "trickle"] as const) {
        mode = m;
        seen.clear();
        const a = await startNode("a", { tuning: { deadMs: 60_000, requestTimeoutMs: 60_000, snapshotTimeoutMs: 60_000 } });
        try {
          a.t.addPeer("fd", [`http://127.0.0.1:${fake.port}`]);
          a.t.send([msg("a", "fd"), msg("a", "fd", { type: "MsgSnap", snapshot: { data: bytes(1000), metadata: { index: 1, term: 1, confState: { voters: [] } } } })]);
          await until(`${m}: dial, POST and snapshot pending`, () => !!seen.get("stream") && !!seen.get("/raft") && !!seen.get("/raft/snapshot"));
          await sleep(100); // let the heads (if any) arrive and the bodies start to be read
          await prompt(`stop() with a ${m} peer`, a.t.stop());
        } finally {
          await a.listener.close();
        }
      }
    } finally {
      for (const r of held) r();
      for (const c of trickles) {
        try {
          c.close();
        } catch {
          // already cancelled
        }
      }
      await fake.close();
    }
  });

  test("stop(): streams and requests end, no timers left, sends after stop are ignored", async () => {
    const [a, b, c] = await Promise.all([startNode("a"), startNode("b"), startNode("c")]);
    mesh([a, b, c]);
    await streamsUp([a, b, c]);
    a.t.send([msg("a", "b", { type: "MsgSnap", snapshot: { data: bytes(100), metadata: { index: 1, term: 1, confState: { voters: [] } } } })]);
    await Promise.all([a.t.stop(), b.t.stop(), c.t.stop()]);
    assert.not.ok(a.t.isActive("b"));
    a.t.send([msg("a", "b")]);
    const r = await fetch(a.url + "/raft", { method: "POST", headers: peerHeaders("b", "a"), body: encodeBatch([]) as BodyInit });
    assert.is(r.status, 503);
    await r.text();
    await Promise.all([a.listener.close(), b.listener.close(), c.listener.close()]);
    await sleep(50);
    const proc = (globalThis as { process?: { getActiveResourcesInfo?: () => string[] } }).process;
    const info = typeof Deno === "undefined" ? proc?.getActiveResourcesInfo?.() : undefined;
    if (info) assert.not.ok(info.includes("Timeout"), `active resources after stop: ${info.join(",")}`);
  });

  test.run();
}
