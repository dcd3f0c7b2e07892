import { test } from "uvu";
import * as assert from "uvu/assert";
import { EscapeError, escapePath, unescape } from "../../../core/http/url-escape.ts";
import { fromBytes } from "../../../core/store/byte-string.ts";

const raw = (...xs: number[]): string => fromBytes(Uint8Array.from(xs));

test("unescape keeps %XX bytes that are not UTF-8", () => {
  assert.is(unescape("%FF%FEok%C3", true), raw(0xff, 0xfe, 0x6f, 0x6b, 0xc3));
  assert.is(unescape("a%C3%A9b", true), "aéb");
  assert.is(unescape("%EF%BF%BD", true), "\ufffd");
  assert.is(unescape("%EF%B7%90", true), raw(0xef, 0xb7, 0x90));
  assert.is(unescape("%2F%00", false), "/\u0000");
  // Already decoded text (a form body holding raw bytes) passes through.
  assert.is(unescape(raw(0xff) + "%41", true), raw(0xff) + "A");
});

test("'+' is a space in query components only", () => {
  assert.is(unescape("a+b%20c", true), "a b c");
  assert.is(unescape("a+b%20c", false), "a+b c");
  assert.is(unescape("plain", true), "plain");
});

test("a malformed escape is Go's EscapeError, its bytes quoted by strconv.Quote", () => {
  // Causes etcd 3.4.23 returned for value=<...> (error 210).
  const cases: Array<[string, string]> = [
    ["%zz", '"%zz"'],
    ["a%" + raw(0xff) + "z", '"%\\xffz"'],
    ["a%é", '"%é"'],
    ['a%"b', '"%\\"b"'],
    ["a%\nb", '"%\\nb"'],
    ["a%zé", '"%z\\xc3"'],
    ["a%\u0001" + raw(0x80), '"%\\x01\\x80"'],
    ["%", '"%"'],
    ["ab%4", '"%4"'],
    ["%4g%zz", '"%4g"'],
  ];
  for (const [s, quoted] of cases) {
    try {
      unescape(s, true);
      assert.unreachable(s);
    } catch (e) {
      assert.instance(e, EscapeError);
      assert.is((e as Error).message, "invalid URL escape " + quoted, s);
    }
  }
});

test("escapePath is Go's EscapedPath (etcd's redirect Location)", () => {
  // etcd 3.4.23: GET /v2/keys//a%FFb%C3%A9!*'()%3F%23%25%20+x -> 301 to this path.
  const path = "/v2/keys/a" + raw(0xff) + "bé!*'()?#% +x";
  assert.is(escapePath(path), "/v2/keys/a%FFb%C3%A9%21%2A%27%28%29%3F%23%25%20+x");
  assert.is(escapePath("/a-_.~$&+,/:;=@b"), "/a-_.~$&+,/:;=@b");
  assert.is(escapePath('/"<>\\^`{|}[]\u0000\u007f'), "/%22%3C%3E%5C%5E%60%7B%7C%7D%5B%5D%00%7F");
});

test.run();
