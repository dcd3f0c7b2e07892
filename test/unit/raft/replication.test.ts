import { test } from "uvu";
import * as assert from "uvu/assert";
import { ProposalDroppedError } from "../../../core/raft/raw-node.ts";
import type { Message } from "../../../core/raft/types.ts";
import { Network, appendTerms, bootstrappedStorage, bytes } from "./network.ts";

const ids = ["1", "2", "3"];

/** Every pair of nodes agrees on the term of every index both have applied. */
function committedLogsAgree(net: Network): boolean {
  const byIndex = new Map<number, number>();
  for (const n of net.nodes.values()) {
    for (const e of n.appliedLog) {
      const t = byIndex.get(e.index);
      if (t !== undefined && t !== e.term) return false;
      byIndex.set(e.index, e.term);
    }
  }
  return true;
}

test("proposals replicate and commit on every node, in order", () => {
  const net = new Network(ids);
  net.elect("1");
  for (const d of ["a", "b", "c"]) net.propose("1", d);
  for (const id of ids) {
    assert.equal(net.node(id).data(), ["a", "b", "c"]);
    assert.is(net.node(id).committed, 7);
    assert.is(net.node(id).appliedIndex, 7);
  }
  assert.ok(committedLogsAgree(net));
});

test("a follower forwards proposals to the leader", () => {
  const net = new Network(ids);
  net.elect("1");
  net.propose("3", "from-3");
  for (const id of ids) assert.equal(net.node(id).data(), ["from-3"]);
  const fwd = net.sent.find((m) => m.type === "MsgProp");
  assert.ok(fwd);
  assert.is(fwd!.from, "3");
  assert.is(fwd!.to, "1");
  assert.is(fwd!.term, 0);
});

test("proposals without a known leader are dropped", () => {
  const net = new Network(ids);
  assert.throws(() => net.node("1").rn.propose(bytes("x")), (e: unknown) => e instanceof ProposalDroppedError);
  net.node("1").rn.campaign(); // candidate now
  assert.throws(() => net.node("1").rn.propose(bytes("x")), (e: unknown) => e instanceof ProposalDroppedError);
});

test("an entry is committed only once a majority stores it", () => {
  const net = new Network(["1", "2", "3", "4", "5"]);
  net.elect("1");
  net.isolate("4");
  net.isolate("5");
  net.cut("1", "3");
  net.propose("1", "a");
  assert.is(net.node("1").committed, 6); // only 1 and 2 have "a"
  assert.equal(net.node("1").data(), []);
  net.heal();
  net.isolate("4");
  net.isolate("5");
  net.tickAll(1); // heartbeat: 3 answers and catches up
  assert.is(net.node("1").committed, 7);
  assert.equal(net.node("1").data(), ["a"]);
});

// Figure 8 of the Raft paper, with 5 nodes. After the b=5 bootstrap entries (term 1):
//   S1 [.. 2]   S2 [.. 2]   S3 [..]   S4 [..]   S5 [.. 3]     (everyone at term 3)
// S1 is elected in term 4 (votes of S2, S3, S4) and appends its empty entry at b+2. It gets its
// term-2 entry (b+1) onto S3 but not its own term-4 entry (messages are cut short), so entry b+1
// sits on a majority (S1, S2, S3). It must not count that as committed: S5 (last term 3) can
// still win term 5 with S2, S3, S4 and overwrite it.
const b = 5;
function figure8(opts: { unsafeCommitOldTerms?: boolean } = {}): Network {
  const ids5 = ["1", "2", "3", "4", "5"];
  const extra: Record<string, number[]> = { "1": [2], "2": [2], "3": [], "4": [], "5": [3] };
  const net = new Network([]);
  ids5.forEach((id, i) => {
    const s = bootstrappedStorage(ids5);
    appendTerms(s, extra[id]!, `t${extra[id]![0]}-`);
    s.setHardState({ term: 3, vote: "", commit: b });
    net.add(id, s, opts, i + 1, b);
  });
  return net;
}

/** S1's messages carry nothing past b+1, and nothing reaches S4 or S5. */
function cutShort(net: Network, stopWhenCommitted = false) {
  return (m: Message): Message | null => {
    if (m.from !== "1") return m;
    if (stopWhenCommitted && net.node("1").committed > b) return null; // S1 "crashes"
    if (m.type === "MsgVote") return m;
    if (m.to === "4" || m.to === "5") return null;
    if (m.type === "MsgApp") m.entries = m.entries.filter((e) => e.index <= b + 1);
    return m;
  };
}

