import { test } from "uvu";
import * as assert from "uvu/assert";
import { bootstrapEntries } from "../../../core/raft/bootstrap.ts";
import { decodeConfChange, encodeConfChange } from "../../../core/raft/conf-change.ts";
import { ProposalDroppedError, RawNode } from "../../../core/raft/raw-node.ts";
import { MemoryStorage } from "../../../core/raft/storage.ts";
import type { ConfChange } from "../../../core/raft/types.ts";
import { Network, bootstrappedStorage, bytes, seeded } from "./network.ts";

const ids = ["1", "2", "3"];
const dropped = (e: unknown) => e instanceof ProposalDroppedError;

test("conf changes round-trip through msgpack", () => {
  const ccs: ConfChange[] = [
    { type: "addNode", nodeId: "9e737febb6b99eee", context: bytes('{"peerURLs":["http://a:2380"]}') },
    { type: "removeNode", nodeId: "2" },
    { type: "updateNode", nodeId: "3", context: new Uint8Array([1, 2, 3]) },
  ];
  for (const cc of ccs) assert.equal(decodeConfChange(encodeConfChange(cc)), cc);
  assert.throws(() => decodeConfChange(bytes("garbage")));
});

test("bootstrapEntries: one addNode conf entry per peer at term 1, indexes 1..n", () => {
  const ctx = new Map([["b", bytes("B")]]);
  const ents = bootstrapEntries(["a", "b", "c"], ctx);
  assert.equal(ents.map((e) => [e.index, e.term, e.type]), [[1, 1, "conf"], [2, 1, "conf"], [3, 1, "conf"]]);
  assert.equal(ents.map((e) => decodeConfChange(e.data)), [
    { type: "addNode", nodeId: "a" },
    { type: "addNode", nodeId: "b", context: bytes("B") },
    { type: "addNode", nodeId: "c" },
  ]);
  assert.throws(() => bootstrapEntries([]));
});

test("bootstrap with applied = 0: the conf entries come back to be applied, then the node may lead", () => {
  const storage = bootstrappedStorage(["1"]);
  const rn = new RawNode({ id: "1", electionTick: 10, heartbeatTick: 1, storage, applied: 0, maxSizePerMsg: Infinity, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1) });
  rn.campaign();
  assert.is(rn.status().softState.state, "StateFollower", "no voters yet");
  const rd = rn.ready();
  assert.equal(rd.committedEntries.map((e) => e.type), ["conf"]);
  assert.equal(rn.applyConfChange(decodeConfChange(rd.committedEntries[0]!.data)), { voters: ["1"] });
  rn.advance(rd);
  rn.campaign();
  assert.is(rn.status().softState.state, "StateLeader");
});

test("a committed but unapplied conf change blocks campaigning", () => {
  const storage = bootstrappedStorage(ids);
  storage.append([{ index: 4, term: 1, type: "conf", data: encodeConfChange({ type: "removeNode", nodeId: "1" }) }]);
  storage.setHardState({ term: 1, vote: "", commit: 4 });
  const rn = new RawNode({ id: "2", electionTick: 10, heartbeatTick: 1, storage, applied: 3, maxSizePerMsg: Infinity, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1) });
  rn.campaign();
  assert.is(rn.status().softState.state, "StateFollower");
  const rd = rn.ready();
  assert.equal(rd.committedEntries.map((e) => e.index), [4]);
  assert.equal(rn.applyConfChange(decodeConfChange(rd.committedEntries[0]!.data)), { voters: ["2", "3"] });
  rn.advance(rd);
  rn.campaign();
  assert.is(rn.status().softState.state, "StateCandidate");
});

