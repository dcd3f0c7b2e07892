import { test } from "uvu";
import * as assert from "uvu/assert";
import { goUnmarshalPeerURLs } from "../../../core/http/go-json.ts";
import { goJSONSyntaxError, quoteChar } from "../../../core/http/go-json-scanner.ts";

// A body is UTF-8 text, or raw bytes (one per character) when written "b:...".
function bytes(body: string): Uint8Array {
  if (body.startsWith("b:")) return Uint8Array.from(body.slice(2), (c) => c.charCodeAt(0));
  return new TextEncoder().encode(body);
}

const STRUCT = 'struct { PeerURLs []string "json:\\"peerURLs\\"" }';

// Every message below is what etcd 3.4.23 (Go 1.19) answered to POST /v2/members with the
// body, Content-Type application/json.
const ERRORS: Array<[string, string]> = [
  ["notjson", "invalid character 'o' in literal null (expecting 'u')"],
  ["nope", "invalid character 'o' in literal null (expecting 'u')"],
  ["", "unexpected end of JSON input"],
  ["   ", "unexpected end of JSON input"],
  [" x", "invalid character 'x' looking for beginning of value"],
  ["x", "invalid character 'x' looking for beginning of value"],
  ["{", "unexpected end of JSON input"],
  ["[", "unexpected end of JSON input"],
  ["{\"", "unexpected end of JSON input"],
  ["{\"a\"", "unexpected end of JSON input"],
  ["{\"a\":", "unexpected end of JSON input"],
  ["{\"a\":1", "unexpected end of JSON input"],
  ["{\"a\":1,", "unexpected end of JSON input"],
  ["{\"a\" 1}", "invalid character '1' after object key"],
  ["{\"a\":1 2}", "invalid character '2' after object key:value pair"],
  ["{1:2}", "invalid character '1' looking for beginning of object key string"],
  ["{,}", "invalid character ',' looking for beginning of object key string"],
  ["[1,]", "invalid character ']' looking for beginning of value"],
  ["[1 2]", "invalid character '2' after array element"],
  ["[1}", "invalid character '}' after array element"],
  ["{]", "invalid character ']' looking for beginning of object key string"],
  ["{\"a\":1]", "invalid character ']' after object key:value pair"],
  ["}", "invalid character '}' looking for beginning of value"],
  ["]", "invalid character ']' looking for beginning of value"],
  [":", "invalid character ':' looking for beginning of value"],
  [",", "invalid character ',' looking for beginning of value"],
  ["\"", "unexpected end of JSON input"],
  ["\"abc", "unexpected end of JSON input"],
  ["\"\\x\"", "invalid character 'x' in string escape code"],
  ["\"\\u12g4\"", "invalid character 'g' in \\u hexadecimal character escape"],
  ["\"\\u\"", "invalid character '\"' in \\u hexadecimal character escape"],
  ["\"a\tb\"", "invalid character '\\t' in string literal"],
  ["\"a\nb\"", "invalid character '\\n' in string literal"],
  ["-", "invalid character ' ' in numeric literal"],
  ["-a", "invalid character 'a' in numeric literal"],
  ["01", "invalid character '1' after top-level value"],
  ["1.", "invalid character ' ' after decimal point in numeric literal"],
  ["1.e5", "invalid character 'e' after decimal point in numeric literal"],
  ["1e", "invalid character ' ' in exponent of numeric literal"],
  ["1e+", "invalid character ' ' in exponent of numeric literal"],
  ["1ex", "invalid character 'x' in exponent of numeric literal"],
  ["0x10", "invalid character 'x' after top-level value"],
  ["tru", "invalid character ' ' in literal true (expecting 'e')"],
  ["trux", "invalid character 'x' in literal true (expecting 'e')"],
  ["fals", "invalid character ' ' in literal false (expecting 'e')"],
  ["falsx", "invalid character 'x' in literal false (expecting 'e')"],
  ["nul", "invalid character ' ' in literal null (expecting 'l')"],
  ["nulx", "invalid character 'x' in literal null (expecting 'l')"],
  ["t", "invalid character ' ' in literal true (expecting 'r')"],
  ["f", "invalid character ' ' in literal false (expecting 'a')"],
  ["n", "invalid character ' ' in literal null (expecting 'u')"],
  ["nax", "invalid character 'a' in literal null (expecting 'u')"],
  ["{}x", "invalid character 'x' after top-level value"],
  ["{} {}", "invalid character '{' after top-level value"],
  ["[]]", "invalid character ']' after top-level value"],
  ["1 2", "invalid character '2' after top-level value"],
  ["\"a\" \"b\"", "invalid character '\"' after top-level value"],
  ["'a'", "invalid character '\\'' looking for beginning of value"],
  ["\\", "invalid character '\\\\' looking for beginning of value"],
  ["b:\u00ff", "invalid character '\u00ff' looking for beginning of value"],
  ["b:\u0080", "invalid character '\\u0080' looking for beginning of value"],
  ["b:\u00a0", "invalid character '\\u00a0' looking for beginning of value"],
  ["b:\u00ad", "invalid character '\\u00ad' looking for beginning of value"],
  ["b:\u00e9", "invalid character '\u00e9' looking for beginning of value"],
  ["\u0001", "invalid character '\\x01' looking for beginning of value"],
  ["\u007f", "invalid character '\\x7f' looking for beginning of value"],
  ["\u0007", "invalid character '\\a' looking for beginning of value"],
  ["\u000b", "invalid character '\\v' looking for beginning of value"],
  ["\f", "invalid character '\\f' looking for beginning of value"],
  ["\u0000", "invalid character '\\x00' looking for beginning of value"],
  ["\u00e9", "invalid character '\u00c3' looking for beginning of value"],
  ["{\"peerURLs\":5}", "json: cannot unmarshal number into Go struct field .peerURLs of type []string"],
  ["{\"peerURLs\":[1]}", "json: cannot unmarshal number into Go struct field .peerURLs of type string"],
  ["{\"peerURLs\":[true]}", "json: cannot unmarshal bool into Go struct field .peerURLs of type string"],
  ["{\"peerURLs\":[{}]}", "json: cannot unmarshal object into Go struct field .peerURLs of type string"],
  ["{\"peerURLs\":[[]]}", "json: cannot unmarshal array into Go struct field .peerURLs of type string"],
  ["{\"peerURLs\":\"x\"}", "json: cannot unmarshal string into Go struct field .peerURLs of type []string"],
  ["{\"peerURLs\":{}}", "json: cannot unmarshal object into Go struct field .peerURLs of type []string"],
  ["{\"peerURLs\":true}", "json: cannot unmarshal bool into Go struct field .peerURLs of type []string"],
  ["[]", "json: cannot unmarshal array into Go value of type struct { PeerURLs []string \"json:\\\"peerURLs\\\"\" }"],
  ["\"x\"", "json: cannot unmarshal string into Go value of type struct { PeerURLs []string \"json:\\\"peerURLs\\\"\" }"],
  ["1", "json: cannot unmarshal number into Go value of type struct { PeerURLs []string \"json:\\\"peerURLs\\\"\" }"],
  ["true", "json: cannot unmarshal bool into Go value of type struct { PeerURLs []string \"json:\\\"peerURLs\\\"\" }"],
  ["{\"PEERURLS\":5}", "json: cannot unmarshal number into Go struct field .peerURLs of type []string"],
  ["{\"peerURL\u017f\":5}", "json: cannot unmarshal number into Go struct field .peerURLs of type []string"],
  ["{\"peer\\u0055RLs\":5}", "json: cannot unmarshal number into Go struct field .peerURLs of type []string"],
  ["{\"peerURLs\":5,\"peerURLs\":[\"ftp://a:1\"]}", "json: cannot unmarshal number into Go struct field .peerURLs of type []string"],
  ["{\"peerURLs\":[1,\"x\",true]}", "json: cannot unmarshal number into Go struct field .peerURLs of type string"],
  ["<", "invalid character '<' looking for beginning of value"],
  ["&", "invalid character '&' looking for beginning of value"],
  [">", "invalid character '>' looking for beginning of value"],
  ["{\"peerURLs\":[-1]}", "json: cannot unmarshal number into Go struct field .peerURLs of type string"],
  ["{\"peerURLs\":[1e400]}", "json: cannot unmarshal number into Go struct field .peerURLs of type string"],
  ["{\"peerURLs\":[\"http://a:1\"]} x", "invalid character 'x' after top-level value"],
  ["\u2028", "invalid character '\u00e2' looking for beginning of value"],
  ["{\"peerURLs\":[\"ftp://a:1\"]}\u0000", "invalid character '\\x00' after top-level value"],
  ["{\"peerURLs\":[\"ftp://a:1\"],\"peerURLs\":[1]}", "json: cannot unmarshal number into Go struct field .peerURLs of type string"],
  ["\ufeff{}", "invalid character '\u00ef' looking for beginning of value"],
  ["{\"PeerURLs\":[],\"peerURLS\":[1]}", "json: cannot unmarshal number into Go struct field .peerURLs of type string"],
  ["{\"peerurl\u017f\":1}", "json: cannot unmarshal number into Go struct field .peerURLs of type []string"],
  ["[1", "unexpected end of JSON input"],
  ["{\"peerURLs\":[\"ftp://a:1\"],\"peerURLs\":5,\"x\":1}", "json: cannot unmarshal number into Go struct field .peerURLs of type []string"],
];