test("figure 8: an entry of an old term is not committed by counting replicas", () => {
  const net = figure8();
  net.intercept = cutShort(net);
  net.elect("1");
  const s1 = net.node("1");
  assert.is(s1.stateType, "StateLeader");
  assert.is(s1.term, 4);
  const prog = s1.status.progress;
  assert.is(prog["2"]!.match, b + 1);
  assert.is(prog["3"]!.match, b + 1);
  // b+1 is on S1, S2, S3 — a majority — yet not committed: it is from term 2.
  assert.is(s1.committed, b);
  assert.equal(net.node("3").logTerms(), [1, 1, 1, 1, 1, 2]);

  // S1 crashes; S5 wins term 5 (votes of S2, S3, S4) and overwrites b+1 everywhere.
  net.intercept = undefined;
  net.isolate("1");
  net.elect("5");
  assert.is(net.leader(), "5");
  for (const id of ["2", "3", "4", "5"]) {
    assert.equal(net.node(id).logTerms(), [1, 1, 1, 1, 1, 3, 5]);
    assert.is(net.node(id).committed, b + 2);
  }
  // Nothing that was committed changed.
  assert.ok(committedLogsAgree(net));
  assert.equal(s1.appliedLog.map((e) => e.index), [1, 2, 3, 4, 5]);
});

test("figure 8: the old-term entry commits once an entry of the current term commits", () => {
  const net = figure8();
  net.intercept = cutShort(net);
  net.elect("1");
  const s1 = net.node("1");
  assert.is(s1.committed, b);
  // Now S1's term-4 entry reaches S2 and S3 (still not S4, S5): both entries commit together.
  net.intercept = undefined;
  net.cut("1", "4");
  net.cut("1", "5");
  net.tickAll(1);
  assert.is(s1.committed, b + 2);
  assert.equal(s1.appliedLog.slice(b).map((e) => [e.index, e.term]), [[b + 1, 2], [b + 2, 4]]);
  assert.equal(s1.data(), ["t2-6"]);
  // S5 can no longer be elected: S2 and S3 have a term-4 entry.
  net.isolate("1");
  net.elect("5");
  assert.is.not(net.node("5").stateType, "StateLeader");
  net.heal();
  // (1 still thinks it leads term 4; a new election at term >= 5 is needed.)
  for (let i = 0; i < 60; i++) net.tickAll();
  assert.ok(["1", "2", "3"].includes(net.leader()));
  assert.ok(net.node(net.leader()).term >= 5);
  net.stabilize();
  for (const id of ["1", "2", "3", "4", "5"]) assert.equal(net.node(id).data(), ["t2-6"]);
  assert.ok(committedLogsAgree(net));
});

test("unsafeCommitOldTerms really breaks figure 8 (committed entries diverge)", () => {
  const net = figure8({ unsafeCommitOldTerms: true });
  net.intercept = cutShort(net, true);
  net.elect("1");
  const s1 = net.node("1");
  // With the bug, S1 counts replicas of its term-2 entry and commits (and applies) it.
  assert.is(s1.committed, b + 1);
  assert.equal(s1.data(), ["t2-6"]);
  net.intercept = undefined;
  net.isolate("1");
  net.elect("5");
  assert.is(net.leader(), "5");
  // ... and S5 then commits a different entry at the same index.
  assert.equal(net.node("5").appliedLog[b], { index: b + 1, term: 3 });
  assert.equal(s1.appliedLog[b], { index: b + 1, term: 2 });
  assert.not.ok(committedLogsAgree(net));
});

test("conflict repair: a follower with a longer divergent log from an old leader", () => {
  const ids3 = ["1", "2", "3"];
  const net = new Network([]);
  ids3.forEach((id, i) => {
    const s = bootstrappedStorage(ids3);
    // 3 led term 3 and appended 5 entries nobody else got; 1 and 2 have an entry of term 2.
    appendTerms(s, id === "3" ? [3, 3, 3, 3, 3] : [2], "old");
    s.setHardState({ term: 3, vote: "", commit: 3 });
    net.add(id, s, {}, i + 1, 3);
  });
  net.elect("1");
  assert.is(net.leader(), "1");
  net.propose("1", "new");
  for (const id of ids3) assert.equal(net.node(id).logTerms(), [1, 1, 1, 2, 4, 4]);
  // The follower's hint skipped its whole term-3 tail: a single rejection.
  const rejects = net.sent.filter((m) => m.type === "MsgAppResp" && m.from === "3" && m.reject);
  assert.is(rejects.length, 1);
  assert.equal(net.node("3").data(), ["old4", "new"]);
});

