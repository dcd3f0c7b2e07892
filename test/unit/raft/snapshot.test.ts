import { test } from "uvu";
import * as assert from "uvu/assert";
import { ProposalDroppedError, RawNode } from "../../../core/raft/raw-node.ts";
import { MemoryStorage } from "../../../core/raft/storage.ts";
import type { Message } from "../../../core/raft/types.ts";
import { Network, bootstrappedStorage, bytes, seeded } from "./network.ts";

const ids = ["1", "2", "3"];

/** 3 misses 10 proposals while the leader compacts its log past them. */
function laggingFollower(): Network {
  const net = new Network(ids);
  net.elect("1");
  net.propose("1", "before");
  net.isolate("3");
  for (let i = 0; i < 10; i++) net.propose("1", `v${i}`);
  const snap = net.node("1").compact();
  assert.is(snap.metadata.index, 15);
  assert.equal(snap.metadata.confState.voters, ids);
  assert.is(net.node("1").storage.firstIndex(), 16);
  net.heal();
  return net;
}

test("a follower whose next entries were compacted gets a snapshot and installs it", () => {
  const net = laggingFollower();
  net.propose("1", "after");
  net.tickAll(1);
  const snaps = net.sent.filter((m) => m.type === "MsgSnap");
  assert.is(snaps.length, 1);
  assert.is(snaps[0]!.to, "3");
  assert.is(snaps[0]!.snapshot!.metadata.index, 15);
  const n3 = net.node("3");
  assert.is(n3.snapshotsInstalled, 1);
  assert.is(n3.storage.firstIndex(), 16);
  assert.equal(n3.data(), net.node("1").data());
  assert.is(n3.data().length, 12);
  assert.is(n3.committed, 16);
  // The leader is replicating to it again.
  net.propose("1", "more");
  assert.equal(n3.data().slice(-1), ["more"]);
  assert.is(net.node("1").status.progress["3"]!.state, "replicate");
});

test("the Ready with a snapshot asks for a sync and leaves applied at the snapshot", () => {
  const net = laggingFollower();
  net.tick("1");
  net.flush();
  net.deliver((m) => m.type === "MsgHeartbeat" && m.to === "3");
  net.flush();
  net.deliver((m) => m.type === "MsgHeartbeatResp");
  net.flush();
  // Probe: 3 rejects and the leader falls back to a snapshot.
  for (let i = 0; i < 3 && !net.queue.some((m) => m.type === "MsgSnap"); i++) {
    net.deliver();
    net.flush();
  }
  const msnap = net.queue.find((m) => m.type === "MsgSnap")!;
  assert.ok(msnap);
  net.queue = [];
  const n3 = net.node("3");
  n3.rn.step(msnap);
  const rd = n3.rn.ready();
  assert.ok(rd.snapshot);
  assert.is(rd.snapshot!.metadata.index, 15);
  assert.ok(rd.mustSync);
  assert.is(rd.hardState!.commit, 15);
  assert.equal(rd.committedEntries, []);
  assert.equal(rd.messages.map((m) => [m.type, m.index, m.reject]), [["MsgAppResp", 15, false]]);
  n3.storage.applySnapshot(rd.snapshot!);
  n3.storage.setHardState(rd.hardState!);
  n3.rn.advance(rd);
  assert.is(n3.rn.status().applied, 15);
  assert.not.ok(n3.rn.hasReady());
});

test("a lost snapshot (reportSnapshot false) makes the leader probe again, then resend", () => {
  const net = laggingFollower();
  let lost = 0;
  net.intercept = (m) => (m.type === "MsgSnap" && lost++ === 0 ? null : m);
  net.tick("1");
  net.stabilize();
  assert.is(lost, 1);
  // The failed snapshot was reported: 3 is probed, paused until the next heartbeat response.
  const pr = net.node("1").status.progress["3"]!;
  assert.is(pr.state, "probe");
  assert.is(net.node("3").snapshotsInstalled, 0);
  net.tickAll(1);
  assert.is(lost, 2);
  assert.is(net.node("3").snapshotsInstalled, 1);
  assert.equal(net.node("3").data(), net.node("1").data());
});

