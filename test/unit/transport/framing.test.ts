// Stream framing and the msgpack message codec of core/transport.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/transport/framing.test.js
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encode } from "@msgpack/msgpack";
import { decodeBatch, decodeMessage, encodeBatch, encodeMessage, MalformedMessageError } from "../../../core/transport/codec.ts";
import { encodeFrames, FrameDecoder, FrameTooLargeError, KEEPALIVE_FRAME } from "../../../core/transport/framing.ts";
import type { Message } from "../../../core/raft/types.ts";

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function msg(over: Partial<Message> = {}): Message {
  return {
    type: "MsgApp", to: "2", from: "1", term: 3, logTerm: 2, index: 10,
    entries: [], commit: 9, reject: false, rejectHint: 0, ...over,
  };
}

const payloads = [bytes(5, 1), new Uint8Array(0), bytes(300, 2), bytes(1, 3), bytes(70000, 4)];

test("frames: header is 4-byte big-endian length", () => {
  const f = encodeFrames([new Uint8Array([9, 8, 7])]);
  assert.equal([...f], [0, 0, 0, 3, 9, 8, 7]);
  assert.equal([...KEEPALIVE_FRAME], [0, 0, 0, 0]);
  assert.equal([...encodeFrames([bytes(258)]).subarray(0, 4)], [0, 0, 1, 2]);
});

test("frames: one chunk gives every payload (empty ones are keepalives)", () => {
  const d = new FrameDecoder(1 << 20);
  const out = d.push(encodeFrames(payloads));
  assert.is(out.length, payloads.length);
  out.forEach((p, i) => assert.equal(p, payloads[i]));
  assert.ok(d.atBoundary);
  assert.is(d.buffered, 0);
});

test("frames: every split point, and byte by byte", () => {
  const all = encodeFrames(payloads.slice(0, 4));
  for (let cut = 0; cut <= all.length; cut++) {
    const d = new FrameDecoder(1 << 20);
    const out = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
    assert.is(out.length, 4, `cut ${cut}`);
    out.forEach((p, i) => assert.equal(p, payloads[i], `cut ${cut} frame ${i}`));
  }
  const d = new FrameDecoder(1 << 20);
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i++) {
    out.push(...d.push(all.subarray(i, i + 1)));
    if (i < all.length - 1) assert.not.ok(d.atBoundary && out.length === 4);
  }
  assert.is(out.length, 4);
  out.forEach((p, i) => assert.equal(p, payloads[i]));
});

test("frames: random chunking of many frames", () => {
  const many = Array.from({ length: 200 }, (_, i) => bytes((i * 37) % 500, i + 1));
  const all = encodeFrames(many);
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let round = 0; round < 20; round++) {
    const d = new FrameDecoder(1 << 20);
    const out: Uint8Array[] = [];
    for (let at = 0; at < all.length; ) {
      const n = 1 + rnd(700);
      out.push(...d.push(all.subarray(at, at + n)));
      at += n;
    }
    assert.is(out.length, many.length);
    out.forEach((p, i) => assert.equal(p, many[i]));
    assert.ok(d.atBoundary);
  }
});

test("frames: payloads are copies, never views into the producer's chunk", () => {
  const chunk = encodeFrames([bytes(10, 5), bytes(10, 6)]);
  const d = new FrameDecoder(100);
  const first = d.push(chunk.subarray(0, 20)); // frame 1 and part of frame 2
  const copy = chunk.slice();
  chunk.fill(0xee); // the producer reuses its buffer
  const rest = d.push(copy.subarray(20));
  assert.equal(first[0], bytes(10, 5));
  assert.equal(rest[0], bytes(10, 6));
});

