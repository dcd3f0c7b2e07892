import { test } from "uvu";
import * as assert from "uvu/assert";
import { coalesceMessages } from "../../../core/raft/coalesce.ts";
import type { Entry, Message } from "../../../core/raft/types.ts";
import { Network, bytes } from "./network.ts";

function ent(index: number, term: number, data = "x"): Entry {
  return { index, term, type: "normal", data: bytes(data) };
}

function app(to: string, index: number, logTerm: number, entries: Entry[], commit: number, term = 2): Message {
  return { type: "MsgApp", from: "1", to, term, logTerm, index, entries, commit, reject: false, rejectHint: 0 };
}

function resp(index: number, reject = false, term = 2): Message {
  return { type: "MsgAppResp", from: "2", to: "1", term, logTerm: 0, index, entries: [], commit: 0, reject, rejectHint: reject ? index : 0 };
}

const shape = (ms: Message[]) => ms.map((m) => [m.type, m.to, m.index, m.entries.map((e) => e.index), m.commit]);

test("contiguous one-entry appends to a peer become one message with the highest commit", () => {
  const out = coalesceMessages([app("2", 10, 2, [ent(11, 2)], 9), app("2", 11, 2, [ent(12, 2)], 10), app("2", 12, 2, [ent(13, 2)], 11)], 1 << 20);
  assert.equal(shape(out), [["MsgApp", "2", 10, [11, 12, 13], 11]]);
});

test("per peer: appends to different followers interleaved are merged per follower, order kept", () => {
  const out = coalesceMessages([app("2", 10, 2, [ent(11, 2)], 9), app("3", 10, 2, [ent(11, 2)], 9), app("2", 11, 2, [ent(12, 2)], 9), app("3", 11, 2, [ent(12, 2)], 9)], 1 << 20);
  assert.equal(shape(out), [
    ["MsgApp", "2", 10, [11, 12], 9],
    ["MsgApp", "3", 10, [11, 12], 9],
  ]);
});

test("empty commit-only appends fold into the append around them", () => {
  const out = coalesceMessages([app("2", 12, 2, [], 10), app("2", 12, 2, [], 11), app("2", 12, 2, [ent(13, 2)], 12), app("2", 13, 2, [], 13)], 1 << 20);
  assert.equal(shape(out), [["MsgApp", "2", 12, [13], 13]]);
});

test("not merged: a gap, a log term that does not match, another term, or another message between", () => {
  const gap = coalesceMessages([app("2", 10, 2, [ent(11, 2)], 9), app("2", 12, 2, [ent(13, 2)], 9)], 1 << 20);
  assert.is(gap.length, 2);
  const rewind = coalesceMessages([app("2", 10, 2, [ent(11, 2)], 9), app("2", 5, 1, [ent(6, 2)], 9)], 1 << 20);
  assert.is(rewind.length, 2);
  const badTerm = coalesceMessages([app("2", 10, 2, [ent(11, 3)], 9), app("2", 11, 2, [ent(12, 3)], 9)], 1 << 20);
  assert.is(badTerm.length, 2);
  const otherTerm = coalesceMessages([app("2", 10, 2, [ent(11, 2)], 9, 2), app("2", 11, 2, [ent(12, 3)], 9, 3)], 1 << 20);
  assert.is(otherTerm.length, 2);
  const hb: Message = { type: "MsgHeartbeat", from: "1", to: "2", term: 2, logTerm: 0, index: 0, entries: [], commit: 9, reject: false, rejectHint: 0 };
  const between = coalesceMessages([app("2", 10, 2, [ent(11, 2)], 9), hb, app("2", 11, 2, [ent(12, 2)], 9)], 1 << 20);
  assert.equal(between.map((m) => m.type), ["MsgApp", "MsgHeartbeat", "MsgApp"]);
});

test("the byte limit is respected: entries that would exceed it stay in their own message", () => {
  const out = coalesceMessages([app("2", 10, 2, [ent(11, 2, "aaaa")], 9), app("2", 11, 2, [ent(12, 2, "bbbb")], 9), app("2", 12, 2, [ent(13, 2, "cccc")], 9)], 8);
  assert.equal(shape(out), [
    ["MsgApp", "2", 10, [11, 12], 9],
    ["MsgApp", "2", 12, [13], 9],
  ]);
  // With a 1-byte limit (the simulator's one-entry-per-message setting) nothing carrying data merges.
  assert.is(coalesceMessages([app("2", 10, 2, [ent(11, 2)], 9), app("2", 11, 2, [ent(12, 2)], 9)], 1).length, 2);
});

test("successful acknowledgements keep only the highest; rejections are never dropped", () => {
  assert.equal(coalesceMessages([resp(11), resp(12), resp(13)], 1 << 20).map((m) => m.index), [13]);
  assert.equal(coalesceMessages([resp(11), resp(9, true), resp(13)], 1 << 20).map((m) => [m.index, m.reject]), [[11, false], [9, true], [13, false]]);
  // A lower index after a higher one says nothing new but is kept (conservative).
  assert.equal(coalesceMessages([resp(13), resp(12)], 1 << 20).map((m) => m.index), [13, 12]);
});

test("the input messages are not modified", () => {
  const a = app("2", 10, 2, [ent(11, 2)], 9);
  const b = app("2", 11, 2, [ent(12, 2)], 10);
  coalesceMessages([a, b], 1 << 20);
  assert.equal(a.entries.map((e) => e.index), [11]);
  assert.is(a.commit, 9);
});

test("a cluster whose Readys are coalesced commits the same log with far fewer messages", () => {
  const run = (coalesce: boolean) => {
    const net = new Network(["1", "2", "3"]);
    if (coalesce) net.coalesceBytes = 1 << 20;
    net.elect("1");
    const before = net.sent.length;
    // 40 rounds of 25 proposals stepped between two Readys, as a busy leader sees them.
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 25; i++) net.node("1").rn.propose(bytes(`v${round}-${i}`));
      net.stabilize();
    }
    return { net, messages: net.sent.length - before };
  };
  const plain = run(false);
  const merged = run(true);
  for (const id of ["1", "2", "3"]) {
    assert.is(merged.net.node(id).data().length, 1000);
    assert.equal(merged.net.node(id).data(), plain.net.node(id).data());
    assert.is(merged.net.node(id).committed, plain.net.node(id).committed);
  }
  assert.ok(merged.messages * 5 < plain.messages, `coalesced ${merged.messages} vs plain ${plain.messages}`);
});

test.run();
