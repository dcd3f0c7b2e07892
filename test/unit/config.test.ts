// parseConfig against etcd 3.4.23's behaviour (flag syntax, defaults, ETCD_* variables,
// validation messages and exit statuses). The expected messages were taken from running
// the real etcd 3.4.23 binary with the same arguments.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkNewClusterBootstrap, parseConfig, VERSION, type Config, type ParseResult } from "../../core/config.ts";

type Env = Record<string, string | undefined>;

function ok(argv: string[], env: Env = {}): Extract<ParseResult, { kind: "ok" }> {
  const r = parseConfig(argv, env);
  if (r.kind !== "ok") assert.unreachable(`expected ok for ${argv.join(" ")}, got ${JSON.stringify(r)}`);
  return r as Extract<ParseResult, { kind: "ok" }>;
}

function cfg(argv: string[], env: Env = {}): Config {
  return ok(argv, env).config;
}

function err(argv: string[], env: Env = {}): { message: string; exitCode: number } {
  const r = parseConfig(argv, env);
  if (r.kind !== "error") assert.unreachable(`expected an error for ${argv.join(" ")}, got ${r.kind}`);
  return r as Extract<ParseResult, { kind: "error" }>;
}

/** The first line of an error, and its exit status. */
function fails(argv: string[], env: Env = {}): string {
  const e = err(argv, env);
  return `${e.exitCode}: ${e.message.split("\n")[0]}`;
}

const verify = (msg: string): string => `1: error verifying flags, ${msg}. See 'etcd --help'.`;

// A member that listens on loopback and advertises it, so other flags can be tested alone.
const LOCAL = ["--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379"];

test("defaults are etcd 3.4's (with v2 on)", () => {
  const r = ok([]);
  const c = r.config;
  assert.is(c.name, "default");
  assert.is(c.dataDir, "default.etcd");
  assert.ok(r.warnings.includes("no data-dir provided, using default data-dir ./default.etcd"));
  assert.is(c.walDir, "");
  assert.equal(c.listenClientUrls, ["http://localhost:2379"]);
  assert.equal(c.advertiseClientUrls, ["http://localhost:2379"]);
  assert.equal(c.listenPeerUrls, ["http://localhost:2380"]);
  assert.equal(c.initialAdvertisePeerUrls, ["http://localhost:2380"]);
  assert.equal(c.listenMetricsUrls, []);
  assert.equal(c.initialCluster, [{ name: "default", url: "http://localhost:2380" }]);
  assert.is(c.initialClusterState, "new");
  assert.is(c.initialClusterToken, "etcd-cluster");
  assert.is(c.snapshotCount, 100000);
  assert.is(c.heartbeatInterval, 100);
  assert.is(c.electionTimeout, 1000);
  assert.is(c.maxSnapshots, 5);
  assert.is(c.maxWals, 5);
  assert.is(c.quotaBackendBytes, 0);
  assert.is(c.maxRequestBytes, 1572864);
  assert.is(c.maxTxnOps, 128);
  assert.is(c.forceNewCluster, false);
  assert.is(c.strictReconfigCheck, true);
  assert.is(c.initialElectionTickAdvance, true);
  assert.is(c.preVote, false);
  assert.is(c.enableV2, true);
  assert.is(c.enableGrpcGateway, true);
  assert.is(c.proxy, "off");
  assert.is(c.discoveryFallback, "proxy");
  assert.is(c.proxyFailureWaitMs, 5000);
  assert.is(c.proxyRefreshIntervalMs, 30000);
  assert.is(c.proxyDialTimeoutMs, 1000);
  assert.is(c.proxyWriteTimeoutMs, 5000);
  assert.is(c.proxyReadTimeoutMs, 0);
  assert.equal(c.cors, ["*"]);
  assert.equal(c.hostWhitelist, ["*"]);
  assert.is(c.autoCompactionMode, "periodic");
  assert.is(c.autoCompactionRetention, "0");
  assert.is(c.autoCompactionRetentionValue, 0);
  assert.is(c.logLevel, "info");
  assert.is(c.logger, "capnslog");
  assert.equal(c.logOutputs, ["default"]);
  assert.is(c.experimentalWatchProgressNotifyIntervalMs, 600000);
  assert.is(c.grpcKeepAliveIntervalMs, 2 * 3600 * 1000);
  assert.is(c.configFile, "");
  assert.equal(c.explicitFlags, []);
});