test("frames: an oversized header throws at once, also split over chunks", () => {
  const big = new Uint8Array([0, 0x10, 0, 1]); // 1 MiB + 1
  const d = new FrameDecoder(1 << 20);
  try {
    d.push(big);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, FrameTooLargeError);
    assert.is((e as FrameTooLargeError).length, (1 << 20) + 1);
    assert.is((e as FrameTooLargeError).limit, 1 << 20);
  }
  const d2 = new FrameDecoder(16);
  assert.equal(d2.push(encodeFrames([bytes(16)])).length, 1); // exactly the limit is fine
  assert.equal(d2.push(new Uint8Array([0, 0])), []);
  assert.throws(() => d2.push(new Uint8Array([0, 17, 1, 2, 3])), (e: unknown) => e instanceof FrameTooLargeError);
  assert.is(d2.buffered, 0, "nothing kept for a refused frame");
});

test("codec: a message round-trips, binary stays binary", () => {
  const m = msg({
    entries: [
      { index: 11, term: 3, type: "normal", data: bytes(100) },
      { index: 12, term: 3, type: "conf", data: new Uint8Array(0) },
    ],
    context: new Uint8Array([1, 2, 3]),
    reject: true,
    rejectHint: 2 ** 40,
    index: 2 ** 52,
  });
  const back = decodeMessage(encodeMessage(m));
  assert.equal(back, m);
  assert.instance(back.entries[0]!.data, Uint8Array);
  const snap = msg({
    type: "MsgSnap",
    snapshot: { data: bytes(300_000), metadata: { index: 500, term: 4, confState: { voters: ["1", "2", "abcdef0123456789"] } } },
  });
  assert.equal(decodeMessage(encodeMessage(snap)), snap);
});

test("codec: a batch is a msgpack array of the encodings", () => {
  for (const n of [0, 1, 15, 16, 300, 70000]) {
    const ms = Array.from({ length: n }, (_, i) => msg({ index: i, entries: i % 100 === 0 ? [{ index: i, term: 1, type: "normal", data: bytes(i % 7) }] : [] }));
    const back = decodeBatch(encodeBatch(ms.map(encodeMessage)));
    assert.is(back.length, n);
    assert.equal(back, ms);
  }
  // A single message (not an array) is a batch of one.
  assert.equal(decodeBatch(encodeMessage(msg())), [msg()]);
});

test("codec: malformed input is refused with MalformedMessageError", () => {
  const bad: [string, Uint8Array][] = [
    ["garbage", new Uint8Array([0xc1, 0xff, 0x00])],
    ["truncated", encodeMessage(msg()).subarray(0, 10)],
    ["not a map", encode(42)],
    ["local type", encode({ ...msg(), type: "MsgHup" })],
    ["unknown type", encode({ ...msg(), type: "MsgWhat" })],
    ["negative term", encode({ ...msg(), term: -1 })],
    ["fractional index", encode({ ...msg(), index: 1.5 })],
    ["string term", encode({ ...msg(), term: "3" })],
    ["missing entries", encode({ ...msg(), entries: undefined })],
    ["entry data not binary", encode({ ...msg(), entries: [{ index: 1, term: 1, type: "normal", data: "x" }] })],
    ["entry bad type", encode({ ...msg(), entries: [{ index: 1, term: 1, type: "odd", data: new Uint8Array(0) }] })],
    ["bad id", encode({ ...msg(), from: "zz" })],
    ["reject not boolean", encode({ ...msg(), reject: 0 })],
    ["bad snapshot", encode({ ...msg(), snapshot: { data: new Uint8Array(1), metadata: { index: 1, term: 1 } } })],
    ["context not binary", encode({ ...msg(), context: "abc" })],
  ];
  for (const [name, b] of bad) {
    assert.throws(() => decodeMessage(b), (e: unknown) => e instanceof MalformedMessageError, name);
    assert.throws(() => decodeBatch(b), (e: unknown) => e instanceof MalformedMessageError, name);
  }
  // __proto__ keys never reach an object.
  const proto = new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode("__proto__"), 0x80]);
  assert.throws(() => decodeMessage(proto), (e: unknown) => e instanceof MalformedMessageError);
  // Unknown fields are dropped; null optional fields are absent.
  const extra = decodeMessage(encode({ ...msg(), extra: 1, snapshot: null, context: null }));
  assert.equal(extra, msg());
  assert.not.ok("extra" in extra);
});

test.run();
