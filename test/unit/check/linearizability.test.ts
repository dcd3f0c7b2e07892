import { test } from "uvu";
import * as assert from "uvu/assert";
import type { History } from "../../check/history.ts";
import { HistoryRecorder, resultFromResponse } from "../../check/history.ts";
import { checkLinearizable, type CheckResult } from "../../check/linearizability.ts";
import { createV2Model, v2Model } from "../../check/model-v2.ts";
import { cad, cas, create, del, err, get, node, ok, op, plainGet, post, resetIds, set, unknown, update } from "./helpers.ts";

const VERBOSE = process.env.CHECK_VERBOSE === "1";

function accepts(h: History, model = v2Model): void {
  const r = checkLinearizable(h, model, { timeoutMs: 10_000 });
  if (r.ok !== true) assert.unreachable(`expected linearizable, got ${JSON.stringify(r.ok)}:\n${"explanation" in r ? r.explanation : ""}`);
}

function rejects(h: History, kind: string, mention: string[] = [], model = v2Model): string {
  const r: CheckResult = checkLinearizable(h, model, { timeoutMs: 10_000 });
  if (r.ok !== false) {
    assert.unreachable(`expected a violation, got ${JSON.stringify(r)}`);
    return "";
  }
  if (VERBOSE) console.log(`--- ${kind}\n${r.explanation}\n`);
  assert.is(r.kind, kind, r.explanation);
  for (const m of mention) assert.ok(r.explanation.includes(m), `explanation should mention ${m}:\n${r.explanation}`);
  return r.explanation;
}

// ---------------------------------------------------------------------------------------------
// Linearizable histories

test("accepts a sequential history of every operation type", () => {
  resetIds();
  accepts([
    op(0, 0, 1, get("/a"), err(100)),
    op(0, 2, 3, create("/a", "x"), ok(node("x", 1), null)),
    op(0, 4, 5, create("/a", "y"), err(105)),
    op(0, 6, 7, update("/a", "y"), ok(node("y", 2, 1), node("x", 1))),
    op(0, 8, 9, cas("/a", "z", "y"), ok(node("z", 3, 1), node("y", 2, 1))),
    op(0, 10, 11, cas("/a", "w", "y"), err(101)),
    op(0, 12, 13, cas("/a", "w", undefined, 3), ok(node("w", 4, 1), node("z", 3, 1))),
    op(0, 14, 15, get("/a"), ok(node("w", 4, 1))),
    op(0, 16, 17, set("/a", "s"), ok(node("s", 5), node("w", 4, 1))),
    op(0, 18, 19, cad("/a", "nope"), err(101)),
    op(0, 20, 21, cad("/a", "s", 5), ok(node(undefined, 6, 5), node("s", 5))),
    op(0, 22, 23, update("/a", "u"), err(100)),
    op(0, 24, 25, set("/a", "t"), ok(node("t", 7), null)),
    op(0, 26, 27, del("/a"), ok(node(undefined, 8, 7), node("t", 7))),
    op(0, 28, 29, del("/a"), err(100)),
  ]);
});

test("accepts concurrent writes linearized against invoke order", () => {
  resetIds();
  // w0 is invoked first, but w1 got the lower index and the later read sees w0: w1, w0.
  accepts([
    op(0, 0, 10, set("/a", "first"), ok(node("first", 2))),
    op(1, 1, 5, set("/a", "second"), ok(node("second", 1))),
    op(2, 11, 12, get("/a"), ok(node("first", 2))),
  ]);
});

test("accepts reads concurrent with a write seeing either side", () => {
  resetIds();
  accepts([
    op(0, 0, 1, set("/a", "old"), ok(node("old", 1))),
    op(1, 2, 10, set("/a", "new"), ok(node("new", 2))),
    op(2, 3, 4, get("/a"), ok(node("new", 2))),
    op(3, 5, 6, get("/a"), ok(node("new", 2))),
    op(4, 3, 9, get("/a"), ok(node("old", 1))), // concurrent with both: before the write
  ]);
});

test("accepts a CAS race where exactly one wins", () => {
  resetIds();
  accepts([
    op(0, 0, 1, set("/c", "0"), ok(node("0", 1))),
    op(1, 2, 8, cas("/c", "1", "0"), err(101)),
    op(2, 3, 7, cas("/c", "2", "0"), ok(node("2", 2, 1), node("0", 1))),
    op(3, 9, 10, get("/c"), ok(node("2", 2, 1))),
  ]);
});