test("add a node: it catches up from the log and counts towards the quorum", () => {
  const net = new Network(["1", "2", "3", "4"], {}, ids);
  net.elect("1");
  net.propose("1", "a");
  net.node("1").rn.proposeConfChange({ type: "addNode", nodeId: "4", context: bytes("peer-urls") });
  net.stabilize();
  net.tickAll(1);
  for (const id of ["1", "2", "3", "4"]) assert.equal(net.node(id).confState.voters, ["1", "2", "3", "4"], id);
  const n4 = net.node("4");
  assert.equal(n4.data(), ["a"]);
  assert.equal(net.node("1").status.progress["4"]!.state, "replicate");
  // 4 voters: a quorum is 3. With 3 and 4 cut off, nothing commits.
  net.isolate("3");
  net.isolate("4");
  net.propose("1", "b");
  assert.equal(net.node("1").data(), ["a"]);
  net.heal();
  net.isolate("3");
  net.tickAll(1);
  assert.equal(net.node("1").data(), ["a", "b"]);
  assert.equal(n4.data(), ["a", "b"]);
  // The new node may lead.
  net.heal();
  net.elect("4");
  assert.is(net.leader(), "4");
});

test("add a node that needs a snapshot (the log was compacted)", () => {
  const net = new Network(["1", "2", "3", "4"], {}, ids);
  net.elect("1");
  for (let i = 0; i < 5; i++) net.propose("1", `v${i}`);
  net.isolate("4"); // not reachable yet when it is added
  net.node("1").rn.proposeConfChange({ type: "addNode", nodeId: "4" });
  net.stabilize();
  assert.equal(net.node("1").confState.voters, ["1", "2", "3", "4"]);
  const snap = net.node("1").compact(); // includes the new member
  assert.equal(snap.metadata.confState.voters, ["1", "2", "3", "4"]);
  net.heal();
  net.tickAll(2);
  const n4 = net.node("4");
  assert.is(n4.snapshotsInstalled, 1);
  assert.equal(n4.data(), ["v0", "v1", "v2", "v3", "v4"]);
  assert.equal(n4.confState.voters, ["1", "2", "3", "4"]);
  net.propose("1", "after");
  assert.equal(n4.data().slice(-1), ["after"]);
});

test("remove a follower: it stops counting, cannot propose and never campaigns", () => {
  const net = new Network(ids);
  net.elect("1");
  net.node("2").rn.proposeConfChange({ type: "removeNode", nodeId: "3" }); // forwarded to the leader
  net.stabilize();
  net.tickAll(1);
  for (const id of ids) assert.equal(net.node(id).confState.voters, ["1", "2"], id);
  assert.is(net.node("1").status.progress["3"], undefined);
  const n3 = net.node("3");
  assert.throws(() => n3.rn.propose(bytes("x")), dropped);
  const from = net.sent.length;
  for (let i = 0; i < 50; i++) net.tickAll();
  assert.not.ok(net.sent.slice(from).some((m) => m.from === "3" && (m.type === "MsgVote" || m.type === "MsgPreVote")));
  assert.is(net.leader(), "1");
  // Two voters left: both are needed.
  net.isolate("2");
  net.propose("1", "needs-2");
  assert.equal(net.node("1").data(), []);
  net.heal();
  net.tickAll(1);
  assert.equal(net.node("1").data(), ["needs-2"]);
});

test("the leader removes itself: it steps down, hands over, and stays out", () => {
  const net = new Network(ids, { checkQuorum: true });
  net.elect("1");
  net.propose("1", "a");
  net.node("1").rn.proposeConfChange({ type: "removeNode", nodeId: "1" });
  net.stabilize();
  const n1 = net.node("1");
  assert.equal(n1.confState.voters, ["2", "3"]);
  assert.is(n1.stateType, "StateFollower");
  // A caught-up follower got MsgTimeoutNow and took over without waiting for a timeout.
  const lead = net.leader();
  assert.ok(lead === "2" || lead === "3");
  assert.throws(() => n1.rn.propose(bytes("x")), dropped);
  assert.throws(() => n1.rn.proposeConfChange({ type: "addNode", nodeId: "1" }), dropped);
  // The new leader commits with {2, 3} and the removed node never campaigns.
  const from = net.sent.length;
  net.propose(lead, "b");
  for (let i = 0; i < 50; i++) net.tickAll();
  assert.not.ok(net.sent.slice(from).some((m) => m.from === "1" && m.type !== "MsgAppResp" && m.type !== "MsgHeartbeatResp"));
  assert.equal(net.node("2").data(), ["a", "b"]);
  assert.equal(net.node("3").data(), ["a", "b"]);
  assert.ok(net.leader() === "2" || net.leader() === "3");
});

