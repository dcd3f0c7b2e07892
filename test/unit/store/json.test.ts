import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromBytes } from "../../../core/store/byte-string.ts";
import { errorJSON, eventJSON, formatExpiration, jsonString, nodeJSON, ttlSeconds } from "../../../core/store/json.ts";
import type { StoreEvent } from "../../../core/store/types.ts";

test("jsonString escapes like Go's encoding/json with HTML escaping", () => {
  // Observed on etcd 3.4.23 (Go 1.19): value=<a>&"\ \b \f \x01 \t \n U+2028 é 😀
  const v = '<a>&"\\\b\f\u0001\t\n\u2028é😀';
  assert.is(jsonString(v), '"\\u003ca\\u003e\\u0026\\"\\\\\\u0008\\u000c\\u0001\\t\\n\\u2028é😀"');
  assert.is(jsonString("\r\u001f\u2029\u007f"), '"\\r\\u001f\\u2029\u007f"');
  assert.is(jsonString("plain /key with spaces"), '"plain /key with spaces"');
  assert.is(jsonString(""), '""');
  // A lone surrogate cannot be written as UTF-8: Go would write U+FFFD.
  assert.is(jsonString("a\ud800b"), '"a\\ufffdb"');
  assert.is(jsonString("\udc00"), '"\\ufffd"');
});

test("jsonString output parses back to the same string", () => {
  const samples = ["a\"b", "<>&", "tab\there", "\u0000\u0007", "naïve ☃ 𝄞", "\u2028\u2029"];
  for (const s of samples) assert.is(JSON.parse(jsonString(s)), s);
});

test("jsonString writes each invalid UTF-8 byte as \\ufffd and a genuine U+FFFD raw", () => {
  const raw = (...xs: number[]): string => fromBytes(Uint8Array.from(xs));
  // etcd 3.4.23: value=%FF%FEok%C3 -> "\ufffd\ufffdok\ufffd"; value=%EF%BF%BDx -> "�x".
  assert.is(jsonString(raw(0xff, 0xfe, 0x6f, 0x6b, 0xc3)), '"\\ufffd\\ufffdok\\ufffd"');
  assert.is(jsonString(raw(0xef, 0xbf, 0xbd, 0x78)), '"\ufffdx"');
  // value=%E2%82x%ED%A0%80%C0%80%F4%90%80%80%F0%9F%98%80 (one escape per byte).
  const mixed = raw(0xe2, 0x82, 0x78, 0xed, 0xa0, 0x80, 0xc0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xf0, 0x9f, 0x98, 0x80);
  assert.is(jsonString(mixed), '"' + "\\ufffd".repeat(2) + "x" + "\\ufffd".repeat(9) + '😀"');
  // A genuine U+FDD0 (the internal MARK) is written as is, next to escapes and HTML characters.
  assert.is(jsonString(raw(0xef, 0xb7, 0x90, 0xef, 0xb7, 0x90, 0xc3, 0xbf, 0xef, 0xb7, 0x90)), '"\ufdd0\ufdd0\u00ff\ufdd0"');
  assert.is(jsonString(raw(0xef, 0xb7, 0x90, 0xff, 0x3c, 0xef, 0xb7, 0x90, 0xc3)), '"\ufdd0\\ufffd\\u003c\ufdd0\\ufffd"');
  // A MARK not followed by a byte or a MARK is an ordinary character.
  assert.is(jsonString("\ufdd0a"), '"\ufdd0a"');
});

test("nodeJSON and eventJSON escape invalid bytes in keys and values", () => {
  const key = "/1/a" + fromBytes(Uint8Array.from([0xff])) + "b";
  const value = fromBytes(Uint8Array.from([0x80]));
  const ev: StoreEvent = {
    action: "compareAndSwap",
    node: { key, value: "x", modifiedIndex: 3, createdIndex: 2 },
    prevNode: { key, value, modifiedIndex: 2, createdIndex: 2 },
    etcdIndex: 3,
  };
  assert.is(
    eventJSON(ev, 0),
    '{"action":"compareAndSwap","node":{"key":"/a\\ufffdb","value":"x","modifiedIndex":3,"createdIndex":2},' +
      '"prevNode":{"key":"/a\\ufffdb","value":"\\ufffd","modifiedIndex":2,"createdIndex":2}}',
  );
});