test("accepts unknown outcomes that took effect (late) or never did", () => {
  resetIds();
  accepts([
    op(0, 0, 1, set("/a", "1"), ok(node("1", 1))),
    op(1, 2, null, set("/a", "lost"), unknown), // never applied
    op(2, 3, null, set("/a", "2"), unknown), // applied, index learnt from the read
    op(0, 4, 5, get("/a"), ok(node("1", 1))),
    op(0, 50, 51, get("/a"), ok(node("2", 7))),
    op(0, 52, 53, cas("/a", "3", undefined, 7), ok(node("3", 8, 7), node("2", 7))),
  ]);
  resetIds();
  // An unknown create whose effect is seen by a CAS prevNode, and an error 300 treated as unknown.
  accepts([
    op(0, 0, null, create("/b", "x"), unknown),
    op(1, 1, 3, update("/b", "y"), err(300)),
    op(2, 10, 11, update("/b", "z"), ok(node("z", 9, 4), node("y", 6, 4))),
  ]);
});

test("accepts an unknown CAS decided by a later read", () => {
  resetIds();
  accepts([
    op(0, 0, 1, set("/a", "a"), ok(node("a", 1))),
    op(1, 2, null, cas("/a", "b", "a"), unknown),
    op(0, 3, 4, get("/a"), ok(node("a", 1))),
    op(0, 5, 6, get("/a"), ok(node("b", 3, 1))),
  ]);
});

test("accepts TTL expiry after the TTL, and a TTL key still readable later", () => {
  resetIds();
  accepts([
    op(0, 0, 10, set("/t", "x", 1), ok(node("x", 1))),
    op(0, 500, 501, get("/t"), ok(node("x", 1))),
    op(1, 1200, 1201, get("/t"), ok(node("x", 1))), // the sweep may be late
    op(0, 1300, 1301, get("/t"), err(100)),
    op(0, 1400, 1401, create("/t", "y"), ok(node("y", 3), null)), // index 2 was the expiry
  ]);
  resetIds();
  // A later write without ttl makes the key permanent.
  accepts([
    op(0, 0, 10, set("/t", "x", 1), ok(node("x", 1))),
    op(0, 20, 30, update("/t", "y"), ok(node("y", 2, 1), node("x", 1))),
    op(0, 5000, 5001, get("/t"), ok(node("y", 2, 1))),
  ]);
});

test("accepts in-order creates, including one learnt only from a read", () => {
  resetIds();
  accepts([
    op(0, 0, 1, post("/q", "a"), ok(node("a", 5), null)),
    op(1, 2, null, post("/q", "b"), unknown),
    op(0, 3, 4, get("/q/00000000000000000005"), ok(node("a", 5))),
    op(0, 10, 11, get("/q/00000000000000000006"), ok(node("b", 6))),
    op(0, 12, 13, del("/q/00000000000000000006"), ok(node(undefined, 7, 6), node("b", 6))),
  ]);
});

test("accepts a stale non-quorum read and checks it is not linearized", () => {
  resetIds();
  accepts([
    op(0, 0, 1, set("/a", "1"), ok(node("1", 1)), "m0"),
    op(0, 2, 3, set("/a", "2"), ok(node("2", 2)), "m0"),
    op(1, 4, 5, plainGet("/a"), ok(node("1", 1), undefined, 1), "m1"), // m1 is behind
    op(1, 6, 7, plainGet("/a"), ok(node("2", 2), undefined, 2), "m1"),
  ]);
});

test("a recorder and resultFromResponse build histories from HTTP answers", () => {
  const r = new HistoryRecorder();
  const a = r.invoke(0, set("/x", "1"), 0);
  r.complete(a, resultFromResponse({ action: "set", node: { key: "/x", value: "1", modifiedIndex: 4, createdIndex: 4 } }, 4), 1);
  const b = r.invoke(1, get("/x"), 2);
  r.complete(b, resultFromResponse({ action: "get", node: { key: "/x", value: "1", modifiedIndex: 4, createdIndex: 4 } }, 4), 3);
  const c = r.invoke(1, set("/x", "2"), 4); // never answered
  void c;
  const d = r.invoke(2, cas("/x", "3", "9"), 5);
  r.complete(d, resultFromResponse({ errorCode: 101, message: "Compare failed", cause: "[9 != 1]", index: 4 }), 6);
  const h = r.history();
  assert.equal(h[0]!.result, { type: "ok", node: { value: "1", modifiedIndex: 4, createdIndex: 4 }, prevNode: null, key: "/x", etcdIndex: 4 });
  assert.is(h[2]!.complete, null);
  accepts(h);
});