test("--enable-v2=false is recorded", () => {
  assert.is(cfg(["--enable-v2=false"]).enableV2, false);
  assert.is(cfg(["--enable-v2"]).enableV2, true);
});

test("Go flag syntax: -flag, --flag, =value, separate value", () => {
  assert.is(cfg(["-name", "a"]).name, "a");
  assert.is(cfg(["--name", "b"]).name, "b");
  assert.is(cfg(["--name=c"]).name, "c");
  assert.is(cfg(["-name=d"]).name, "d");
  assert.is(cfg(["--name="]).name, "");
  // A value-taking flag takes the next argument even when it looks like a flag.
  assert.is(cfg(["--name", "--weird"]).name, "--weird");
  // The last of repeated flags wins.
  assert.is(cfg(["--name", "a", "--name", "b"]).name, "b");
  assert.equal(cfg(["--name", "x"]).explicitFlags, ["name"]);
});

test("boolean flags: --x, --x=true|false and Go's spellings, but not --x false", () => {
  assert.is(cfg(["--force-new-cluster"]).forceNewCluster, true);
  assert.is(cfg(["--force-new-cluster=true"]).forceNewCluster, true);
  assert.is(cfg(["--force-new-cluster=1"]).forceNewCluster, true);
  assert.is(cfg(["-force-new-cluster=TRUE"]).forceNewCluster, true);
  assert.is(cfg(["--force-new-cluster=t"]).forceNewCluster, true);
  assert.is(cfg(["--force-new-cluster=false"]).forceNewCluster, false);
  assert.is(cfg(["--force-new-cluster=F"]).forceNewCluster, false);
  assert.is(cfg(["--strict-reconfig-check=0"]).strictReconfigCheck, false);
  assert.is(fails(["--force-new-cluster", "false"]), verify("'false' is not a valid flag"));
  assert.is(fails(["--force-new-cluster=maybe"]), `2: invalid boolean value "maybe" for -force-new-cluster: parse error`);
  assert.is(fails(["--force-new-cluster="]), `2: invalid boolean value "" for -force-new-cluster: parse error`);
});

test("unknown flags and bad syntax exit 2 with Go's message and the usage", () => {
  const e = err(["--bogus"]);
  assert.is(e.exitCode, 2);
  assert.ok(e.message.startsWith("flag provided but not defined: -bogus\nUsage:\n"));
  assert.ok(e.message.includes("etcd --version"));
  assert.is(fails(["-bogus=1"]), "2: flag provided but not defined: -bogus");
  assert.is(fails(["---name=x"]), "2: bad flag syntax: ---name=x");
  assert.is(fails(["--=x"]), "2: bad flag syntax: --=x");
  assert.is(fails(["--name"]), "2: flag needs an argument: -name");
  // etcd 3.3's --ca-file is gone in 3.4.
  assert.is(fails(["--ca-file", "x"]), "2: flag provided but not defined: -ca-file");
});

test("arguments left after the flags are refused (exit 1)", () => {
  assert.is(fails(["pos1", "--name", "x"]), verify("'pos1' is not a valid flag"));
  assert.is(fails(["--name", "x", "pos1"]), verify("'pos1' is not a valid flag"));
  assert.is(fails(["--name", "x", "--", "--y"]), verify("'--y' is not a valid flag"));
  assert.is(fails(["-"]), verify("'-' is not a valid flag"));
  assert.is(cfg(["--name", "x", "--"]).name, "x");
  assert.is(err(["gateway"]).exitCode, 1);
});