test("while a snapshot is in flight, nothing else is sent to that follower", () => {
  const net = laggingFollower();
  net.reportSnapshots = false;
  net.drop(() => true);
  net.intercept = (m) => (m.type === "MsgSnap" ? null : m);
  net.tickAll(1);
  assert.is(net.node("1").status.progress["3"]!.state, "snapshot");
  const sentBefore = net.sent.filter((m) => m.to === "3" && m.type === "MsgApp").length;
  net.propose("1", "x");
  assert.is(net.sent.filter((m) => m.to === "3" && m.type === "MsgApp").length, sentBefore);
  // The transport finally reports success: the leader probes from after the snapshot.
  net.intercept = undefined;
  net.node("1").rn.reportSnapshot("3", true);
  assert.is(net.node("1").status.progress["3"]!.state, "probe");
  assert.is(net.node("1").status.progress["3"]!.next, 16);
});

test("a snapshot the follower already has only moves its commit index", () => {
  const storage = bootstrappedStorage(ids);
  storage.append([{ index: 4, term: 2, type: "normal", data: new Uint8Array(0) }]);
  storage.setHardState({ term: 2, vote: "", commit: 3 });
  const rn = new RawNode({ id: "2", electionTick: 10, heartbeatTick: 1, storage, applied: 3, maxSizePerMsg: Infinity, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1) });
  const snapMsg: Message = {
    type: "MsgSnap", to: "2", from: "1", term: 2, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    snapshot: { data: new Uint8Array(0), metadata: { index: 4, term: 2, confState: { voters: ids } } },
  };
  rn.step(snapMsg);
  const rd = rn.ready();
  assert.is(rd.snapshot, undefined);
  assert.is(rd.hardState!.commit, 4);
  assert.equal(rd.committedEntries.map((e) => e.index), [4]);
  assert.equal(rd.messages.map((m) => [m.type, m.index]), [["MsgAppResp", 4]]);
});

test("a snapshot from before the receiver was added is installed; the node waits for its addNode", () => {
  const storage = new MemoryStorage();
  const rn = new RawNode({ id: "9", electionTick: 10, heartbeatTick: 1, storage, applied: 0, maxSizePerMsg: Infinity, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1) });
  rn.step({
    type: "MsgSnap", to: "9", from: "1", term: 2, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    snapshot: { data: new Uint8Array(0), metadata: { index: 10, term: 2, confState: { voters: ids } } },
  });
  const rd = rn.ready();
  assert.is(rd.snapshot!.metadata.index, 10);
  assert.equal(rd.messages.map((m) => [m.type, m.index]), [["MsgAppResp", 10]]);
  storage.applySnapshot(rd.snapshot!);
  rn.advance(rd);
  rn.campaign();
  assert.is(rn.status().softState.state, "StateFollower", "not a voter yet");
  rn.propose(bytes("forwarded")); // it knows the leader: proposals are forwarded
  assert.equal(rn.ready().messages.map((m) => [m.type, m.to]), [["MsgProp", "1"]]);
});

test("a member that receives a snapshot recording its removal is removed", () => {
  const storage = bootstrappedStorage(ids);
  const rn = new RawNode({ id: "3", electionTick: 10, heartbeatTick: 1, storage, applied: 3, maxSizePerMsg: Infinity, maxInflightMsgs: 8, checkQuorum: false, preVote: false, random: seeded(1) });
  rn.step({
    type: "MsgSnap", to: "3", from: "1", term: 2, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    snapshot: { data: new Uint8Array(0), metadata: { index: 10, term: 2, confState: { voters: ["1", "2"] } } },
  });
  rn.advance(rn.ready());
  assert.throws(() => rn.propose(bytes("x")), (e: unknown) => e instanceof ProposalDroppedError);
  for (let i = 0; i < 50; i++) rn.tick();
  assert.is(rn.status().softState.state, "StateFollower");
  assert.is(rn.status().hardState.term, 2);
});

test("a node restarted after installing a snapshot keeps its voters and log", () => {
  const net = laggingFollower();
  net.tickAll(1);
  const n3 = net.node("3");
  assert.is(n3.snapshotsInstalled, 1);
  net.crash("3");
  net.restart("3");
  assert.equal(n3.rn.status().hardState, n3.storage.initialState().hardState);
  assert.is(n3.rn.status().applied, n3.appliedIndex);
  // It can lead: its voter set came from the snapshot.
  net.elect("3");
  assert.is(net.leader(), "3");
  net.propose("3", "led-by-3");
  for (const id of ids) assert.equal(net.node(id).data().slice(-1), ["led-by-3"]);
});

test.run();
