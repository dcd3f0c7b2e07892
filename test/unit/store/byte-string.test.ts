import { decode, encode } from "@msgpack/msgpack";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compareByteStrings, decodeUtf8, fromBytes, toBytes, validSequenceLength } from "../../../core/store/byte-string.ts";

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const M = "\ufdd0";

test("valid UTF-8 without U+FDD0 is held as is", () => {
  for (const s of ["", "abc", "é€😀", "\u0000", "\ufffd", "\ufeffbom", "\uffff"]) {
    assert.is(fromBytes(new TextEncoder().encode(s)), s);
    assert.equal(toBytes(s), new TextEncoder().encode(s));
  }
});

test("each invalid byte is MARK + the byte; a genuine MARK is doubled", () => {
  assert.is(fromBytes(b(0xff, 0xfe, 0x6f, 0x6b, 0xc3)), M + "\u00ff" + M + "\u00feok" + M + "\u00c3");
  assert.is(fromBytes(b(0xef, 0xb7, 0x90)), M + M);
  assert.is(fromBytes(b(0xef, 0xb7, 0x90, 0xff)), M + M + M + "\u00ff");
});

test("invalid sequences are split per byte as Go's utf8.DecodeRune does", () => {
  const bad = (...xs: number[]): string => xs.map((x) => M + String.fromCharCode(x)).join("");
  // Truncated, overlong, surrogate, above U+10FFFF, stray continuation, never-valid bytes.
  assert.is(fromBytes(b(0xe2, 0x82, 0x78)), bad(0xe2, 0x82) + "x");
  assert.is(fromBytes(b(0xc0, 0x80)), bad(0xc0, 0x80));
  assert.is(fromBytes(b(0xe0, 0x80, 0x80)), bad(0xe0, 0x80, 0x80));
  assert.is(fromBytes(b(0xed, 0xa0, 0x80)), bad(0xed, 0xa0, 0x80));
  assert.is(fromBytes(b(0xf4, 0x90, 0x80, 0x80)), bad(0xf4, 0x90, 0x80, 0x80));
  assert.is(fromBytes(b(0x80, 0xbf, 0xf5, 0xff)), bad(0x80, 0xbf, 0xf5, 0xff));
  assert.is(fromBytes(b(0xf0, 0x9f, 0x98)), bad(0xf0, 0x9f, 0x98));
  assert.is(fromBytes(b(0xf0, 0x9f, 0x98, 0x80)), "😀");
  assert.is(validSequenceLength(b(0xed, 0x9f, 0xbf), 0), 3);
  assert.is(validSequenceLength(b(0xf4, 0x8f, 0xbf, 0xbf), 0), 4);
});

test("toBytes inverts fromBytes", () => {
  const samples = [
    b(0xff, 0xfe, 0x6f, 0x6b, 0xc3),
    b(0xef, 0xb7, 0x90, 0xef, 0xb7, 0x90, 0xc3, 0xbf, 0xef, 0xb7, 0x90),
    b(0xef, 0xb7, 0x90, 0xff, 0xef, 0xb7, 0x90, 0xef, 0xb7, 0x90, 0xc3),
    b(0xe2, 0x82, 0xed, 0xa0, 0x80, 0xc0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xf0, 0x9f, 0x98, 0x80),
    Uint8Array.from({ length: 256 }, (_, i) => i),
  ];
  for (const s of samples) assert.equal(toBytes(fromBytes(s)), s);
  // A MARK followed by anything else is an ordinary character.
  assert.equal(toBytes(M + "a"), new TextEncoder().encode(M + "a"));
});

test("the form survives msgpack (WAL and snapshots), however long", () => {
  for (const n of [1, 60, 300, 5000]) {
    const s = fromBytes(Uint8Array.from([0xff, ...new TextEncoder().encode("a".repeat(n)), 0xef, 0xb7, 0x90, 0xc3]));
    assert.is((decode(encode({ v: s })) as { v: string }).v, s);
  }
});

test("decodeUtf8 replaces invalid bytes as asked", () => {
  assert.is(decodeUtf8(b(0x61, 0xff, 0xe2, 0x82), () => "\ufffd"), "a\ufffd\ufffd\ufffd");
});

test("compareByteStrings orders as Go compares bytes", () => {
  // etcd 3.4.23 sorted=true order of keys %80, %C3, %C3%A9, %EF%BF%BF, %F0%9F%98%80, %FF.
  const hex = (...xs: number[]): string => fromBytes(Uint8Array.from(xs));
  const keys = [hex(0xc3, 0xa9), hex(0x80), hex(0xc3), hex(0xef, 0xbf, 0xbf), hex(0xf0, 0x9f, 0x98, 0x80), hex(0xff)];
  const sorted = [...keys].sort(compareByteStrings);
  assert.equal(sorted, [hex(0x80), hex(0xc3), hex(0xc3, 0xa9), hex(0xef, 0xbf, 0xbf), hex(0xf0, 0x9f, 0x98, 0x80), hex(0xff)]);
  assert.is(compareByteStrings("a", "a"), 0);
  assert.ok(compareByteStrings("a", "ab") < 0);
});

test.run();
