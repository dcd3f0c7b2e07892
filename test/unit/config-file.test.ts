// --config-file: etcd's YAML configuration. Expected messages were checked against the real
// etcd 3.4.23 binary with the same files.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseConfig, type Config, type ParseResult } from "../../core/config.ts";

/** Files the parser may read, by path. */
function reader(files: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
    return text;
  };
}

function load(yaml: string, argv: string[] = [], env: Record<string, string> = {}): ParseResult {
  return parseConfig(["--config-file", "/etc/etcd.yaml", ...argv], env, { readTextFile: reader({ "/etc/etcd.yaml": yaml }) });
}

function cfg(yaml: string, argv: string[] = [], env: Record<string, string> = {}): Config {
  const r = load(yaml, argv, env);
  if (r.kind !== "ok") assert.unreachable(`expected ok, got ${JSON.stringify(r)}`);
  return (r as Extract<ParseResult, { kind: "ok" }>).config;
}

function fails(yaml: string): string {
  const r = load(yaml);
  if (r.kind !== "error") assert.unreachable(`expected an error, got ${r.kind}`);
  const e = r as Extract<ParseResult, { kind: "error" }>;
  return `${e.exitCode}: ${e.message}`;
}

const verify = (msg: string): string => `1: error verifying flags, ${msg}. See 'etcd --help'.`;
const typeError = (msg: string): string => verify(`error unmarshaling JSON: while decoding JSON: json: ${msg}`);

const SAMPLE = `# etcd configuration
name: 'infra0'
data-dir: /var/lib/etcd   # where the data lives
wal-dir: ""
snapshot-count: 10000
heartbeat-interval: 100
election-timeout: 1000
listen-peer-urls: http://10.0.1.10:2380
listen-client-urls: http://10.0.1.10:2379,http://127.0.0.1:2379
initial-advertise-peer-urls: http://10.0.1.10:2380
advertise-client-urls: http://10.0.1.10:2379
initial-cluster: infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380
initial-cluster-token: "etcd-cluster-1"
initial-cluster-state: new
enable-v2: true
force-new-cluster: no
strict-reconfig-check: on
proxy: 'off'
discovery-fallback: proxy
cors: '*'
host-whitelist: a.example,b.example
log-outputs: [stdout]
experimental-watch-progress-notify-interval: 5000000000
client-transport-security:
  cert-file: /etc/ssl/server.crt
  client-cert-auth: true
peer-transport-security:
  auto-tls: false
`;

test("a full config file", () => {
  const r = load(SAMPLE);
  assert.is(r.kind, "ok");
  if (r.kind !== "ok") return;
  const c = r.config;
  assert.is(c.name, "infra0");
  assert.is(c.dataDir, "/var/lib/etcd");
  assert.is(c.snapshotCount, 10000);
  assert.equal(c.listenClientUrls, ["http://10.0.1.10:2379", "http://127.0.0.1:2379"]);
  assert.equal(c.advertiseClientUrls, ["http://10.0.1.10:2379"]);
  assert.equal(c.initialCluster, [
    { name: "infra0", url: "http://10.0.1.10:2380" },
    { name: "infra1", url: "http://10.0.1.11:2380" },
  ]);
  assert.is(c.initialClusterToken, "etcd-cluster-1");
  assert.is(c.forceNewCluster, false);
  assert.is(c.strictReconfigCheck, true);
  assert.equal(c.cors, ["*"]);
  assert.equal(c.hostWhitelist, ["a.example", "b.example"]);
  assert.equal(c.logOutputs, ["stdout"]);
  assert.is(c.experimentalWatchProgressNotifyIntervalMs, 5000);
  assert.is(c.clientTls.certFile, "/etc/ssl/server.crt");
  assert.is(c.clientTls.clientCertAuth, true);
  assert.is(c.configFile, "/etc/etcd.yaml");
  assert.ok(c.explicitFlags.includes("cert-file"));
  assert.ok(r.info[0]!.startsWith(`Loading server configuration from "/etc/etcd.yaml".`));
  assert.ok(r.warnings.some((w) => w.startsWith(`--cert-file="/etc/ssl/server.crt" has no effect`)));
});

test("an empty file gives the defaults", () => {
  const c = cfg("");
  assert.is(c.name, "default");
  assert.equal(c.initialCluster, [{ name: "default", url: "http://localhost:2380" }]);
  assert.is(cfg("name: m1\n").initialCluster[0]!.name, "m1");
});

test("with a config file, other flags and ETCD_* variables are ignored (but flags still parse)", () => {
  const c = cfg("name: fromfile\n", ["--name", "fromflag", "--snapshot-count", "7"], { ETCD_NAME: "fromenv", ETCD_BOGUS: "1" });
  assert.is(c.name, "fromfile");
  assert.is(c.snapshotCount, 100000);
  const r = load("name: x\n", ["--bogus"]);
  assert.is(r.kind === "error" && r.exitCode, 2);
  const bad = load("name: x\n", ["--listen-peer-urls", "zzz"]);
  assert.is(bad.kind === "error" && bad.exitCode, 2);
});