test("--help and --version", () => {
  for (const h of ["-h", "--help", "-help", "--h", "-help=false"]) {
    const r = parseConfig([h], {});
    assert.is(r.kind, "help", h);
  }
  const help = parseConfig(["--help", "--bogus"], {});
  assert.is(help.kind, "help");
  if (help.kind === "help") {
    assert.ok(help.text.includes("  --name 'default'\n    Human-readable name for this member."));
    assert.ok(help.text.includes("  --enable-v2 'true'"));
    assert.ok(help.text.includes("  --initial-cluster 'default=http://localhost:2380'"));
    assert.ok(help.text.includes("  --proxy 'off'"));
    assert.ok(!help.text.includes("--config-file ''"), "hidden flags are not listed");
  }
  // A bad flag before --help is reported first.
  assert.is(err(["--bogus", "--help"]).exitCode, 2);

  const v = parseConfig(["--version"], {}, { host: { runtime: "Node", version: "v20.1.0", os: "linux", arch: "x64" } });
  assert.is(v.kind, "version");
  if (v.kind === "version") {
    assert.is(
      v.text,
      `etcd Version: ${VERSION.server}\nGit SHA: Not provided (etcd-ts 0.1.0)\nNode Version: v20.1.0\nNode OS/Arch: linux/x64\n`,
    );
  }
  assert.equal(VERSION, { server: "3.4.23", cluster: "3.4.0" });
  // --version is checked after the flags parse, before validation and the environment.
  assert.is(parseConfig(["--version", "--heartbeat-interval", "0"], {}).kind, "version");
  assert.is(parseConfig(["--version"], { ETCD_NAME: "x" }).kind, "version");
  assert.is(fails(["--version", "--bogus"]), "2: flag provided but not defined: -bogus");
  assert.is(fails(["--version", "extra"]), verify("'extra' is not a valid flag"));
  assert.is(fails(["--version=zzz"]), `2: invalid boolean value "zzz" for -version: parse error`);
});

test("ETCD_* variables set flags that were not given", () => {
  const r = ok([], { ETCD_NAME: "envname", ETCD_SNAPSHOT_COUNT: "42", ETCD_FORCE_NEW_CLUSTER: "true", PATH: "/bin" });
  assert.is(r.config.name, "envname");
  assert.is(r.config.dataDir, "envname.etcd");
  assert.is(r.config.snapshotCount, 42);
  assert.is(r.config.forceNewCluster, true);
  assert.equal(r.config.explicitFlags, ["force-new-cluster", "name", "snapshot-count"]);
  assert.ok(r.info.includes("recognized and used environment variable ETCD_NAME=envname"));
  assert.equal(r.warnings.filter((w) => w.includes("environment")), []);
});

test("an empty ETCD_* variable counts as unset (and is reported as unrecognized)", () => {
  const r = ok([], { ETCD_NAME: "" });
  assert.is(r.config.name, "default");
  assert.ok(r.warnings.includes("unrecognized environment variable ETCD_NAME="));
});

test("unknown ETCD_* variables only warn; other variables are ignored", () => {
  const r = ok([], { ETCD_FOO: "1", HOME: "/root", ETCDCTL_API: "3" });
  assert.equal(
    r.warnings.filter((w) => w.includes("environment")),
    ["unrecognized environment variable ETCD_FOO=1"],
  );
});

