// The simulated network and SimTransport alone: delays and reordering, loss, duplication,
// symmetric and one-way cuts (also of messages in flight), delivery only to the process
// incarnation a message was sent to, pauses; and the transport's reports to its member
// (unreachable, snapshot status, removed) as the HTTP transport makes them.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/sim/network.test.js
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryFileSystem } from "../../../core/fs/memory.ts";
import type { Message } from "../../../core/raft/types.ts";
import type { TransportOptions } from "../../../core/transport/transport.ts";
import { DEFAULT_NET, type Endpoint, Network } from "../../sim/network.ts";
import { SimClock, SimRuntime } from "../../sim/runtime.ts";
import { Rng, Scheduler } from "../../sim/scheduler.ts";
import { SimTransport } from "../../sim/sim-transport.ts";

function world(cfg: Partial<typeof DEFAULT_NET> = {}) {
  const s = new Scheduler(3);
  const net = new Network(s, new Rng(5), { ...DEFAULT_NET, drop: 0, dup: 0, tailChance: 0, ...cfg });
  const rt = (name: string): SimRuntime => new SimRuntime(s, { node: name, disk: new MemoryFileSystem(), clock: new SimClock(), rng: new Rng(9) });
  return { s, net, rt };
}

test("messages arrive after a delay within bounds, in the receiver's process; random delays reorder", async () => {
  const { s, net, rt } = world({ minDelay: 1, maxDelay: 10 });
  const a: Endpoint = { rt: rt("a") };
  const b: Endpoint = { rt: rt("b") };
  net.register("a", "a", a);
  net.register("b", "b", b);
  const got: { i: number; at: number }[] = [];
  for (let i = 0; i < 50; i++) net.send("a", "b", (ep) => {
    assert.is(ep, b);
    got.push({ i, at: s.now });
  }, { label: `m${i}` });
  await s.run({ until: 100 });
  assert.is(got.length, 50);
  assert.ok(got.every((g) => g.at >= 1 && g.at <= 10));
  assert.ok(got.some((g, k) => k > 0 && g.i < got[k - 1]!.i), "some messages overtake others");
  assert.is(net.stats.delivered, 50);
});

test("drop and duplicate rates; `lost` is told about drops", async () => {
  const { s, net, rt } = world({ drop: 1 });
  net.register("a", "a", { rt: rt("a") });
  net.register("b", "b", { rt: rt("b") });
  let delivered = 0;
  const lost: string[] = [];
  for (let i = 0; i < 10; i++) net.send("a", "b", () => delivered++, { label: "x", lost: (why) => lost.push(why) });
  net.cfg = { ...net.cfg, drop: 0, dup: 1 };
  net.send("a", "b", () => delivered++, { label: "dup" });
  net.send("a", "b", () => delivered++, { label: "nodup", noDup: true });
  await s.run({ until: 5000 });
  assert.is(delivered, 3);
  assert.is(lost.length, 10);
  assert.ok(lost.every((w) => w === "drop"));
});

test("cuts: symmetric, one-way, and messages already in flight; heal", async () => {
  const { s, net, rt } = world({ minDelay: 5, maxDelay: 5 });
  for (const n of ["a", "b", "c"]) net.register(n, n, { rt: rt(n) });
  const got: string[] = [];
  const lost: string[] = [];
  const send = (from: string, to: string) => net.send(from, to, () => got.push(`${from}>${to}`), { label: "m", lost: (w) => lost.push(`${from}>${to}:${w}`) });
  net.cut("a", "b", true); // a cannot reach b; b still reaches a
  send("a", "b");
  send("b", "a");
  send("a", "c"); // in flight when the cut comes
  s.at(2, () => net.cut("a", "c"));
  await s.run({ until: 100 });
  assert.equal(got, ["b>a"]);
  assert.equal(lost.sort(), ["a>b:cut", "a>c:cut-in-flight"]);
  net.healAll();
  send("a", "b");
  await s.run({ until: 200 });
  assert.equal(got, ["b>a", "a>b"]);
  net.split([["a"], ["b", "c"]], ["a", "b", "c"]);
  assert.ok(!net.connected("a", "b") && !net.connected("c", "a") && net.connected("b", "c"));
  assert.is(net.describe(), "a↛b a↛c b↛a c↛a");
});

test("a message reaches only the incarnation it was sent to; a paused receiver gets it on resume", async () => {
  const { s, net, rt } = world({ minDelay: 5, maxDelay: 5 });
  net.register("a", "a", { rt: rt("a") });
  const old: Endpoint = { rt: rt("b") };
  net.register("b", "b", old);
  const got: string[] = [];
  net.send("a", "b", () => got.push("to old"), { label: "m" });
  s.at(1, () => {
    old.rt.kill();
    net.register("b", "b", { rt: rt("b") });
  });
  await s.run({ until: 50 });
  assert.equal(got, []);
  const paused = net.endpoint("b")!;
  paused.rt.pause();
  net.send("a", "b", () => got.push(`at ${s.now}`), { label: "m" });
  s.at(100, () => paused.rt.resume());
  await s.run({ until: 200 });
  assert.equal(got, ["at 100"]);
});