test("errorJSON is etcd's error body with Go escaping, cause left out when empty", () => {
  const bad = fromBytes(Uint8Array.from([0xff]));
  // etcd 3.4.23: GET /v2/keys/%3Ca%3E%26 and a failed prevValue=%FF.
  assert.is(
    errorJSON({ errorCode: 100, message: "Key not found", cause: "/<a>&", index: 7 }),
    '{"errorCode":100,"message":"Key not found","cause":"/\\u003ca\\u003e\\u0026","index":7}',
  );
  assert.is(
    errorJSON({ errorCode: 101, message: "Compare failed", cause: `[${bad} != \ufffdx]`, index: 9 }),
    '{"errorCode":101,"message":"Compare failed","cause":"[\\ufffd != \ufffdx]","index":9}',
  );
  assert.is(errorJSON({ errorCode: 400, message: "Bad", index: 0 }), '{"errorCode":400,"message":"Bad","index":0}');
  assert.is(errorJSON({ errorCode: 400, message: "Bad", cause: "", index: 0 }), '{"errorCode":400,"message":"Bad","index":0}');
});

test("formatExpiration is RFC 3339 nano in UTC with the fraction trimmed", () => {
  const base = Date.UTC(2026, 10, 21, 9, 2, 58);
  assert.is(formatExpiration(base), "2026-11-21T09:02:58Z");
  assert.is(formatExpiration(base + 978), "2026-11-21T09:02:58.978Z");
  assert.is(formatExpiration(base + 970), "2026-11-21T09:02:58.97Z");
  assert.is(formatExpiration(base + 100), "2026-11-21T09:02:58.1Z");
  assert.is(formatExpiration(base + 5), "2026-11-21T09:02:58.005Z");
  // Sub-millisecond digits are kept as far as the number carries them.
  assert.is(formatExpiration(base + 978.5), "2026-11-21T09:02:58.9785Z");
  assert.is(formatExpiration(base + 978.25), "2026-11-21T09:02:58.97825Z");
  assert.is(formatExpiration(Date.UTC(2000, 0, 1)), "2000-01-01T00:00:00Z");
  assert.is(formatExpiration(Date.UTC(2026, 0, 2, 3, 4, 5)), "2026-01-02T03:04:05Z");
});

test("formatExpiration never prints more than 9 fraction digits", () => {
  // The text form of this number has 7 decimals: 3 ms digits + 7 = 10, cut to 9.
  assert.is(String(1_000_000_123.4567891), "1000000123.4567891");
  assert.is(formatExpiration(1_000_000_123.4567891), "1970-01-12T13:46:40.123456789Z");
  assert.is(formatExpiration(1_000_000_000.0001), "1970-01-12T13:46:40.0000001Z");
});

test("ttlSeconds follows Go's duration arithmetic", () => {
  const now = Date.UTC(2026, 0, 1);
  assert.is(ttlSeconds(now + 5000, now), 5);
  assert.is(ttlSeconds(now + 4001, now), 5);
  assert.is(ttlSeconds(now + 4000, now), 4);
  assert.is(ttlSeconds(now + 1, now), 1);
  assert.is(ttlSeconds(now + 0.5, now), 1);
  assert.is(ttlSeconds(now, now), 0);
  // Negative: truncated toward zero.
  assert.is(ttlSeconds(now - 1, now), 0);
  assert.is(ttlSeconds(now - 999, now), 0);
  assert.is(ttlSeconds(now - 1000, now), -1);
  assert.is(ttlSeconds(now - 1500, now), -1);
  assert.is(ttlSeconds(now - 2000, now), -2);
  assert.ok(!Object.is(ttlSeconds(now - 10, now), -0));
  // Float noise in now + ttl must not add a second.
  const odd = 1767225600123.4567;
  assert.is(ttlSeconds(odd + 5000, odd), 5);
  assert.is(ttlSeconds(odd + 20000, odd + 0.001), 20);
});