test("syntax and type errors are Go's texts", () => {
  for (const [body, message] of ERRORS) {
    const r = goUnmarshalPeerURLs(bytes(body));
    assert.equal(r, { ok: false, message }, JSON.stringify(body));
  }
});

test("the top-level type errors name the anonymous struct type", () => {
  const r = goUnmarshalPeerURLs(bytes("[]"));
  assert.equal(r, { ok: false, message: `json: cannot unmarshal array into Go value of type ${STRUCT}` });
});

test("nesting deeper than 10000 is a syntax error (etcd: exceeded max depth)", () => {
  assert.equal(goUnmarshalPeerURLs(bytes("[".repeat(10000))), { ok: false, message: "unexpected end of JSON input" });
  assert.equal(goUnmarshalPeerURLs(bytes("[".repeat(10001))), { ok: false, message: "invalid character '[' exceeded max depth" });
  assert.equal(goUnmarshalPeerURLs(bytes('{"a":'.repeat(10001))), { ok: false, message: "invalid character '{' exceeded max depth" });
  assert.equal(goUnmarshalPeerURLs(bytes("[".repeat(10000) + "]".repeat(10000))), {
    ok: false,
    message: `json: cannot unmarshal array into Go value of type ${STRUCT}`,
  });
  // Skipping a deep unknown field does not recurse.
  const deep = '{"x":' + "[".repeat(9999) + "]".repeat(9999) + ',"peerURLs":["u"]}';
  assert.equal(goUnmarshalPeerURLs(bytes(deep)), { ok: true, peerURLs: ["u"] });
});