// ---- SimTransport

function msg(from: string, to: string, type: Message["type"], extra: Partial<Message> = {}): Message {
  return { type, from, to, term: 3, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...extra } as Message;
}

interface Member {
  t: SimTransport;
  got: Message[];
  unreachable: string[];
  snaps: string[];
  removedBy: string[];
  removed: Set<string>;
}

function member(s: Scheduler, net: Network, id: string): Member {
  const rt = new SimRuntime(s, { node: id, disk: new MemoryFileSystem(), clock: new SimClock(), rng: new Rng(1) });
  const m: Member = { t: null as unknown as SimTransport, got: [], unreachable: [], snaps: [], removedBy: [], removed: new Set() };
  const opts: TransportOptions = {
    rt,
    memberId: id,
    clusterId: "c1",
    receive: (x) => m.got.push(x),
    isRemoved: (x) => m.removed.has(x),
    onUnreachable: (x) => m.unreachable.push(`${x}@${s.now.toFixed(0)}`),
    onSnapshotStatus: (x, ok) => m.snaps.push(`${x}:${ok}`),
    onRemovedSelf: (by) => m.removedBy.push(by),
  };
  m.t = new SimTransport(opts, net, `n${id}`);
  return m;
}

test("SimTransport: peers exchange decoded copies; unknown peers are not sent to; isActive follows what was heard", async () => {
  const { s, net } = world();
  const a = member(s, net, "a1");
  const b = member(s, net, "b2");
  a.t.addPeer("b2", ["http://b:2380"]);
  b.t.addPeer("a1", ["http://a:2380"]);
  const sent = msg("a1", "b2", "MsgApp", { entries: [{ index: 1, term: 1, type: "normal", data: new Uint8Array([7]) }] });
  a.t.send([sent, msg("a1", "zz", "MsgApp")]);
  assert.ok(!b.t.isActive("a1"));
  await s.run({ until: 50 });
  assert.is(b.got.length, 1);
  assert.is.not(b.got[0], sent, "a copy, not the sender's object");
  assert.equal(b.got[0]!.entries[0]!.data, new Uint8Array([7]));
  assert.ok(b.t.isActive("a1"));
  assert.is(a.t.counters.unknownPeer, 1);
  assert.is(a.t.handle(new Request("http://a/raft")), null);
});

test("SimTransport: a cut link makes the member hear 'unreachable' (rate-limited per peer)", async () => {
  const { s, net } = world();
  const a = member(s, net, "a1");
  member(s, net, "b2");
  a.t.addPeer("b2", []);
  net.cut("a1", "b2");
  for (let i = 0; i < 5; i++) a.t.send([msg("a1", "b2", "MsgHeartbeat")]);
  await s.run({ until: 1000 });
  assert.is(a.unreachable.length, 1);
});

test("SimTransport: snapshot status: delivered -> ok; cut -> failure", async () => {
  const { s, net } = world();
  const a = member(s, net, "a1");
  const b = member(s, net, "b2");
  a.t.addPeer("b2", []);
  const snap = (): Message => msg("a1", "b2", "MsgSnap", { snapshot: { data: new Uint8Array(1000), metadata: { index: 10, term: 2, confState: { voters: ["a1", "b2"] } } } });
  a.t.send([snap()]);
  await s.run({ until: 100 });
  assert.equal(a.snaps, ["b2:true"]);
  assert.is(b.got[0]!.type, "MsgSnap");
  net.cut("a1", "b2");
  a.t.send([snap()]);
  await s.run({ until: 200 });
  assert.equal(a.snaps, ["b2:true", "b2:false"]);
});

test("SimTransport: a peer that considers the sender removed refuses it (410): onRemovedSelf once", async () => {
  const { s, net } = world();
  const a = member(s, net, "a1");
  const b = member(s, net, "b2");
  a.t.addPeer("b2", []);
  b.removed.add("a1");
  a.t.send([msg("a1", "b2", "MsgHeartbeat"), msg("a1", "b2", "MsgHeartbeat")]);
  await s.run({ until: 100 });
  assert.equal(b.got, []);
  assert.equal(a.removedBy, ["b2"]);
});

test("SimTransport: after stop() nothing is sent or delivered", async () => {
  const { s, net } = world();
  const a = member(s, net, "a1");
  const b = member(s, net, "b2");
  a.t.addPeer("b2", []);
  b.t.addPeer("a1", []);
  await b.t.stop();
  a.t.send([msg("a1", "b2", "MsgHeartbeat")]);
  await s.run({ until: 100 });
  assert.equal(b.got, []);
  await a.t.stop();
  a.t.send([msg("a1", "b2", "MsgHeartbeat")]);
  assert.is(a.t.counters.sent, 1);
});

test.run();