test("conflict repair: figure 7 followers all converge on the leader's log", () => {
  const logs: Record<string, number[]> = {
    L: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6],
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  const all = Object.keys(logs);
  const net = new Network([]);
  all.forEach((id, i) => {
    const s = bootstrappedStorage(all);
    appendTerms(s, logs[id]!);
    s.setHardState({ term: 7, vote: "", commit: 7 });
    net.add(id, s, {}, i + 1, 7);
  });
  net.elect("L");
  assert.is(net.leader(), "L");
  net.propose("L", "x");
  const want = [1, 1, 1, 1, 1, 1, 1, ...logs["L"]!, 8, 8];
  for (const id of all) {
    assert.equal(net.node(id).logTerms(), want, id);
    assert.is(net.node(id).committed, want.length, id);
  }
  assert.ok(committedLogsAgree(net));
});

test("a partitioned old leader with a longer log rejoins and loses its uncommitted entries", () => {
  const net = new Network(ids);
  net.elect("1");
  net.propose("1", "committed");
  net.isolate("1");
  // The old leader keeps accepting proposals it can never commit.
  for (const d of ["lost1", "lost2", "lost3"]) net.propose("1", d);
  assert.is(net.node("1").lastIndex, 8);
  net.elect("2");
  net.propose("2", "after");
  assert.ok(net.node("1").lastIndex > net.node("2").lastIndex);
  net.heal();
  net.tickAll(2);
  assert.is(net.node("1").stateType, "StateFollower");
  assert.is(net.node("1").lead, "2");
  for (const id of ids) {
    assert.equal(net.node(id).data(), ["committed", "after"]);
    assert.equal(net.node(id).logTerms(), net.node("2").logTerms());
  }
  assert.ok(committedLogsAgree(net));
});

test("flow control: a full inflight window pauses sending until acknowledgements", () => {
  const net = new Network(ids, { maxInflightMsgs: 3 });
  net.elect("1");
  net.propose("1", "warmup"); // 2 and 3 are replicating now
  assert.is(net.node("1").status.progress["2"]!.state, "replicate");
  const n1 = net.node("1");
  for (let i = 0; i < 10; i++) {
    n1.rn.propose(bytes(`p${i}`));
    net.flush();
  }
  const appsTo2 = () => net.queue.filter((m) => m.type === "MsgApp" && m.to === "2");
  assert.is(appsTo2().length, 3, "window of 3 messages");
  assert.equal(appsTo2().map((m) => m.entries.length), [1, 1, 1]);
  // Deliver the three to 2 (and nothing else); its acks open the window again.
  net.deliver((m) => m.to === "2");
  net.flush();
  net.deliver((m) => m.from === "2");
  net.flush();
  // (Empty MsgApps also go out: they carry the new commit index.)
  const next = appsTo2().filter((m) => m.entries.length > 0);
  assert.is(next.length, 1);
  assert.is(next[0]!.entries.length, 7, "everything left in one message");
  net.stabilize();
  for (const id of ids) assert.is(net.node(id).data().length, 11);
});

test("flow control: a heartbeat response frees one slot of a full window", () => {
  const net = new Network(ids, { maxInflightMsgs: 2 });
  net.elect("1");
  net.propose("1", "warmup");
  const n1 = net.node("1");
  net.cut("1", "2");
  for (let i = 0; i < 4; i++) {
    n1.rn.propose(bytes(`p${i}`));
    net.flush();
  }
  net.heal();
  // Entries 6 and 7 went out (and were lost); 8 and 9 wait for the window.
  assert.is(net.node("1").status.progress["2"]!.next, 8);
  // Only the leader's empty entry and "warmup" ever reached 2.
  assert.equal(net.sent.filter((m) => m.type === "MsgApp" && m.to === "2" && m.entries.length > 0).length, 2);
  net.tick("1");
  net.flush();
  // heartbeat -> response -> one slot freed -> another MsgApp
  net.deliver((m) => m.type === "MsgHeartbeat");
  net.flush();
  net.deliver((m) => m.type === "MsgHeartbeatResp");
  net.flush();
  const apps = net.queue.filter((m) => m.type === "MsgApp" && m.to === "2");
  assert.is(apps.length, 1);
  net.stabilize();
  // 2 rejected the out-of-order append, was probed and caught up.
  net.tickAll(1);
  assert.is(net.node("2").data().length, 5);
});