test("a removed leader without a caught-up follower just stops leading", () => {
  const net = new Network(ids);
  net.elect("1");
  const n1 = net.node("1");
  n1.rn.proposeConfChange({ type: "removeNode", nodeId: "1" });
  net.flush(); // MsgApp out
  net.deliver();
  net.flush(); // acks back
  net.deliver(); // the removal commits on 1 ...
  n1.rn.propose(bytes("extra")); // ... and 1 appends one more entry before applying it
  const from = net.sent.length;
  net.flush(); // 1 applies its removal: no follower holds its whole log
  assert.is(n1.stateType, "StateFollower");
  assert.equal(n1.status.progress, {});
  assert.not.ok(net.sent.slice(from).some((m) => m.type === "MsgTimeoutNow"));
  // The others elect a leader after a timeout; 1 never campaigns.
  for (let i = 0; i < 40; i++) net.tickAll();
  assert.ok(net.leader() === "2" || net.leader() === "3");
  assert.not.ok(net.sent.slice(from).some((m) => m.from === "1" && m.type === "MsgVote"));
});

test("only one conf change may be pending at a time", () => {
  const net = new Network(["1", "2", "3", "4", "5"], {}, ids);
  net.elect("1");
  const n1 = net.node("1");
  n1.rn.proposeConfChange({ type: "addNode", nodeId: "4" });
  assert.throws(() => n1.rn.proposeConfChange({ type: "addNode", nodeId: "5" }), dropped);
  // Ordinary proposals are not affected.
  n1.rn.propose(bytes("normal"));
  net.stabilize();
  // Once the first one is applied, the next may go.
  n1.rn.proposeConfChange({ type: "addNode", nodeId: "5" });
  net.stabilize();
  net.tickAll(1);
  assert.equal(n1.confState.voters, ["1", "2", "3", "4", "5"]);
  assert.equal(net.node("5").confState.voters, ["1", "2", "3", "4", "5"]);
});

test("a new leader accepts conf changes only after applying its whole log", () => {
  const net = new Network([]);
  ids.forEach((id, i) => {
    const s = bootstrappedStorage(ids);
    // An entry from term 1 that was never committed: the new leader commits it with its own.
    s.append([{ index: 4, term: 1, type: "normal", data: bytes("old") }]);
    net.add(id, s, {}, i + 1, 3);
  });
  const n2 = net.node("2");
  n2.rn.campaign();
  net.flush();
  net.deliver();
  net.flush();
  net.deliver();
  assert.is(n2.rn.status().softState.state, "StateLeader");
  assert.is(n2.rn.status().applied, 3);
  assert.throws(() => n2.rn.proposeConfChange({ type: "removeNode", nodeId: "3" }), dropped);
  net.stabilize(); // entries 4 and 5 commit and are applied
  assert.is(n2.rn.status().applied, 5);
  n2.rn.proposeConfChange({ type: "removeNode", nodeId: "3" });
  net.stabilize();
  assert.equal(n2.confState.voters, ["1", "2"]);
  assert.equal(n2.data(), ["old"]);
});

test("updateNode leaves the voters unchanged", () => {
  const net = new Network(ids);
  net.elect("1");
  net.node("1").rn.proposeConfChange({ type: "updateNode", nodeId: "2", context: bytes("new-urls") });
  net.stabilize();
  for (const id of ids) assert.equal(net.node(id).confState.voters, ids);
});

test("a fresh node with empty storage waits to be added", () => {
  const storage = new MemoryStorage();
  const rn = new RawNode({ id: "7", electionTick: 10, heartbeatTick: 1, storage, applied: 0, maxSizePerMsg: Infinity, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1) });
  for (let i = 0; i < 100; i++) rn.tick();
  assert.not.ok(rn.hasReady());
  assert.is(rn.status().hardState.term, 0);
});

test.run();