test("nodeJSON writes etcd's field order and leaves zero values out", () => {
  const now = Date.UTC(2026, 0, 1);
  assert.is(
    nodeJSON({ key: "/1/foo", value: "bar", modifiedIndex: 4, createdIndex: 3 }, now),
    '{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":3}',
  );
  // value is written even when empty
  assert.is(nodeJSON({ key: "/1/e", value: "", modifiedIndex: 1, createdIndex: 1 }, now), '{"key":"/e","value":"","modifiedIndex":1,"createdIndex":1}');
  // a TTL node: expiration then ttl
  assert.is(
    nodeJSON({ key: "/1/t", value: "v", expireAt: now + 5000, modifiedIndex: 8, createdIndex: 8 }, now),
    '{"key":"/t","value":"v","expiration":"2026-01-01T00:00:05Z","ttl":5,"modifiedIndex":8,"createdIndex":8}',
  );
  // ttl 0 (due, not yet swept) is left out, expiration is not
  assert.is(
    nodeJSON({ key: "/1/t", value: "v", expireAt: now, modifiedIndex: 8, createdIndex: 8 }, now),
    '{"key":"/t","value":"v","expiration":"2026-01-01T00:00:00Z","modifiedIndex":8,"createdIndex":8}',
  );
  // negative ttl when the sweep is late
  assert.is(
    nodeJSON({ key: "/1/t", value: "v", expireAt: now - 2500, modifiedIndex: 8, createdIndex: 8 }, now),
    '{"key":"/t","value":"v","expiration":"2025-12-31T23:59:57.5Z","ttl":-2,"modifiedIndex":8,"createdIndex":8}',
  );
  // a directory with nodes: key, dir, expiration, ttl, nodes, indexes
  assert.is(
    nodeJSON(
      {
        key: "/1/d",
        dir: true,
        expireAt: now + 30000,
        nodes: [
          { key: "/1/d/a", dir: true, modifiedIndex: 20, createdIndex: 20 },
          { key: "/1/d/f", value: "x", modifiedIndex: 21, createdIndex: 21 },
        ],
        modifiedIndex: 19,
        createdIndex: 19,
      },
      now,
    ),
    '{"key":"/d","dir":true,"expiration":"2026-01-01T00:00:30Z","ttl":30,"nodes":[{"key":"/d/a","dir":true,"modifiedIndex":20,"createdIndex":20},{"key":"/d/f","value":"x","modifiedIndex":21,"createdIndex":21}],"modifiedIndex":19,"createdIndex":19}',
  );
  // an empty nodes array is left out
  assert.is(nodeJSON({ key: "/1/d", dir: true, nodes: [], modifiedIndex: 2, createdIndex: 2 }, now), '{"key":"/d","dir":true,"modifiedIndex":2,"createdIndex":2}');
});

test("the internal root shows no key and no indexes", () => {
  const now = 0;
  assert.is(nodeJSON({ key: "/1", dir: true, nodes: [], modifiedIndex: 0, createdIndex: 0 }, now), '{"dir":true}');
  assert.is(
    nodeJSON({ key: "/1", dir: true, nodes: [{ key: "/1/a", value: "1", modifiedIndex: 5, createdIndex: 5 }], modifiedIndex: 0, createdIndex: 0 }, now),
    '{"dir":true,"nodes":[{"key":"/a","value":"1","modifiedIndex":5,"createdIndex":5}]}',
  );
});

test("keys are escaped and /0 keys are not stripped", () => {
  assert.is(nodeJSON({ key: "/1/a<b>", value: "", modifiedIndex: 1, createdIndex: 1 }, 0), '{"key":"/a\\u003cb\\u003e","value":"","modifiedIndex":1,"createdIndex":1}');
  assert.is(nodeJSON({ key: "/0/version", value: "3.4.0", modifiedIndex: 3, createdIndex: 3 }, 0), '{"key":"/0/version","value":"3.4.0","modifiedIndex":3,"createdIndex":3}');
});

test("eventJSON: action, node, prevNode; never the refresh flag; noValue drops both nodes", () => {
  const ev: StoreEvent = {
    action: "set",
    node: { key: "/1/foo", value: "baz", modifiedIndex: 5, createdIndex: 5 },
    prevNode: { key: "/1/foo", value: "bar", modifiedIndex: 4, createdIndex: 4 },
    etcdIndex: 5,
    refresh: true,
  };
  assert.is(
    eventJSON(ev, 0),
    '{"action":"set","node":{"key":"/foo","value":"baz","modifiedIndex":5,"createdIndex":5},"prevNode":{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":4}}',
  );
  assert.is(eventJSON(ev, 0, true), '{"action":"set"}');
  const del: StoreEvent = { action: "delete", node: { key: "/1/d", dir: true, modifiedIndex: 22, createdIndex: 19 }, etcdIndex: 22 };
  assert.is(eventJSON(del, 0), '{"action":"delete","node":{"key":"/d","dir":true,"modifiedIndex":22,"createdIndex":19}}');
});

test.run();
