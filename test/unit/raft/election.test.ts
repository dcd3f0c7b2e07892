import { test } from "uvu";
import * as assert from "uvu/assert";
import { RawNode } from "../../../core/raft/raw-node.ts";
import { MemoryStorage } from "../../../core/raft/storage.ts";
import { Network, appendTerms, bootstrappedStorage, seeded } from "./network.ts";

const ids = ["1", "2", "3"];

test("a node that times out is elected leader and appends an empty entry of its term", () => {
  const net = new Network(ids);
  net.elect("1");
  assert.is(net.leader(), "1");
  const n1 = net.node("1");
  assert.is(n1.term, 2);
  for (const id of ids) {
    assert.is(net.node(id).lead, "1", `${id} follows 1`);
    assert.is(net.hardState(id).term, 2);
    // bootstrap entries (3 at term 1) + the leader's empty entry at term 2, committed everywhere
    assert.equal(net.node(id).logTerms(), [1, 1, 1, 2]);
    assert.is(net.node(id).committed, 4);
  }
  assert.is(net.hardState("2").vote, "1");
});

test("ticking alone elects exactly one leader (randomized timeouts)", () => {
  const net = new Network(["1", "2", "3", "4", "5"]);
  for (let i = 0; i < 40 && net.leader() === ""; i++) net.tickAll();
  const lead = net.leader();
  assert.ok(lead !== "");
  const leaders = net.ids().filter((id) => net.node(id).rn.status().softState.state === "StateLeader");
  assert.equal(leaders, [lead]);
});

test("randomized election timeout lies in [electionTick, 2*electionTick)", () => {
  for (const r of [0, 0.25, 0.5, 0.999999]) {
    const storage = bootstrappedStorage(["1", "2", "3"]);
    const rn = new RawNode({ id: "1", electionTick: 10, heartbeatTick: 1, storage, applied: 3, maxSizePerMsg: Infinity, maxInflightMsgs: 256, checkQuorum: false, preVote: false, random: () => r });
    const expected = 10 + Math.floor(r * 10);
    let ticks = 0;
    while (rn.status().softState.state === "StateFollower" && ticks < 100) {
      rn.tick();
      ticks++;
    }
    assert.is(ticks, expected, `random ${r}`);
  }
});

test("split vote: no leader in the term, a later election succeeds", () => {
  const net = new Network(["1", "2", "3", "4"]);
  // 1 and 2 campaign at once; 3 votes for 1 and 4 votes for 2: 2 votes each, quorum is 3.
  net.node("1").rn.campaign();
  net.node("2").rn.campaign();
  net.flush();
  net.deliver((m) => (m.to === "3" ? m.from === "1" : m.to === "4" ? m.from === "2" : true));
  net.drop((m) => m.type === "MsgVote");
  net.stabilize();
  assert.is(net.leader(), "");
  assert.is(net.node("1").stateType, "StateCandidate");
  assert.is(net.node("2").stateType, "StateCandidate");
  // The next election (higher term) wins.
  net.elect("1");
  assert.is(net.leader(), "1");
  assert.is(net.node("1").term, 3);
});

test("a candidate with a stale log is refused", () => {
  const net = new Network(ids);
  net.elect("1");
  net.isolate("3");
  net.propose("1", "a");
  net.heal();
  // 3 misses "a": its log is behind; its election at a higher term fails.
  net.node("3").rn.campaign();
  net.flush();
  net.deliver();
  net.flush();
  const resps = net.queue.filter((m) => m.type === "MsgVoteResp" && m.to === "3");
  assert.is(resps.length, 2);
  assert.ok(resps.every((m) => m.reject));
  net.stabilize();
  assert.is.not(net.node("3").stateType, "StateLeader");
  // The refused candidate moved everyone to its term; a node with the full log wins it back.
  net.elect("1");
  assert.is(net.leader(), "1");
  assert.equal(net.node("3").data(), ["a"]);
});

test("votes: one per term; a repeat request from the same candidate is granted again", () => {
  const net = new Network(ids);
  net.node("1").rn.campaign();
  net.flush();
  const voteFor2 = { ...net.queue.find((m) => m.to === "2")!, from: "3" };
  net.deliver((m) => m.to === "2");
  net.flush();
  net.queue = [];
  // 2 voted for 1 in term 2: a request from 3 in the same term is rejected ...
  net.node("2").rn.step({ ...voteFor2, from: "3" });
  net.flush();
  assert.ok(net.queue.find((m) => m.to === "3")!.reject);
  net.queue = [];
  // ... and a retransmission from 1 is granted.
  net.node("2").rn.step({ ...voteFor2, from: "1" });
  net.flush();
  assert.not.ok(net.queue.find((m) => m.to === "1")!.reject);
});

test("pre-vote: a partitioned node does not inflate its term and does not disrupt the leader", () => {
  const net = new Network(ids, { preVote: true });
  net.elect("1");
  const term = net.node("1").term;
  net.isolate("3");
  for (let i = 0; i < 100; i++) net.tickAll();
  // 3 kept pre-campaigning but never won a pre-vote: its term did not move.
  assert.is(net.node("3").term, term);
  assert.is(net.node("3").stateType, "StatePreCandidate");
  net.heal();
  net.tickAll(3);
  assert.is(net.leader(), "1");
  assert.is(net.node("1").term, term);
  assert.is(net.node("3").lead, "1");
  assert.is(net.node("3").stateType, "StateFollower");
});

