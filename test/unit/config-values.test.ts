// The pieces under core/config/: Go-compatible scalar and URL parsing, the small YAML reader.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { goQuote, parseGoBool, parseGoDuration, parseIntFlag, parseUintFlag } from "../../core/config/goparse.ts";
import { formatInitialCluster, parseInitialCluster } from "../../core/config/initial-cluster.ts";
import { isIP, newUrls, parseGoUrl, splitHostPort } from "../../core/config/urls.ts";
import { parseYaml, resolveScalar } from "../../core/config/yaml.ts";

test("Go booleans", () => {
  for (const t of ["1", "t", "T", "TRUE", "true", "True"]) assert.is(parseGoBool(t), true);
  for (const f of ["0", "f", "F", "FALSE", "false", "False"]) assert.is(parseGoBool(f), false);
  for (const bad of ["yes", "on", "tRUE", "", " true"]) assert.is(parseGoBool(bad), undefined);
});

test("Go integers", () => {
  assert.equal(parseUintFlag("0o17"), { ok: true, value: 15 });
  assert.equal(parseUintFlag("0X_1f"), { ok: true, value: 31 });
  assert.equal(parseUintFlag("18446744073709551615"), { ok: true, value: 18446744073709551615 });
  assert.equal(parseUintFlag("18446744073709551616"), { ok: false, error: "value out of range" });
  assert.equal(parseUintFlag("_1"), { ok: false, error: "parse error" });
  assert.equal(parseUintFlag("1_"), { ok: false, error: "parse error" });
  assert.equal(parseUintFlag(""), { ok: false, error: "parse error" });
  assert.equal(parseIntFlag("-9223372036854775808"), { ok: true, value: -9223372036854775808 });
  assert.equal(parseIntFlag("9223372036854775808"), { ok: false, error: "value out of range" });
  assert.equal(parseIntFlag("-0x10"), { ok: true, value: -16 });
  assert.equal(parseIntFlag("-"), { ok: false, error: "parse error" });
});

test("Go durations in milliseconds", () => {
  assert.equal(parseGoDuration("1h30m"), { ok: true, value: 5400000 });
  assert.equal(parseGoDuration("1.5s"), { ok: true, value: 1500 });
  assert.equal(parseGoDuration("-2ms"), { ok: true, value: -2 });
  assert.equal(parseGoDuration("300us"), { ok: true, value: 0.3 });
  assert.equal(parseGoDuration(".5m"), { ok: true, value: 30000 });
  assert.equal(parseGoDuration("0"), { ok: true, value: 0 });
  assert.equal(parseGoDuration("5"), { ok: false, error: 'time: missing unit in duration "5"' });
  assert.equal(parseGoDuration("1d"), { ok: false, error: 'time: unknown unit "d" in duration "1d"' });
  assert.equal(parseGoDuration(""), { ok: false, error: 'time: invalid duration ""' });
  assert.equal(parseGoDuration("."), { ok: false, error: 'time: invalid duration "."' });
});

test("goQuote matches Go's %q", () => {
  assert.is(goQuote(`a"b\\c`), `"a\\"b\\\\c"`);
  assert.is(goQuote("\x01\n"), `"\\x01\\n"`);
});

test("Go URL parsing and host:port splitting", () => {
  const u = parseGoUrl("HTTP://user@[::1]:80?q#f");
  assert.ok(u.ok);
  if (u.ok) {
    assert.is(u.value.scheme, "http");
    assert.is(u.value.host, "[::1]:80");
    assert.is(u.value.rawQuery, "q");
    assert.is(u.value.fragment, "f");
  }
  assert.equal(parseGoUrl("://x"), { ok: false, error: `parse "://x": missing protocol scheme` });
  assert.equal(splitHostPort("[::1]:2379"), { ok: true, value: { host: "::1", port: "2379" } });
  assert.equal(splitHostPort("127.0.0.1:"), { ok: true, value: { host: "127.0.0.1", port: "" } });
  assert.is(splitHostPort("::1:5").ok, false);
  assert.is(splitHostPort("host").ok, false);
  // Default ports and case are kept as written (unlike WHATWG URL).
  assert.equal(newUrls(["http://Example.com:80"]), { ok: true, value: ["http://Example.com:80"] });
});