test("ignores requests the store never saw, and starts from given initial keys", () => {
  resetIds();
  const m = createV2Model({ initial: { "/a": { value: "0", modifiedIndex: 7, createdIndex: 3 } } });
  accepts(
    [
      op(0, 0, 1, get("/a"), ok(node("0", 7, 3))),
      op(0, 2, 3, set("/a", "x"), err(209)), // invalid field: rejected before the store
      op(1, 2, 3, set("/a", "y"), err(110)), // auth
      op(0, 4, 5, cas("/a", "1", "0", 7), ok(node("1", 8, 3), node("0", 7, 3))),
    ],
    m,
  );
});

test("a check that runs out of time says unknown", () => {
  resetIds();
  const h = [];
  for (let i = 0; i < 20_000; i++) h.push(op(i % 8, 2 * i, 2 * i + 1, set(`/k${i % 50}`, `v${i}`), ok(node(`v${i}`, i + 1))));
  const r = checkLinearizable(h, v2Model, { timeoutMs: 0 });
  assert.equal(r, { ok: "unknown", reason: "timeout" });
});

// ---------------------------------------------------------------------------------------------
// Violations

test("rejects a stale read after a completed write", () => {
  resetIds();
  const e = rejects(
    [
      op(0, 0, 1, set("/a", "1"), ok(node("1", 1))),
      op(0, 2, 3, set("/a", "2"), ok(node("2", 2))),
      op(1, 4, 5, get("/a"), ok(node("1", 1))),
    ],
    "linearizability",
    ["/a", "#2", "#1"],
  );
  assert.ok(e.includes("modifiedIndex is 2, but the response shows 1") || e.includes("value is"), e);
});

test("rejects a lost update: two CAS on the same prevValue both succeed", () => {
  resetIds();
  rejects(
    [
      op(0, 0, 1, set("/c", "0"), ok(node("0", 1))),
      op(1, 2, 8, cas("/c", "1", "0"), ok(node("1", 2, 1))),
      op(2, 3, 7, cas("/c", "2", "0"), ok(node("2", 3, 1))),
    ],
    "linearizability",
    ["comparison fails"],
  );
});

test("rejects a read of a value never written", () => {
  resetIds();
  rejects(
    [
      op(0, 0, 1, set("/a", "1"), ok(node("1", 1))),
      op(1, 2, null, set("/a", "2"), unknown),
      op(0, 3, 4, get("/a"), ok(node("3", 3))),
    ],
    "linearizability",
    ['"3"'],
  );
});

test("rejects a read that goes back in time", () => {
  resetIds();
  rejects(
    [
      op(0, 0, 1, set("/a", "1"), ok(node("1", 1))),
      op(1, 2, 20, set("/a", "2"), ok(node("2", 2))),
      op(2, 3, 4, get("/a"), ok(node("2", 2))),
      op(2, 5, 6, get("/a"), ok(node("1", 1))),
    ],
    "linearizability",
    ["#2", "#3"],
  );
});

test("rejects two writes with the same index", () => {
  resetIds();
  rejects(
    [op(0, 0, 1, set("/a", "1"), ok(node("1", 5))), op(1, 0, 1, set("/b", "1"), ok(node("1", 5)))],
    "index-unique",
    ["modifiedIndex 5", "#0", "#1"],
  );
});

test("rejects an index order that contradicts real time", () => {
  resetIds();
  rejects(
    [op(0, 0, 1, set("/a", "1"), ok(node("1", 9))), op(1, 2, 3, set("/b", "1"), ok(node("1", 8)))],
    "index-order",
    ["#0 completed at 1 before #1"],
  );
  resetIds();
  // A quorum read's X-Etcd-Index below a write that completed before it.
  rejects(
    [op(0, 0, 1, set("/a", "1"), ok(node("1", 9))), op(1, 2, 3, get("/b"), err(100, 8))],
    "index-order",
  );
});

test("rejects an unknown write's index pinned to another write's index", () => {
  resetIds();
  rejects(
    [
      op(0, 0, null, set("/a", "1"), unknown),
      op(1, 0, 1, set("/b", "x"), ok(node("x", 3))),
      op(0, 5, 6, get("/a"), ok(node("1", 3))),
    ],
    "linearizability",
    ["another write's index"],
  );
});

test("rejects a key that expires before its TTL", () => {
  resetIds();
  rejects(
    [op(0, 0, 10, set("/t", "x", 1), ok(node("x", 1))), op(0, 500, 501, get("/t"), err(100))],
    "linearizability",
    ["error 100, but the key exists"],
  );
  // With 600 ms of allowed clock skew it may have.
  resetIds();
  accepts([op(0, 0, 10, set("/t", "x", 1), ok(node("x", 1))), op(0, 500, 501, get("/t"), err(100))], createV2Model({ clockSkew: 600 }));
});