// Bodies etcd accepted as JSON: the URLs it then validated (its answer was the URL error).
const DECODED: Array<[string, string[]]> = [
  ["null", []],
  ["{}", []],
  ['{"peerURLs":null}', []],
  ['{"other":5}', []],
  ['{"peerURLK":1}', []],
  ['{"peerurlK":1}', []],
  ['{"peerURLs":[]}', []],
  ['{"peerURLs":[null]}', [""]],
  ['{"peerURLs":["ftp://a:1",null]}', ["ftp://a:1", ""]],
  ['{"peerurls":["ftp://x:1"]}', ["ftp://x:1"]],
  ['{"PEERURLS":["a"],"peerURL\u017f":["b"]}', ["b"]],
  ['{"peerURLs":["ftp://a:1"],"x":[1,2,{"a":null}]}', ["ftp://a:1"]],
  ['{"peerURLs":["ftp://a:1"],"":5,"x":{"peerURLs":1}}', ["ftp://a:1"]],
  ['{"a":[1,{"b":"c"}],"peerURLs":["http://127.0.0.1:1/a b"]}', ["http://127.0.0.1:1/a b"]],
  [' {"a":[[[{"b":"}]\\""}]]],"peerURLs":["ftp://q:1"]} ', ["ftp://q:1"]],
  ['{"peerURLs":["ftp://q:1"],"z":-1.5e+3,"y":true,"w":"\\\\"}', ["ftp://q:1"]],
  ['{"peerURLs":["ftp://a:1"]}  \t\r\n  ', ["ftp://a:1"]],
  ['{"peerURLs":["x"],"peerURLs":null}', []],
  // Escapes: pairs join, lone surrogates and bad UTF-8 bytes become U+FFFD (per byte).
  ['{"peerURLs":["a\\\\b\\/c\\b\\f\\n\\r\\t\\""]}', ['a\\b/c\b\f\n\r\t"']],
  ['{"peerURLs":["\\u0000ftp","ftp://\\u00e9:1"]}', ["\u0000ftp", "ftp://\u00e9:1"]],
  ['{"peerURLs":["\\ud800"]}', ["\ufffd"]],
  ['{"peerURLs":["\\ud83d\\ude00","\\udc00\\ud800"]}', ["\u{1f600}", "\ufffd\ufffd"]],
  ['{"peerURLs":["\\ud83dx"]}', ["\ufffdx"]],
  ['{"peerURLs":["\\ud83d\\u0041"]}', ["\ufffdA"]],
  ['b:{"peerURLs":["\u00ff"]}', ["\ufffd"]],
  ['b:{"peerURLs":["\u00e2\u0082x"]}', ["\ufffd\ufffdx"]],
  ['b:{"peerURLs":["ftp://\u00c0\u0080:1"]}', ["ftp://\ufffd\ufffd:1"]],
  ['b:{"peerURLs":["\u00c3\u00a9\u00ef\u00bf\u00bd"]}', ["\u00e9\ufffd"]],
  // Decoding into the same []string again reuses its backing array, as reflect does:
  // null leaves an element as it was, and elements beyond the length come back.
  ['{"peerURLs":["ftp://a:1"],"peerURLs":[null]}', ["ftp://a:1"]],
  ['{"peerURLs":["ftp://a:1"],"peerURLs":[],"peerURLs":[null]}', [""]],
  ['{"peerURLs":["http://a:1","ftp://b:1"],"peerURLs":["http://c:1"],"peerURLs":[null,null]}', ["http://c:1", "ftp://b:1"]],
  [
    '{"peerURLs":["a","b","c","d","e"],"peerURLs":["x"],"peerURLs":[null,null,null,null,null]}',
    ["x", "b", "c", "d", "e"],
  ],
  [
    '{"peerURLs":["a","b","c","d","e"],"peerURLs":["x","y"],"peerURLs":[null,null,null,null,null,null,null]}',
    ["x", "y", "c", "d", "e", "", ""],
  ],
];