test("a flag and its ETCD_* variable together are fatal, even when the variable is empty", () => {
  const msg = `1: conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`;
  assert.is(fails(["--name", "y"], { ETCD_NAME: "x" }), msg);
  assert.is(fails(["--name", "y"], { ETCD_NAME: "" }), msg);
  assert.is(
    fails(["--listen-client-urls", "http://foo:1"], { ETCD_LISTEN_CLIENT_URLS: "foo" }),
    `1: conflicting environment variable "ETCD_LISTEN_CLIENT_URLS" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
  );
  // The conflict is found before a bad value of another variable is reported.
  assert.ok(fails(["--snapshot-count", "1"], { ETCD_NAME: "x", ETCD_SNAPSHOT_COUNT: "abc" }).includes('"ETCD_SNAPSHOT_COUNT" is shadowed'));
});

test("bad ETCD_* values are reported with the variable's name", () => {
  assert.is(fails([], { ETCD_SNAPSHOT_COUNT: "abc" }), verify(`invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error`));
  assert.is(fails([], { ETCD_FORCE_NEW_CLUSTER: "maybe" }), verify(`invalid value "maybe" for ETCD_FORCE_NEW_CLUSTER: parse error`));
  assert.is(
    fails([], { ETCD_LISTEN_CLIENT_URLS: "foo" }),
    verify(`invalid value "foo" for ETCD_LISTEN_CLIENT_URLS: URL scheme must be http, https, unix, or unixs: foo`),
  );
});

test("numbers: Go's unsigned and signed syntax, and its errors", () => {
  assert.is(cfg(["--snapshot-count", "0x10"]).snapshotCount, 16);
  assert.is(cfg(["--snapshot-count", "010"]).snapshotCount, 8);
  assert.is(cfg(["--snapshot-count", "0b11"]).snapshotCount, 3);
  assert.is(cfg(["--snapshot-count", "1_000"]).snapshotCount, 1000);
  assert.is(cfg(["--snapshot-count", "0"]).snapshotCount, 0);
  assert.is(cfg(["--quota-backend-bytes=-1"]).quotaBackendBytes, -1);
  assert.is(cfg(["--quota-backend-bytes=+8589934592"]).quotaBackendBytes, 8589934592);
  assert.is(fails(["--snapshot-count", "abc"]), `2: invalid value "abc" for flag -snapshot-count: parse error`);
  assert.is(fails(["--snapshot-count", "+5"]), `2: invalid value "+5" for flag -snapshot-count: parse error`);
  assert.is(fails(["--snapshot-count", "08"]), `2: invalid value "08" for flag -snapshot-count: parse error`);
  assert.is(fails(["--snapshot-count", "1__0"]), `2: invalid value "1__0" for flag -snapshot-count: parse error`);
  assert.is(fails(["--snapshot-count", "1.5"]), `2: invalid value "1.5" for flag -snapshot-count: parse error`);
  assert.is(
    fails(["--snapshot-count", "99999999999999999999"]),
    `2: invalid value "99999999999999999999" for flag -snapshot-count: value out of range`,
  );
  assert.is(fails(["--heartbeat-interval=-1"]), `2: invalid value "-1" for flag -heartbeat-interval: parse error`);
  assert.is(
    fails(["--max-concurrent-streams", "-1"]),
    `2: invalid value "-1" for flag -max-concurrent-streams: strconv.ParseUint: parsing "-1": invalid syntax`,
  );
  assert.is(
    fails(["--max-concurrent-streams", "4294967296"]),
    `2: invalid value "4294967296" for flag -max-concurrent-streams: strconv.ParseUint: parsing "4294967296": value out of range`,
  );
});

test("durations: Go syntax, milliseconds in the config", () => {
  assert.is(cfg(["--grpc-keepalive-min-time", "1h2m3.5s"]).grpcKeepAliveMinTimeMs, 3723500);
  assert.is(cfg(["--experimental-watch-progress-notify-interval", "250ms"]).experimentalWatchProgressNotifyIntervalMs, 250);
  assert.is(cfg(["--experimental-corrupt-check-time", "0"]).experimentalCorruptCheckTimeMs, 0);
  assert.is(fails(["--grpc-keepalive-min-time", "5"]), `2: invalid value "5" for flag -grpc-keepalive-min-time: parse error`);
  assert.is(fails(["--grpc-keepalive-min-time", "1d"]), `2: invalid value "1d" for flag -grpc-keepalive-min-time: parse error`);
});

test("URL lists: parsed, normalised, sorted and de-duplicated", () => {
  const c = cfg([
    "--listen-client-urls",
    " http://127.0.0.2:2379 , HTTP://127.0.0.1:2379,http://127.0.0.1:2379",
    "--advertise-client-urls",
    "http://b.example:2379,http://a.example:80",
  ]);
  assert.equal(c.listenClientUrls, ["http://127.0.0.1:2379", "http://127.0.0.2:2379"]);
  assert.equal(c.advertiseClientUrls, ["http://a.example:80", "http://b.example:2379"]);
  // An empty value keeps the current list (etcd allows "" as an exception).
  assert.equal(cfg(["--initial-advertise-peer-urls", ""]).initialAdvertisePeerUrls, ["http://localhost:2380"]);
});

test("bad URLs are refused with Go's messages (exit 2)", () => {
  const bad = (v: string, why: string): void =>
    assert.is(fails(["--listen-client-urls", v]), `2: invalid value ${JSON.stringify(v)} for flag -listen-client-urls: ${why}`);
  bad("foo", "URL scheme must be http, https, unix, or unixs: foo");
  bad("ftp://127.0.0.1:2379", "URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:2379");
  bad("localhost:2379", "URL scheme must be http, https, unix, or unixs: localhost:2379");
  bad("http://127.0.0.1", `URL address does not have the form "host:port": http://127.0.0.1`);
  bad("http://127.0.0.1:2379/path", "URL must not contain a path: http://127.0.0.1:2379/path");
  bad("http://127.0.0.1:2379/", "URL must not contain a path: http://127.0.0.1:2379/");
  bad("http://127.0.0.1:2379,", "URL scheme must be http, https, unix, or unixs: ");
  bad("127.0.0.1:2379", `parse "127.0.0.1:2379": first path segment in URL cannot contain colon`);
  bad("http://127.0.0.1:abc", `parse "http://127.0.0.1:abc": invalid port ":abc" after host`);
  bad("http://[::1:1", `parse "http://[::1:1": missing ']' in host`);
  bad("http://a b:1", `parse "http://a b:1": invalid character " " in host name`);
  bad("http://[::1]", `URL address does not have the form "host:port": http://[::1]`);
  assert.is(fails(["--cors", "*,http://a:1"]), `2: invalid value "*,http://a:1" for flag -cors: URL scheme must be http, https, unix, or unixs: *`);
  assert.equal(cfg(["--cors", "http://b:1,http://a:1"]).cors, ["http://a:1", "http://b:1"]);
});

test("listen URLs must bind to an IP address or localhost", () => {
  assert.is(fails(["--listen-peer-urls", "http://foo:2380"]), verify("expected IP in URL for binding (http://foo:2380)"));
  assert.is(fails(["--listen-peer-urls", "http://1.2.3:2380"]), verify("expected IP in URL for binding (http://1.2.3:2380)"));
  assert.is(fails(["--listen-peer-urls", "http://:2380"]), verify("expected IP in URL for binding (http://:2380)"));
  assert.is(fails(["--listen-metrics-urls", "http://foo:1"]), verify("expected IP in URL for binding (http://foo:1)"));
  assert.is(
    fails(["--listen-client-urls", "http://foo:2379", "--advertise-client-urls", "http://foo:2379"]),
    verify("expected IP in URL for binding (http://foo:2379)"),
  );
  const c = cfg(["--listen-peer-urls", "http://0.0.0.0:2380,http://[::1]:2381,http://localhost:2382,unix://sock:1"]);
  assert.equal(c.listenPeerUrls, ["http://0.0.0.0:2380", "http://[::1]:2381", "http://localhost:2382", "unix://sock:1"]);
});

test("advertised URLs need a host", () => {
  assert.is(
    fails(["--initial-advertise-peer-urls", "http://:1"]),
    verify(`--initial-advertise-peer-urls "http://:1" must be "host:port" (unexpected empty host (http://:1))`),
  );
  assert.is(
    fails(["--advertise-client-urls", "http://:1,http://:2"]),
    verify(`--advertise-client-urls "http://:1,http://:2" must be "host:port" (unexpected empty host (http://:1))`),
  );
  assert.equal(cfg(["--advertise-client-urls", "http://example.com:2379"]).advertiseClientUrls, ["http://example.com:2379"]);
});

test("--advertise-client-urls is required once --listen-client-urls is given", () => {
  const e = err(["--listen-client-urls", "http://127.0.0.1:2379"]);
  assert.is(e.exitCode, 1);
  assert.is(
    e.message,
    "error verifying flags, --advertise-client-urls is required when --listen-client-urls is set explicitly. See 'etcd --help'.\n" +
      "When listening on specific address(es), this etcd process must advertise accessible url(s) to each connected client.",
  );
  // Set through the environment counts as explicit too.
  assert.ok(err([], { ETCD_LISTEN_CLIENT_URLS: "http://127.0.0.1:2379" }).message.includes("--advertise-client-urls is required"));
  assert.ok(err(["--listen-client-urls", ""]).message.includes("--advertise-client-urls is required"));
  assert.equal(cfg(LOCAL).advertiseClientUrls, ["http://127.0.0.1:2379"]);
  // A proxy, or a member that may fall back to being one, keeps the default.
  assert.equal(cfg(["--listen-client-urls", "http://127.0.0.1:1", "--proxy", "on"]).advertiseClientUrls, ["http://localhost:2379"]);
  assert.equal(cfg(["--listen-client-urls", "http://127.0.0.1:1", "--discovery", "http://d:1/x"]).advertiseClientUrls, [
    "http://localhost:2379",
  ]);
  assert.ok(
    err(["--listen-client-urls", "http://127.0.0.1:1", "--discovery", "http://d:1/x", "--discovery-fallback", "exit"]).message.includes(
      "--advertise-client-urls is required",
    ),
  );
});

test("election timeout and heartbeat rules", () => {
  assert.is(fails(["--heartbeat-interval", "0"]), verify("--heartbeat-interval must be >0 (set to 0ms)"));
  assert.is(fails(["--election-timeout", "0"]), verify("--election-timeout must be >0 (set to 0ms)"));
  assert.is(
    fails(["--heartbeat-interval", "300"]),
    verify("--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]"),
  );
  assert.is(
    fails(["--heartbeat-interval", "201", "--election-timeout", "1000"]),
    verify("--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[201ms]"),
  );
  assert.is(fails(["--election-timeout", "60000"]), verify("--election-timeout[60000ms] is too long, and should be set less than 50000ms"));
  const c = cfg(["--heartbeat-interval", "200", "--election-timeout", "1000"]);
  assert.is(c.heartbeatInterval, 200);
  assert.is(c.electionTimeout, 1000);
  assert.is(cfg(["--heartbeat-interval", "10000", "--election-timeout", "50000"]).electionTimeout, 50000);
});

test("enumerated flags", () => {
  assert.is(cfg(["--initial-cluster-state", "existing"]).initialClusterState, "existing");
  assert.is(cfg(["--proxy", "readonly"]).proxy, "readonly");
  assert.is(cfg(["--discovery-fallback", "exit"]).discoveryFallback, "exit");
  assert.is(fails(["--initial-cluster-state", "EXISTING"]), `2: invalid value "EXISTING" for flag -initial-cluster-state: invalid value`);
  assert.is(fails(["--proxy="]), `2: invalid value "" for flag -proxy: invalid value`);
  assert.is(fails(["--discovery-fallback", "nah"]), `2: invalid value "nah" for flag -discovery-fallback: invalid value`);
  assert.is(fails(["--auto-compaction-mode", "foo"]), verify(`unknown auto-compaction-mode "foo"`));
});

test("at most one bootstrap method", () => {
  const conflict = verify('multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"');
  assert.is(fails(["--discovery", "http://d/x", "--initial-cluster", "a=http://a:1"]), conflict);
  assert.is(fails(["--discovery", "http://d/x", "--discovery-srv", "example.com"]), conflict);
  assert.is(fails(["--discovery-srv", "example.com", "--initial-cluster", "default=http://localhost:2380"]), conflict);
  assert.is(fails(["--discovery", "http://d/x"], { ETCD_INITIAL_CLUSTER: "a=http://a:1" }), conflict);
  // Discovery replaces the default initial cluster.
  assert.equal(cfg(["--discovery", "http://d/x"]).initialCluster, []);
  const srv = cfg(["--discovery-srv", "example.com", "--discovery-srv-name", "foo"]);
  assert.equal(srv.initialCluster, []);
  assert.is(srv.discoverySrv, "example.com");
  assert.is(srv.discoverySrvName, "foo");
});

test("--initial-cluster parsing", () => {
  const c = cfg([
    "--name",
    "infra0",
    "--initial-advertise-peer-urls",
    "http://10.0.1.10:2380,http://10.0.1.9:2380",
    "--initial-cluster",
    "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,,infra0=http://10.0.1.9:2380",
  ]);
  assert.equal(c.initialCluster, [
    { name: "infra0", url: "http://10.0.1.10:2380" },
    { name: "infra0", url: "http://10.0.1.9:2380" },
    { name: "infra1", url: "http://10.0.1.11:2380" },
  ]);
  assert.is(fails(["--initial-cluster", "foo"]), "1: error setting up initial cluster: URL scheme must be http, https, unix, or unixs: ");
  assert.is(
    fails(["--initial-cluster", "default=http://localhost:2380,x=http://a:1/p"]),
    "1: error setting up initial cluster: URL must not contain a path: http://a:1/p",
  );
});

test("--name alone names the default initial cluster after the member", () => {
  assert.equal(cfg(["--name", "m1"]).initialCluster, [{ name: "m1", url: "http://localhost:2380" }]);
  assert.equal(cfg(["--name", "m1", "--initial-advertise-peer-urls", "http://10.0.0.1:2380,http://10.0.0.2:2380"]).initialCluster, [
    { name: "m1", url: "http://10.0.0.1:2380" },
    { name: "m1", url: "http://10.0.0.2:2380" },
  ]);
  // etcd only does this for a non-default name.
  assert.equal(cfg(["--initial-advertise-peer-urls", "http://10.0.0.1:2380"]).initialCluster, [
    { name: "default", url: "http://localhost:2380" },
  ]);
  assert.is(cfg(["--name", "m1", "--data-dir", "/var/lib/etcd"]).dataDir, "/var/lib/etcd");
});

test("checkNewClusterBootstrap gives etcd's bootstrap messages", () => {
  const c = cfg(["--name", "x", "--initial-cluster", "a=http://a:1"]);
  assert.is(checkNewClusterBootstrap(c), `couldn't find local name "x" in the initial cluster configuration`);
  const dup = cfg(["--initial-cluster", "default=http://localhost:2380,x=http://localhost:2380"]);
  assert.is(checkNewClusterBootstrap(dup), "initial cluster default=http://localhost:2380,x=http://localhost:2380 has duplicate url");
  assert.is(checkNewClusterBootstrap(cfg([])), undefined);
});

test("auto compaction retention", () => {
  assert.is(cfg(["--auto-compaction-retention", "2"]).autoCompactionRetentionValue, 2 * 3600_000);
  assert.is(cfg(["--auto-compaction-retention", "5m"]).autoCompactionRetentionValue, 300_000);
  const rev = cfg(["--auto-compaction-mode", "revision", "--auto-compaction-retention", "1000"]);
  assert.is(rev.autoCompactionMode, "revision");
  assert.is(rev.autoCompactionRetentionValue, 1000);
  assert.is(fails(["--auto-compaction-retention", "foo"]), `1: error parsing CompactionRetention: time: invalid duration "foo"`);
  assert.is(fails(["--auto-compaction-retention", "1.5"]), `1: error parsing CompactionRetention: time: missing unit in duration "1.5"`);
});

test("logging flags", () => {
  assert.is(cfg(["--log-level", "debug"]).logLevel, "debug");
  assert.is(cfg(["--log-level", "warn"]).logLevel, "warn");
  assert.is(cfg(["--log-level", "fatal"]).logLevel, "error");
  assert.is(cfg(["--debug"]).logLevel, "debug");
  assert.equal(cfg(["--log-outputs", "stdout"]).logOutputs, ["stdout"]);
  assert.is(cfg(["--logger", "zap", "--log-outputs", "stderr,stdout"]).logger, "zap");
  assert.is(fails(["--logger", "foo"]), verify(`unknown logger option "foo"`));
  assert.is(fails(["--log-outputs", "foo"]), verify(`unknown log-output "foo" (only supports "default", "stderr", "stdout")`));
  assert.is(
    fails(["--log-outputs", "stdout,stderr"]),
    verify(`--logger=capnslog supports only 1 value in '--log-outputs', got ["stderr" "stdout"]`),
  );
  assert.is(fails(["--logger", "zap", "--log-outputs", "stdout,default"]), verify(`multi logoutput for "default" is not supported yet`));
  // etcd panics on an unknown level (exit status 2).
  assert.is(err(["--log-level", "WARN"]).exitCode, 2);
});

test("flags etcd-ts does not act on are accepted and warned about when they change behaviour", () => {
  const r = ok(["--cert-file", "server.crt", "--auth-token", "jwt", "--enable-pprof", "--metrics", "basic"]);
  assert.is(r.config.clientTls.certFile, "server.crt");
  assert.is(r.config.authToken, "jwt");
  assert.ok(r.warnings.some((w) => w.startsWith(`--cert-file="server.crt" has no effect: TLS`)));
  assert.ok(r.warnings.some((w) => w.startsWith(`--auth-token="jwt" has no effect`)));
  assert.ok(r.warnings.some((w) => w.startsWith("--enable-pprof=true has no effect")));
  // At its default value a flag changes nothing, so no warning.
  assert.ok(!r.warnings.some((w) => w.startsWith("--metrics")));
  const tls = ok(["--listen-peer-urls", "https://127.0.0.1:2380"]);
  assert.ok(tls.warnings.some((w) => w.includes("https://127.0.0.1:2380 needs TLS")));
  const peer = cfg(["--peer-cert-file", "p.crt", "--peer-key-file", "p.key", "--peer-client-cert-auth", "--peer-cert-allowed-cn", "cn"]);
  assert.equal(peer.peerTls, {
    certFile: "p.crt",
    keyFile: "p.key",
    trustedCaFile: "",
    crlFile: "",
    clientCertAuth: true,
    autoTls: false,
    allowedHostname: "",
    allowedCn: "cn",
  });
  assert.ok(ok(["--experimental-initial-corrupt-check"]).warnings.some((w) => w.startsWith("--experimental-initial-corrupt-check=true")));
});

test("pre-v3 flags are accepted and ignored with etcd's warning", () => {
  const r = ok(["--v", "--cluster-active-size=5"]);
  assert.ok(r.warnings.includes(`flag "-v" is no longer supported - ignoring.`));
  assert.ok(r.warnings.includes(`flag "-cluster-active-size" is no longer supported - ignoring.`));
});

test("every etcd 3.4 member flag is accepted", () => {
  const argv = [
    ...LOCAL,
    "--wal-dir=/w",
    "--max-snapshots=1",
    "--max-wals=2",
    "--backend-batch-interval=10ms",
    "--backend-batch-limit=5",
    "--max-txn-ops=10",
    "--max-request-bytes=10",
    "--grpc-keepalive-interval=1s",
    "--grpc-keepalive-timeout=1s",
    "--initial-cluster-token=tok",
    "--discovery-proxy=",
    "--strict-reconfig-check=false",
    "--pre-vote",
    "--enable-grpc-gateway=false",
    "--client-cert-auth=false",
    "--client-crl-file=",
    "--client-cert-allowed-hostname=",
    "--trusted-ca-file=",
    "--auto-tls=false",
    "--peer-trusted-ca-file=",
    "--peer-cert-allowed-hostname=",
    "--peer-auto-tls=false",
    "--peer-crl-file=",
    "--cipher-suites=",
    "--host-whitelist=a,b",
    "--bcrypt-cost=10",
    "--auth-token-ttl=300",
    "--proxy-failure-wait=1",
    "--proxy-refresh-interval=2",
    "--proxy-dial-timeout=3",
    "--proxy-write-timeout=4",
    "--proxy-read-timeout=5",
    "--experimental-enable-v2v3=",
    "--experimental-backend-bbolt-freelist-type=array",
    "--experimental-enable-lease-checkpoint=false",
    "--experimental-enable-lease-checkpoint-persist=false",
    "--experimental-compaction-batch-limit=1000",
    "--experimental-peer-skip-client-san-verification=false",
    "--experimental-warning-apply-duration=100ms",
    "--unsafe-no-fsync=false",
    "--log-package-levels=",
    "--log-output=default",
    "--initial-election-tick-advance=false",
  ];
  const c = cfg(argv);
  assert.is(c.walDir, "/w");
  assert.is(c.backendBatchIntervalMs, 10);
  assert.equal(c.hostWhitelist, ["a", "b"]);
  assert.is(c.proxyReadTimeoutMs, 5);
  assert.is(c.initialElectionTickAdvance, false);
  assert.is(c.enableGrpcGateway, false);
  assert.is(c.strictReconfigCheck, false);
  assert.is(c.preVote, true);
  assert.is(c.initialClusterToken, "tok");
});

test.run();
