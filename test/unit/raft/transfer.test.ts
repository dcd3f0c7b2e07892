import { test } from "uvu";
import * as assert from "uvu/assert";
import { ProposalDroppedError } from "../../../core/raft/raw-node.ts";
import { Network, bytes } from "./network.ts";

const ids = ["1", "2", "3"];

for (const opts of [{}, { checkQuorum: true }, { preVote: true, checkQuorum: true }]) {
  test(`transfer to an up-to-date follower ${JSON.stringify(opts)}`, () => {
    const net = new Network(ids, opts);
    net.elect("1");
    net.propose("1", "a");
    const term = net.node("1").term;
    const from = net.sent.length;
    net.node("1").rn.transferLeader("2");
    net.stabilize();
    const during = net.sent.slice(from);
    assert.is(net.leader(), "2");
    assert.is(net.node("2").term, term + 1);
    assert.is(net.node("1").stateType, "StateFollower");
    assert.is(net.node("1").lead, "2");
    const tn = during.filter((m) => m.type === "MsgTimeoutNow");
    assert.equal(tn.map((m) => [m.from, m.to]), [["1", "2"]]);
    assert.not.ok(during.some((m) => m.type === "MsgPreVote"), "a transfer skips pre-vote");
    net.propose("2", "b");
    for (const id of ids) assert.equal(net.node(id).data(), ["a", "b"]);
  });
}

test("transfer to a lagging follower catches it up first; proposals are dropped meanwhile", () => {
  const net = new Network(ids);
  net.elect("1");
  net.isolate("3");
  for (let i = 0; i < 5; i++) net.propose("1", `v${i}`);
  net.heal();
  const n1 = net.node("1");
  // Hold 3's acknowledgements so that the transfer stays in progress for a while.
  net.cut("3", "1");
  n1.rn.transferLeader("3");
  assert.is(n1.status.leadTransferee, "3");
  net.stabilize();
  assert.not.ok(net.sent.some((m) => m.type === "MsgTimeoutNow"));
  assert.throws(() => n1.rn.propose(bytes("during")), (e: unknown) => e instanceof ProposalDroppedError);
  // A follower's forwarded proposal is dropped silently by the leader.
  net.propose("2", "forwarded-during");
  net.heal();
  net.tick("1"); // heartbeat: 3 answers and is caught up, then gets MsgTimeoutNow
  net.stabilize();
  assert.is(net.leader(), "3");
  assert.equal(net.sent.filter((m) => m.type === "MsgTimeoutNow").map((m) => m.to), ["3"]);
  net.propose("3", "after");
  for (const id of ids) assert.equal(net.node(id).data(), ["v0", "v1", "v2", "v3", "v4", "after"]);
});

test("a transfer that does not finish within an election timeout is abandoned", () => {
  const net = new Network(ids);
  net.elect("1");
  net.isolate("3");
  const n1 = net.node("1");
  n1.rn.transferLeader("3");
  assert.is(n1.status.leadTransferee, "3");
  for (let i = 0; i < 9; i++) net.tick("1");
  net.stabilize();
  assert.is(n1.status.leadTransferee, "3");
  net.tick("1");
  net.stabilize();
  assert.is(n1.status.leadTransferee, "");
  assert.is(net.leader(), "1");
  net.propose("1", "ok-again");
  assert.equal(net.node("2").data(), ["ok-again"]);
});

test("transfer to the leader itself or to a non-member is ignored", () => {
  const net = new Network(ids);
  net.elect("1");
  const n1 = net.node("1");
  n1.rn.transferLeader("1");
  assert.is(n1.status.leadTransferee, "");
  n1.rn.transferLeader("9");
  assert.is(n1.status.leadTransferee, "");
  net.stabilize();
  assert.is(net.leader(), "1");
});

test("a new transfer target replaces the pending one", () => {
  const net = new Network(ids);
  net.elect("1");
  net.isolate("3");
  const n1 = net.node("1");
  n1.rn.transferLeader("3");
  n1.rn.transferLeader("2");
  net.stabilize();
  assert.is(net.leader(), "2");
});

test("a follower may ask the leader for leadership for itself", () => {
  const net = new Network(ids);
  net.elect("1");
  net.node("3").rn.transferLeader("3");
  net.stabilize();
  assert.is(net.leader(), "3");
  // ... but not on behalf of another node.
  net.node("1").rn.transferLeader("2");
  net.stabilize();
  assert.is(net.leader(), "3");
});

test("MsgTimeoutNow makes a follower campaign even inside the leader lease", () => {
  const net = new Network(ids, { checkQuorum: true });
  net.elect("1");
  net.tickAll(2); // everyone has heard from the leader recently
  const from = net.sent.length;
  net.node("1").rn.transferLeader("3");
  net.stabilize();
  assert.is(net.leader(), "3");
  const votes = net.sent.slice(from).filter((m) => m.type === "MsgVote");
  assert.ok(votes.length > 0 && votes.every((m) => m.context && m.context.length > 0));
});

test.run();
