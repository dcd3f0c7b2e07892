import { test } from "uvu";
import * as assert from "uvu/assert";
import { RawNode, StepLocalMessageError } from "../../../core/raft/raw-node.ts";
import type { MessageType, RaftConfig } from "../../../core/raft/types.ts";
import { Network, bootstrappedStorage, bytes, seeded } from "./network.ts";

const ids = ["1", "2", "3"];

function node(id: string, extra: Partial<RaftConfig> = {}): RawNode {
  return new RawNode({
    id, electionTick: 10, heartbeatTick: 1, storage: bootstrappedStorage(ids), applied: 3,
    maxSizePerMsg: Infinity, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1), ...extra,
  });
}

test("a candidate's vote and term are in the same Ready as its vote requests, with mustSync", () => {
  const rn = node("1");
  assert.not.ok(rn.hasReady());
  rn.campaign();
  const rd = rn.ready();
  assert.equal(rd.hardState, { term: 2, vote: "1", commit: 3 });
  assert.ok(rd.mustSync);
  assert.equal(rd.softState, { lead: "", state: "StateCandidate" });
  assert.equal(rd.messages.map((m) => [m.type, m.to, m.term]), [["MsgVote", "2", 2], ["MsgVote", "3", 2]]);
  rn.advance(rd);
  assert.not.ok(rn.hasReady());
});

test("a granted vote is persisted with its response (mustSync)", () => {
  const rn = node("2");
  rn.step({ type: "MsgVote", from: "1", to: "2", term: 2, logTerm: 1, index: 3, entries: [], commit: 0, reject: false, rejectHint: 0 });
  const rd = rn.ready();
  assert.equal(rd.hardState, { term: 2, vote: "1", commit: 3 });
  assert.ok(rd.mustSync);
  assert.equal(rd.messages.map((m) => [m.type, m.reject]), [["MsgVoteResp", false]]);
});

test("mustSync is false when only the commit index moved", () => {
  const net = new Network(ids);
  net.elect("1");
  net.node("1").rn.propose(bytes("x"));
  net.flush();
  net.deliver((m) => m.to === "2");
  net.flush();
  net.deliver((m) => m.from === "2"); // commit on 1
  const rd1 = net.node("1").rn.ready();
  assert.is(rd1.entries.length, 0);
  assert.is(rd1.hardState!.commit, 5);
  assert.not.ok(rd1.mustSync);
  assert.equal(rd1.committedEntries.map((e) => e.index), [5]);
  net.node("1").rn.advance(rd1);
});

test("the leader's new entries and the MsgApps carrying them come in one Ready", () => {
  const net = new Network(ids);
  net.elect("1");
  const n1 = net.node("1").rn;
  n1.propose(bytes("p"));
  const rd = n1.ready();
  assert.equal(rd.entries.map((e) => [e.index, e.term, e.type]), [[5, 2, "normal"]]);
  assert.ok(rd.mustSync);
  assert.is(rd.hardState, undefined);
  assert.equal(rd.messages.map((m) => [m.type, m.to, m.entries.length]), [["MsgApp", "2", 1], ["MsgApp", "3", 1]]);
  assert.equal(rd.committedEntries, []);
  n1.advance(rd);
});

test("a single-voter leader commits at once and sends nothing", () => {
  const storage = bootstrappedStorage(["1"]);
  const rn = new RawNode({ id: "1", electionTick: 10, heartbeatTick: 1, storage, applied: 1, maxSizePerMsg: Infinity, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1) });
  rn.campaign();
  rn.propose(bytes("solo"));
  const rd = rn.ready();
  assert.equal(rd.softState, { lead: "1", state: "StateLeader" });
  assert.equal(rd.messages, []);
  assert.equal(rd.entries.map((e) => e.index), [2, 3]);
  assert.equal(rd.committedEntries.map((e) => e.index), [2, 3]);
  assert.equal(rd.hardState, { term: 2, vote: "1", commit: 3 });
  storage.append(rd.entries);
  storage.setHardState(rd.hardState!);
  rn.advance(rd);
  assert.not.ok(rn.hasReady());
  assert.is(rn.status().applied, 3);
});

