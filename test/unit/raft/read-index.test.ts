import { test } from "uvu";
import * as assert from "uvu/assert";
import { Network, bytes, text } from "./network.ts";

const ids = ["1", "2", "3"];

function ready(): Network {
  const net = new Network(ids);
  net.elect("1");
  return net;
}

const heartbeatsWithCtx = (net: Network) => net.sent.filter((m) => m.type === "MsgHeartbeat" && m.context && m.context.length > 0);

test("leader: reads issued together share one heartbeat round and are released together", () => {
  const net = ready();
  const n1 = net.node("1");
  for (const c of ["r1", "r2", "r3"]) n1.rn.readIndex(bytes(c));
  assert.ok(n1.rn.hasReady());
  net.stabilize();
  const hbs = heartbeatsWithCtx(net);
  assert.is(hbs.length, 2, "one heartbeat per follower");
  assert.ok(hbs.every((m) => text(m.context!) === "r3"));
  assert.equal(n1.readStates.map((r) => [text(r.requestCtx), r.index]), [["r1", 4], ["r2", 4], ["r3", 4]]);
  // all three came out of the same Ready
  const rd = n1.readies.find((r) => r.readStates.length > 0)!;
  assert.is(rd.readStates.length, 3);
});

test("leader: a later round's acknowledgement also releases earlier pending reads", () => {
  const net = ready();
  const n1 = net.node("1");
  n1.rn.readIndex(bytes("a"));
  net.flush();
  const firstRound = net.queue.splice(0); // lost
  assert.is(firstRound.length, 2);
  n1.rn.readIndex(bytes("b"));
  net.stabilize();
  assert.equal(n1.readStates.map((r) => text(r.requestCtx)), ["a", "b"]);
});

test("leader: a read is released only with a quorum of acknowledgements", () => {
  const net = new Network(["1", "2", "3", "4", "5"]);
  net.elect("1");
  const n1 = net.node("1");
  net.isolate("4");
  net.isolate("5");
  net.cut("1", "3");
  n1.rn.readIndex(bytes("q"));
  net.stabilize();
  assert.equal(n1.readStates, []); // 1 + 2 is not a majority of 5
  net.heal();
  net.isolate("5");
  n1.rn.tick(); // the next heartbeat round carries the pending read
  net.stabilize();
  assert.equal(n1.readStates.map((r) => text(r.requestCtx)), ["q"]);
});

test("leader: the read index is the commit index when the request arrived", () => {
  const net = ready();
  const n1 = net.node("1");
  n1.rn.readIndex(bytes("x"));
  n1.rn.propose(bytes("later")); // appended after the read arrived
  net.stabilize();
  assert.is(n1.readStates[0]!.index, 4);
  assert.is(n1.committed, 5);
});

test("follower: forwards the request to the leader and gets the read state back", () => {
  const net = ready();
  net.propose("1", "v");
  const n3 = net.node("3");
  n3.rn.readIndex(bytes("f"));
  net.stabilize();
  const fwd = net.sent.find((m) => m.type === "MsgReadIndex")!;
  assert.is(fwd.from, "3");
  assert.is(fwd.to, "1");
  assert.is(text(fwd.context!), "f");
  const resp = net.sent.find((m) => m.type === "MsgReadIndexResp")!;
  assert.is(resp.to, "3");
  assert.equal(n3.readStates.map((r) => [text(r.requestCtx), r.index]), [["f", 5]]);
  assert.equal(net.node("1").readStates, []);
});

test("follower without a leader drops the request", () => {
  const net = new Network(ids);
  net.node("2").rn.readIndex(bytes("nobody"));
  net.stabilize();
  assert.equal(net.sent, []);
  assert.equal(net.node("2").readStates, []);
});

test("a new leader refuses reads until it has committed an entry in its term", () => {
  const net = new Network(ids);
  net.node("1").rn.campaign();
  // The election completes, but the leader's empty entry is lost on the way.
  net.flush();
  net.deliver();
  net.flush();
  net.deliver();
  net.flush();
  net.drop((m) => m.type === "MsgApp");
  const n1 = net.node("1");
  assert.is(n1.stateType, "StateLeader");
  assert.is(n1.committed, 3);
  n1.rn.readIndex(bytes("early"));
  net.stabilize();
  assert.equal(heartbeatsWithCtx(net), []);
  assert.equal(n1.readStates, []);
  // Once its empty entry commits, reads are served.
  net.tickAll(1);
  assert.is(n1.committed, 4);
  n1.rn.readIndex(bytes("later"));
  net.stabilize();
  assert.equal(n1.readStates.map((r) => [text(r.requestCtx), r.index]), [["later", 4]]);
});

test("single voter: a read is answered at once", () => {
  const net = new Network(["1"]);
  net.elect("1");
  const n1 = net.node("1");
  n1.rn.readIndex(bytes("solo"));
  assert.ok(n1.rn.hasReady());
  net.stabilize();
  assert.equal(n1.readStates.map((r) => [text(r.requestCtx), r.index]), [["solo", 2]]);
  assert.equal(net.sent, []);
});

test("pending reads are dropped when the leader loses leadership", () => {
  const net = ready();
  net.isolate("1");
  net.node("1").rn.readIndex(bytes("stale"));
  net.stabilize();
  net.elect("2");
  net.heal();
  net.tick("2");
  net.stabilize();
  assert.is(net.node("1").stateType, "StateFollower");
  assert.equal(net.node("1").readStates, []);
});

test("an empty request context is refused", () => {
  const net = ready();
  assert.throws(() => net.node("1").rn.readIndex(new Uint8Array(0)));
});

test.run();