test("IP addresses as Go's net.ParseIP reads them", () => {
  for (const ip of ["127.0.0.1", "0.0.0.0", "::", "::1", "fe80::1", "2001:db8::8a2e:370:7334", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8"]) {
    assert.ok(isIP(ip), ip);
  }
  for (const s of ["localhost", "1.2.3", "01.2.3.4", "256.1.1.1", "1:2:3:4:5:6:7:8:9", "::1::", "fe80::1%eth0", ""]) {
    assert.not.ok(isIP(s), s);
  }
});

test("initial cluster strings", () => {
  const r = parseInitialCluster("b=http://b:1,a=http://a:2,a=http://a:1");
  assert.ok(r.ok);
  if (r.ok) {
    assert.equal(r.value, [
      { name: "b", url: "http://b:1" },
      { name: "a", url: "http://a:1" },
      { name: "a", url: "http://a:2" },
    ]);
    assert.is(formatInitialCluster(r.value), "a=http://a:1,a=http://a:2,b=http://b:1");
  }
  assert.equal(parseInitialCluster(""), { ok: true, value: [] });
});

test("YAML: mappings, nesting, sequences, quoting, comments", () => {
  const r = parseYaml(`---
# top comment
a: plain value # trailing
b: 'it''s'
c: "tab\\there"
d: [x, 'y, z', "w"]
e:
  - one
  - two
f:
- three
g:
  inner: 1
h:
url: http://a:1,http://b:2
hash: a#b
`);
  assert.ok(r.ok);
  if (!r.ok || r.value?.kind !== "map") return;
  const get = (k: string) => r.value!.kind === "map" ? r.value!.entries.get(k) : undefined;
  const text = (k: string) => (get(k) as { text: string }).text;
  assert.is(text("a"), "plain value");
  assert.is(text("b"), "it's");
  assert.is(text("c"), "tab\there");
  assert.equal((get("d") as { items: { text: string }[] }).items.map((i) => i.text), ["x", "y, z", "w"]);
  assert.equal((get("e") as { items: { text: string }[] }).items.map((i) => i.text), ["one", "two"]);
  assert.equal((get("f") as { items: { text: string }[] }).items.map((i) => i.text), ["three"]);
  assert.is(get("g")?.kind, "map");
  assert.equal(resolveScalar(get("h") as { text: string; quoted: boolean }), { type: "null" });
  assert.is(text("url"), "http://a:1,http://b:2");
  assert.is(text("hash"), "a#b");
});

test("YAML: scalar resolution follows YAML 1.1 (go-yaml v2)", () => {
  const res = (text: string, quoted = false) => resolveScalar({ text, quoted });
  assert.equal(res("yes"), { type: "bool", value: true });
  assert.equal(res("Off"), { type: "bool", value: false });
  assert.equal(res("'yes'".slice(1, -1), true), { type: "string", value: "yes" });
  assert.equal(res("0755"), { type: "int", value: 493n });
  assert.equal(res("-12"), { type: "int", value: -12n });
  assert.equal(res("1.5"), { type: "float", value: 1.5 });
  assert.equal(res("~"), { type: "null" });
  assert.equal(res("http://x:1"), { type: "string", value: "http://x:1" });
});

test("YAML: unsupported or broken input is an error with a line number", () => {
  assert.equal(parseYaml("a: *ref\n").ok, false);
  assert.equal(parseYaml("a: |\n  text\n").ok, false);
  assert.equal(parseYaml("a: 'open\n").ok, false);
  assert.equal(parseYaml("a: 1\na: 2\n"), { ok: false, error: 'yaml: line 2: key "a" already set in map' });
  assert.equal(parseYaml("a:\n\tb: 1\n").ok, false);
  assert.equal(parseYaml("a: b: c\n"), { ok: false, error: "yaml: line 1: mapping values are not allowed in this context" });
});

test.run();