test("committed entries are paged by maxCommittedSizePerReady", () => {
  const storage = bootstrappedStorage(["1"]);
  const rn = new RawNode({ id: "1", electionTick: 10, heartbeatTick: 1, storage, applied: 1, maxSizePerMsg: Infinity, maxCommittedSizePerReady: 10, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1) });
  rn.campaign();
  for (let i = 0; i < 4; i++) rn.propose(bytes("12345"));
  const pages: number[][] = [];
  while (rn.hasReady()) {
    const rd = rn.ready();
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    pages.push(rd.committedEntries.map((e) => e.index));
    rn.advance(rd);
  }
  assert.equal(pages, [[2, 3, 4], [5, 6]]);
});

test("softState appears only when role or leader changes", () => {
  const net = new Network(ids);
  net.elect("1");
  const rds = net.node("2").readies;
  const withSoft = rds.filter((r) => r.softState);
  assert.equal(withSoft.map((r) => r.softState), [{ lead: "1", state: "StateFollower" }]);
});

test("local message types from the network are rejected", () => {
  const rn = node("1");
  for (const type of ["MsgHup", "MsgBeat", "MsgUnreachable", "MsgSnapStatus", "MsgCheckQuorum"] as MessageType[]) {
    assert.throws(
      () => rn.step({ type, from: "2", to: "1", term: 5, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 }),
      (e: unknown) => e instanceof StepLocalMessageError,
    );
  }
  assert.is(rn.status().softState.state, "StateFollower");
  assert.is(rn.status().hardState.term, 1);
});

test("responses from nodes outside the configuration are ignored", () => {
  const net = new Network(ids);
  net.elect("1");
  const rn = net.node("1").rn;
  rn.step({ type: "MsgAppResp", from: "9", to: "1", term: 2, logTerm: 0, index: 100, entries: [], commit: 0, reject: false, rejectHint: 0 });
  assert.not.ok(rn.hasReady());
  assert.is(rn.status().progress["9"], undefined);
});

test("status reports the leader's view of its followers", () => {
  const net = new Network(ids);
  net.elect("1");
  net.propose("1", "x");
  const st = net.node("1").status;
  assert.is(st.id, "1");
  assert.equal(st.softState, { lead: "1", state: "StateLeader" });
  assert.equal(st.hardState, { term: 2, vote: "1", commit: 5 });
  assert.is(st.applied, 5);
  assert.equal(Object.keys(st.progress), ids);
  assert.equal(st.progress["2"], { match: 5, next: 6, state: "replicate", recentActive: true });
  assert.equal(net.node("2").status.progress, {});
});

test("reportUnreachable sends a replicating follower back to probing", () => {
  const net = new Network(ids);
  net.elect("1");
  net.propose("1", "x");
  const rn = net.node("1").rn;
  assert.is(rn.status().progress["2"]!.state, "replicate");
  rn.reportUnreachable("2");
  assert.is(rn.status().progress["2"]!.state, "probe");
});

test("a lower-term heartbeat gets an answer (check quorum) so a stale leader learns the term", () => {
  const rn = node("2", { checkQuorum: true });
  rn.step({ type: "MsgHeartbeat", from: "3", to: "2", term: 5, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 });
  rn.advance(rn.ready());
  rn.step({ type: "MsgHeartbeat", from: "1", to: "2", term: 2, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 });
  const rd = rn.ready();
  assert.equal(rd.messages.map((m) => [m.type, m.to, m.term]), [["MsgAppResp", "1", 5]]);
});

test("config is validated", () => {
  assert.throws(() => node("", {}));
  assert.throws(() => node("1", { electionTick: 1, heartbeatTick: 1 }));
  assert.throws(() => node("1", { maxInflightMsgs: 0 }));
});

test.run();
