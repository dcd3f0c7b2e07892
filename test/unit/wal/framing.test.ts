import { test } from "uvu";
import * as assert from "uvu/assert";
import { HEADER_BYTES, readRecord, RecordWriter } from "../../../core/wal/framing.ts";

function twoRecords(): { bytes: Uint8Array; secondAt: number } {
  const w = new RecordWriter(8); // starts small to exercise growth
  w.add(2, new Uint8Array([1, 2, 3]));
  const secondAt = w.length;
  w.add(3, new Uint8Array(100).fill(7));
  return { bytes: w.bytes().slice(), secondAt };
}

test("records read back in order", () => {
  const { bytes, secondAt } = twoRecords();
  const a = readRecord(bytes, 0);
  assert.is(a.kind, "record");
  if (a.kind !== "record") return;
  assert.is(a.type, 2);
  assert.equal([...a.payload], [1, 2, 3]);
  assert.is(a.end, secondAt);
  const b = readRecord(bytes, a.end);
  if (b.kind !== "record") return assert.unreachable();
  assert.is(b.type, 3);
  assert.is(b.payload.length, 100);
  assert.is(b.end, bytes.length);
  assert.is(readRecord(bytes, b.end).kind, "end");
});

test("every prefix of the final record reads as a tail, never as a record", () => {
  const { bytes, secondAt } = twoRecords();
  for (let cut = secondAt + 1; cut < bytes.length; cut++) {
    const r = readRecord(bytes.subarray(0, cut), secondAt);
    assert.is(r.kind, "tail", `cut at ${cut}`);
  }
});

test("a damaged header is corruption even at the end; a damaged final body is a tail", () => {
  const { bytes, secondAt } = twoRecords();
  for (let i = 0; i < HEADER_BYTES; i++) {
    const b = bytes.slice();
    b[secondAt + i]! ^= 0x10;
    assert.is(readRecord(b, secondAt).kind, "corrupt", `header byte ${i}`);
  }
  const b = bytes.slice();
  b[bytes.length - 1]! ^= 0x10;
  assert.is(readRecord(b, secondAt).kind, "tail");
  const c = bytes.slice();
  c[HEADER_BYTES + 1]! ^= 0x10; // body of the first record, which is followed by another
  const r = readRecord(c, 0);
  assert.is(r.kind, "corrupt");
  if (r.kind === "corrupt") assert.is(r.offset, 0);
});

test("zero fill is a tail; zeros followed by data are not", () => {
  const { bytes } = twoRecords();
  const padded = new Uint8Array(bytes.length + 64);
  padded.set(bytes);
  const r = readRecord(padded, bytes.length);
  assert.is(r.kind, "tail");
  padded[padded.length - 1] = 1;
  assert.is(readRecord(padded, bytes.length).kind, "corrupt");
});

test.run();