test("without pre-vote, the partitioned node's term inflates and disrupts the leader on return", () => {
  const net = new Network(ids);
  net.elect("1");
  const term = net.node("1").term;
  net.isolate("3");
  for (let i = 0; i < 100; i++) net.tickAll();
  assert.ok(net.node("3").term > term + 2);
  net.heal();
  net.tickAll(25);
  // 3's next vote request carried its inflated term: 1 had to step down and a new term began.
  assert.ok(net.node("1").term > term);
});

test("pre-vote: a pre-candidate with a stale log is rejected and the cluster keeps its term", () => {
  const net = new Network(ids, { preVote: true });
  net.elect("1");
  net.isolate("3");
  net.propose("1", "x");
  net.heal();
  const term = net.node("1").term;
  // Even once 1 and 2 no longer hear from a leader, 3's stale log cannot win a pre-vote.
  net.isolate("1");
  net.node("3").rn.campaign();
  net.stabilize();
  // 2 refused; 1 cannot answer: 3 stays a pre-candidate, at its old term.
  assert.is(net.node("3").stateType, "StatePreCandidate");
  assert.is(net.node("3").term, term);
  assert.is(net.node("2").term, term);
  // 2 (up to date) wins.
  net.elect("2");
  assert.is(net.leader(), "2");
  assert.is(net.node("2").term, term + 1);
});

test("pre-vote: a leader's election still works when everyone uses it", () => {
  const net = new Network(["1", "2", "3", "4", "5"], { preVote: true });
  net.elect("4");
  assert.is(net.leader(), "4");
  assert.is(net.node("4").term, 2);
});

test("check quorum: a leader that loses contact with a quorum steps down", () => {
  const net = new Network(ids, { checkQuorum: true });
  net.elect("1");
  net.isolate("1");
  // Followers do not time out here: only the leader is ticked.
  for (let i = 0; i < 9; i++) net.tick("1");
  net.flush();
  assert.is(net.node("1").stateType, "StateLeader");
  for (let i = 0; i < 11; i++) net.tick("1");
  net.flush();
  assert.is(net.node("1").stateType, "StateFollower");
});

test("check quorum: a leader that hears from a quorum stays leader", () => {
  const net = new Network(ids, { checkQuorum: true });
  net.elect("1");
  net.isolate("3");
  for (let i = 0; i < 50; i++) {
    net.tick("1");
    net.tick("2");
    net.stabilize();
  }
  assert.is(net.leader(), "1");
  assert.is(net.node("2").lead, "1");
});

test("leader lease: followers that hear from a live leader ignore a disruptive candidate", () => {
  const net = new Network(ids, { checkQuorum: true });
  net.elect("1");
  const term = net.node("1").term;
  // 3 is partitioned long enough to time out and campaign at higher terms.
  net.isolate("3");
  for (let i = 0; i < 30; i++) {
    net.tick("1");
    net.tick("2");
    net.tick("3");
    net.stabilize();
  }
  assert.ok(net.node("3").term > term);
  net.heal();
  // Its vote requests are ignored (1 and 2 are within the lease) ...
  net.node("3").rn.campaign();
  net.stabilize();
  assert.is(net.leader(), "1");
  assert.is(net.node("1").term, term);
  assert.is(net.node("2").term, term);
  // ... and the leader's heartbeats get a higher-term response, so 3 rejoins only through a new
  // election; the cluster recovers with a single leader and 3 follows it.
  for (let i = 0; i < 40; i++) net.tickAll();
  const lead = net.leader();
  assert.ok(lead !== "");
  for (const id of ids) assert.is(net.node(id).lead, lead);
});

test("a node that is not in its own voter set never campaigns", () => {
  const net = new Network(["1", "2", "3", "4"], {}, ["1", "2", "3"]);
  const n4 = net.node("4");
  for (let i = 0; i < 100; i++) n4.rn.tick();
  n4.rn.campaign();
  net.stabilize();
  assert.is(n4.stateType, "StateFollower");
  assert.is(n4.term, 0);
  assert.equal(net.sent.filter((m) => m.from === "4"), []);
});

test("a higher-term message makes a leader step down", () => {
  const net = new Network(ids);
  net.elect("1");
  net.isolate("1");
  net.elect("2");
  assert.is(net.node("2").term, 3);
  net.heal();
  // The old leader learns of term 3 from the new leader's next heartbeat.
  net.tick("2");
  net.stabilize();
  net.propose("2", "y");
  assert.is(net.node("1").stateType, "StateFollower");
  assert.is(net.node("1").lead, "2");
  assert.equal(net.node("1").data(), ["y"]);
});

test("preset logs: a node behind a quorum cannot win; the most up-to-date one does", () => {
  const storages = ["1", "2", "3"].map(() => bootstrappedStorage(ids));
  appendTerms(storages[0]!, [2]);
  appendTerms(storages[1]!, [2, 3]);
  for (const s of storages) s.setHardState({ term: 3, vote: "", commit: 3 });
  const net = new Network([]);
  ids.forEach((id, i) => net.add(id, storages[i]!, {}, i + 1, 3));
  net.elect("3");
  assert.is.not(net.leader(), "3");
  net.elect("2");
  assert.is(net.leader(), "2");
  for (const id of ids) assert.equal(net.node(id).logTerms(), [1, 1, 1, 2, 3, net.node("2").term]);
});

test("seeded random is deterministic", () => {
  const a = seeded(7);
  const b = seeded(7);
  for (let i = 0; i < 5; i++) assert.is(a(), b());
  assert.ok(new MemoryStorage().lastIndex() === 0);
});

test.run();