test("unknownWithin bounds when an unknown outcome can still take effect", () => {
  resetIds();
  const h = [
    op(0, 0, 1, set("/a", "1"), ok(node("1", 1))),
    op(1, 2, null, set("/a", "2"), unknown),
    op(0, 200, 201, set("/a", "3"), ok(node("3", 3), node("1", 1))),
    // index 5 > 3: the unknown write took effect after #2, i.e. after time 200.
    op(0, 300, 301, get("/a"), ok(node("2", 5))),
  ];
  accepts(h);
  accepts(h, createV2Model({ unknownWithin: 250 }));
  rejects(h, "linearizability", [], createV2Model({ unknownWithin: 100 }));
});

test("rejects a CAS by prevIndex that matches an index the key no longer has", () => {
  resetIds();
  rejects(
    [
      op(0, 0, 1, set("/a", "1"), ok(node("1", 1))),
      op(0, 2, 3, set("/a", "2"), ok(node("2", 2))),
      op(1, 4, 5, cas("/a", "3", undefined, 1), ok(node("3", 3, 1), node("1", 1))),
    ],
    "linearizability",
  );
});

test("rejects a successful create on a key that exists", () => {
  resetIds();
  rejects(
    [op(0, 0, 1, set("/a", "1"), ok(node("1", 1))), op(1, 2, 3, create("/a", "2"), ok(node("2", 2), null))],
    "linearizability",
    ["the key exists"],
  );
});

test("rejects responses that contradict their own request", () => {
  resetIds();
  rejects([op(0, 0, 1, set("/a", "1"), ok(node("2", 1)))], "response", ["differs from the requested"]);
  resetIds();
  rejects([op(0, 0, 1, post("/q", "1"), { type: "ok", key: "/q/00000000000000000002", node: node("1", 1) })], "response");
});

test("rejects non-quorum reads that break the weaker rules", () => {
  resetIds();
  // A value nobody wrote.
  rejects([op(0, 0, 1, set("/a", "1"), ok(node("1", 1))), op(1, 2, 3, plainGet("/a"), ok(node("9", 1)))], "plain-read", ["wrote"]);
  resetIds();
  // A write from the future.
  rejects([op(0, 0, 1, plainGet("/a"), ok(node("1", 1))), op(1, 2, 3, set("/a", "1"), ok(node("1", 1)))], "plain-read", ["invoked only after"]);
  resetIds();
  // A member's view going back.
  rejects(
    [
      op(0, 0, 1, set("/a", "1"), ok(node("1", 1)), "m0"),
      op(0, 2, 3, set("/a", "2"), ok(node("2", 2)), "m0"),
      op(0, 4, 5, plainGet("/a"), ok(node("1", 1)), "m0"),
    ],
    "plain-read",
    ["member m0"],
  );
  resetIds();
  // A read at index 5 that misses a write at index 4.
  rejects(
    [
      op(0, 0, 1, set("/a", "1"), ok(node("1", 3))),
      op(0, 2, 3, set("/a", "2"), ok(node("2", 4))),
      op(1, 4, 5, plainGet("/a"), ok(node("1", 3), undefined, 5)),
    ],
    "read-index",
  );
  resetIds();
  // Ignored on request.
  accepts([op(0, 0, 1, set("/a", "1"), ok(node("1", 1))), op(1, 2, 3, plainGet("/a"), ok(node("9", 1)))], createV2Model({ plainReads: "ignore" }));
});

test("the explanation is a small sub-history of a large failing key", () => {
  resetIds();
  const h = [op(0, 0, 1, set("/a", "v0"), ok(node("v0", 1)))];
  for (let i = 1; i < 200; i++) h.push(op(i % 4, 10 * i, 10 * i + 5, i % 2 ? get("/a") : set("/a", `v${i}`), i % 2 ? ok(node(`v${i - 1}`, i)) : ok(node(`v${i}`, i + 1))));
  // Plus one stale read in the middle.
  h.push(op(9, 1000, 1001, get("/a"), ok(node("v50", 51))));
  const e = rejects(h, "linearizability");
  const lines = e.split("\n").filter((l) => l.startsWith("  #"));
  assert.ok(lines.length <= 5, `expected a few lines, got:\n${e}`);
  assert.ok(e.includes("shrunk from 201"), e);
});

test.run();
