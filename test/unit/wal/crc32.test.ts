import { test } from "uvu";
import * as assert from "uvu/assert";
import { crc32c } from "../../../core/wal/crc32.ts";

const enc = new TextEncoder();

test("known CRC-32C values", () => {
  assert.is(crc32c(enc.encode("123456789")), 0xe3069283);
  assert.is(crc32c(new Uint8Array(0)), 0);
  assert.is(crc32c(new Uint8Array(32)), 0x8a9136aa); // 32 zero bytes (RFC 3720)
  assert.is(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
});

test("continuing a CRC equals the CRC of the concatenation, at every split", () => {
  const data = enc.encode("the quick brown fox jumps over the lazy dog");
  const whole = crc32c(data);
  for (let i = 0; i <= data.length; i++) {
    assert.is(crc32c(data.subarray(i), crc32c(data.subarray(0, i))), whole, `split at ${i}`);
  }
});

test.run();