test("decoded values follow Go's rules", () => {
  for (const [body, peerURLs] of DECODED) {
    assert.equal(goUnmarshalPeerURLs(bytes(body)), { ok: true, peerURLs }, JSON.stringify(body));
  }
});

test("the first type error wins, even when a later value would decode", () => {
  assert.equal(goUnmarshalPeerURLs(bytes('{"peerURLs":[1,"x",true]}')), {
    ok: false,
    message: "json: cannot unmarshal number into Go struct field .peerURLs of type string",
  });
  assert.equal(goUnmarshalPeerURLs(bytes('{"peerURLs":5,"peerURLs":["ftp://a:1"]}')), {
    ok: false,
    message: "json: cannot unmarshal number into Go struct field .peerURLs of type []string",
  });
});

test("the scanner accepts what Go accepts", () => {
  const valid = ["0", "-0", "-0.5e-7", "1E+2", "[]", "{}", ' [ 1 , "a" , { "b" : [ ] } ] ', '"\\u12aF"', "true", "false", "null"];
  for (const v of valid) assert.is(goJSONSyntaxError(bytes(v)), null, v);
  // Bytes that are not UTF-8 are fine inside strings.
  assert.is(goJSONSyntaxError(bytes('b:"\u00ff\u00fe"')), null);
});

test("quoteChar writes bytes as Go's strconv.Quote writes the rune", () => {
  const cases: Array<[number, string]> = [
    [0x27, "'\\''"], [0x22, "'\"'"], [0x5c, "'\\\\'"], [0x61, "'a'"], [0x00, "'\\x00'"], [0x07, "'\\a'"],
    [0x08, "'\\b'"], [0x09, "'\\t'"], [0x0a, "'\\n'"], [0x0b, "'\\v'"], [0x0c, "'\\f'"], [0x0d, "'\\r'"],
    [0x1f, "'\\x1f'"], [0x7f, "'\\x7f'"], [0x80, "'\\u0080'"], [0xa0, "'\\u00a0'"], [0xa1, "'\u00a1'"],
    [0xad, "'\\u00ad'"], [0xff, "'\u00ff'"],
  ];
  for (const [c, q] of cases) assert.is(quoteChar(c), q, String(c));
});

test.run();
