import { test } from "uvu";
import * as assert from "uvu/assert";
import { FormError, parseQuery, queryUnescape, readForm } from "../../../core/http/form.ts";
import { fromBytes } from "../../../core/store/byte-string.ts";
import { jsonString } from "../../../core/store/json.ts";

const raw = (...xs: number[]): string => fromBytes(Uint8Array.from(xs));

test("queryUnescape keeps invalid bytes; JSON shows them as \\ufffd", () => {
  const v = queryUnescape("%FF%FEok%C3");
  assert.is(v, raw(0xff, 0xfe, 0x6f, 0x6b, 0xc3));
  assert.is(jsonString(v), '"\\ufffd\\ufffdok\\ufffd"');
  // A genuine U+FFFD stays a character.
  assert.is(jsonString(queryUnescape("%EF%BF%BDx")), '"\ufffdx"');
});

test("queryUnescape errors are FormErrors with Go's text", () => {
  assert.throws(() => queryUnescape("%zz"), (e: unknown) => e instanceof FormError && e.message === 'invalid URL escape "%zz"');
});

test("distinct invalid bytes stay distinct (keys and prevValue compare bytes)", () => {
  const f = parseQuery("a=%FF&b=%FE&c=%FF");
  assert.is.not(f.get("a")![0], f.get("b")![0]);
  assert.is(f.get("a")![0], f.get("c")![0]);
});

test("readForm reads raw body bytes as Go does", async () => {
  const body = Uint8Array.from([...new TextEncoder().encode("value="), 0xff, 0xc3, 0xa9, 0x26, 0x78, 0x3d, 0x25, 0x38, 0x30]);
  const req = new Request("http://h/v2/keys/a", {
    method: "PUT",
    body,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  const form = await readForm(req, "y=%E2%82");
  // etcd 3.4.23: a raw 0xFF byte then é -> "\ufffdé".
  assert.is(jsonString(form.get("value")![0]!), '"\\ufffdé"');
  assert.is(form.get("x")![0], raw(0x80));
  assert.is(form.get("y")![0], raw(0xe2, 0x82));
});

test("readForm reports a bad escape in a raw body with the byte quoted", async () => {
  const body = Uint8Array.from([...new TextEncoder().encode("value=%"), 0xff, 0x7a]);
  const req = new Request("http://h/", { method: "PUT", body, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  try {
    await readForm(req, "");
    assert.unreachable();
  } catch (e) {
    assert.instance(e, FormError);
    assert.is((e as Error).message, 'invalid URL escape "%\\xffz"');
  }
});

test.run();