test("maxSizePerMsg limits the entries of one MsgApp (but always at least one)", () => {
  const net = new Network(ids, { maxSizePerMsg: 25 });
  net.elect("1");
  net.isolate("3");
  for (let i = 0; i < 6; i++) net.propose("1", "0123456789".slice(0, 9) + i); // 10 bytes each
  net.heal();
  net.propose("1", "x".repeat(100)); // larger than the limit on its own
  net.tickAll(1);
  const apps = net.sent.filter((m) => m.type === "MsgApp" && m.to === "3" && m.entries.length > 0);
  for (const m of apps) {
    const size = m.entries.reduce((s, e) => s + e.data.length, 0);
    assert.ok(m.entries.length === 1 || size <= 25, `message of ${m.entries.length} entries, ${size} bytes`);
  }
  assert.ok(apps.some((m) => m.entries.length === 2));
  assert.is(net.node("3").data().length, 7);
});

test("restart from storage preserves term, vote, commit and log", () => {
  const net = new Network(ids);
  net.elect("2");
  for (const d of ["a", "b"]) net.propose("2", d);
  const before = ids.map((id) => ({ hs: net.node(id).status.hardState, terms: net.node(id).logTerms() }));
  for (const id of ids) net.crash(id);
  for (const id of ids) net.restart(id);
  ids.forEach((id, i) => {
    const st = net.node(id).status;
    assert.equal(st.hardState, before[i]!.hs);
    assert.equal(net.node(id).logTerms(), before[i]!.terms);
    assert.is(st.softState.state, "StateFollower");
    assert.is(st.applied, 6);
    assert.not.ok(net.node(id).rn.hasReady());
  });
  assert.is(net.node("1").status.hardState.vote, "2");
  // The cluster works again; the restarted nodes apply each entry once.
  for (let i = 0; i < 40 && net.leader() === ""; i++) net.tickAll();
  net.propose(net.leader(), "c");
  for (const id of ids) assert.equal(net.node(id).data(), ["a", "b", "c"]);
});

test("restart with applied = 0 hands back every committed entry", () => {
  const net = new Network(ids);
  net.elect("1");
  net.propose("1", "a");
  const n2 = net.node("2");
  n2.state = [];
  n2.appliedLog = [];
  n2.appliedIndex = 0;
  n2.start(0);
  assert.ok(n2.rn.hasReady());
  const rd = n2.rn.ready();
  assert.equal(rd.committedEntries.map((e) => e.index), [1, 2, 3, 4, 5]);
  assert.is(rd.entries.length, 0);
  assert.is(rd.hardState, undefined);
});

test("a lagging follower catches up after a partition", () => {
  const net = new Network(["1", "2", "3", "4", "5"]);
  net.elect("1");
  net.isolate("5");
  for (let i = 0; i < 20; i++) net.propose("1", `v${i}`);
  net.heal();
  net.tickAll(2);
  assert.is(net.node("5").data().length, 20);
  assert.ok(committedLogsAgree(net));
});

test("proposeMany: several entries in one proposal, one append per follower, applied in order", () => {
  const net = new Network(ids);
  net.elect("1");
  const sent = net.sent.length;
  net.node("1").rn.proposeMany([bytes("a"), bytes("b"), bytes("c")]);
  net.flush();
  const apps = net.queue.filter((m) => m.type === "MsgApp");
  assert.equal(apps.map((m) => [m.to, m.entries.length]), [["2", 3], ["3", 3]]);
  net.stabilize();
  for (const id of ids) assert.equal(net.node(id).data(), ["a", "b", "c"]);
  assert.ok(net.sent.length > sent);
  // A follower forwards the whole batch to the leader as one proposal.
  net.node("2").rn.proposeMany([bytes("d"), bytes("e")]);
  net.flush();
  assert.equal(net.queue.filter((m) => m.type === "MsgProp").map((m) => [m.to, m.entries.length]), [["1", 2]]);
  net.stabilize();
  for (const id of ids) assert.equal(net.node(id).data(), ["a", "b", "c", "d", "e"]);
});

test.run();