test("ETCD_CONFIG_FILE names the file; --config-file wins over it without a conflict", () => {
  const files = reader({ "/a.yaml": "name: a\n", "/b.yaml": "name: b\n" });
  const viaEnv = parseConfig([], { ETCD_CONFIG_FILE: "/a.yaml" }, { readTextFile: files });
  assert.is(viaEnv.kind === "ok" && viaEnv.config.name, "a");
  const both = parseConfig(["--config-file", "/b.yaml"], { ETCD_CONFIG_FILE: "/a.yaml" }, { readTextFile: files });
  assert.is(both.kind === "ok" && both.config.name, "b");
});

test("a missing file", () => {
  const r = parseConfig(["--config-file", "nope.yaml"], {}, { readTextFile: reader({}) });
  assert.equal(r, { kind: "error", message: "error verifying flags, open nope.yaml: no such file or directory. See 'etcd --help'.", exitCode: 1 });
});

test("values must have the Go field's type", () => {
  assert.is(fails("snapshot-count: abc\n"), typeError("cannot unmarshal string into Go struct field configYAML.snapshot-count of type uint64"));
  assert.is(fails(`heartbeat-interval: "300"\n`), typeError("cannot unmarshal string into Go struct field configYAML.heartbeat-interval of type uint"));
  assert.is(fails("snapshot-count: -5\n"), typeError("cannot unmarshal number -5 into Go struct field configYAML.snapshot-count of type uint64"));
  assert.is(fails("snapshot-count: 1.5\n"), typeError("cannot unmarshal number 1.5 into Go struct field configYAML.snapshot-count of type uint64"));
  assert.is(fails("force-new-cluster: 1\n"), typeError("cannot unmarshal number into Go struct field configYAML.force-new-cluster of type bool"));
  assert.is(fails("name: 123\n"), typeError("cannot unmarshal number into Go struct field configYAML.name of type string"));
  assert.is(fails("log-outputs: stdout\n"), typeError("cannot unmarshal string into Go struct field configYAML.log-outputs of type []string"));
  assert.is(
    fails("grpc-keepalive-min-time: 5s\n"),
    typeError("cannot unmarshal string into Go struct field configYAML.grpc-keepalive-min-time of type time.Duration"),
  );
  assert.is(
    fails("client-transport-security: x\n"),
    typeError("cannot unmarshal string into Go struct field configYAML.client-transport-security of type embed.securityConfig"),
  );
  assert.is(
    fails("client-transport-security:\n  client-cert-auth: 5\n"),
    typeError("cannot unmarshal number into Go struct field securityConfig.client-transport-security.client-cert-auth of type bool"),
  );
  assert.is(fails("- a\n- b\n"), typeError("cannot unmarshal array into Go value of type embed.configYAML"));
  // YAML 1.1 booleans and integers.
  assert.is(cfg("enable-v2: no\n").enableV2, false);
  assert.is(cfg("max-snapshots: 0x10\n").maxSnapshots, 16);
});

test("URL lists in the file", () => {
  assert.is(fails("listen-peer-urls: zzz\n"), "1: unexpected error setting up listen-peer-urls: URL scheme must be http, https, unix, or unixs: zzz");
  assert.is(fails("listen-peer-urls: http://foo:1\n"), verify("expected IP in URL for binding (http://foo:1)"));
  assert.is(fails("listen-metrics-urls: http://foo:1\n"), verify("expected IP in URL for binding (http://foo:1)"));
  // Unlike on the command line, listen-client-urls alone keeps the default advertise URL.
  assert.equal(cfg("listen-client-urls: http://127.0.0.1:5\n").advertiseClientUrls, ["http://localhost:2379"]);
  assert.is(fails("cors: http://a\n"), `2: new UniqueURLs should never fail: URL address does not have the form "host:port": http://a`);
});

test("etcd's checks apply to the file too", () => {
  assert.is(fails("initial-cluster-state: bogus\n"), verify(`unexpected clusterState "bogus"`));
  assert.is(fails("proxy: bogus\n"), "1: unexpected error setting up proxyFlag: invalid value");
  assert.is(fails("discovery-fallback: nah\n"), "1: unexpected error setting up discovery-fallback flag: invalid value");
  assert.is(fails("election-timeout: 60000\n"), verify("--election-timeout[60000ms] is too long, and should be set less than 50000ms"));
  assert.is(
    fails("discovery: http://d\ninitial-cluster: a=http://a:1\n"),
    verify('multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"'),
  );
  assert.is(fails("auto-compaction-retention: foo\n"), `1: error parsing CompactionRetention: time: invalid duration "foo"`);
  assert.is(fails("log-outputs: [stdout, stderr]\n"), verify(`--logger=capnslog supports only 1 value in '--log-outputs', got ["stdout" "stderr"]`));
  // Discovery clears the default initial cluster; empty strings keep defaults.
  assert.equal(cfg("discovery: http://d/x\n").initialCluster, []);
  const c = cfg(`initial-cluster-state: ""\nproxy: ""\n`);
  assert.is(c.initialClusterState, "new");
  assert.is(c.proxy, "off");
});

test("YAML syntax errors and unknown keys", () => {
  assert.ok(fails("name: [\n").startsWith("1: error verifying flags, error converting YAML to JSON: yaml: line 1: "));
  assert.is(fails("name: a\n  b: c\n"), verify("error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context"));
  const r = load("bogus-key: 1\nname: x\n");
  assert.ok(r.kind === "ok" && r.warnings.includes(`config file: unknown key "bogus-key" ignored`));
});

test.run();
