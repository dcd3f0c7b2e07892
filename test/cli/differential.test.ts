// Differential test of etcdctl-ts against etcdctl 3.4 in v2 mode: the same command list runs
// through `ETCDCTL_API=2 etcdctl` against real etcd and through etcdctl-ts (Node) against an
// etcd-ts member, and stdout, stderr and the exit code must be the same after masking URLs,
// member IDs, expiration times and TTL seconds. Also watch (in the background) and the help
// and usage-error texts. Skipped (reported as skipped) when etcd or etcdctl is missing.
//
//   npx tsc -p tsconfig.json && node dist/test/cli/differential.test.js
import { suite } from "uvu";
import { etcdInstalled, freePorts, startMember } from "../support/processes.ts";
import type { Member } from "../support/processes.ts";
import { etcdctlInstalled, mask, memberId, runCli, startCli } from "./support.ts";
import type { Cli, CliResult } from "./support.ts";

interface Case {
  args: string[];
  input?: string;
  /** Run against endpoints where nothing listens. */
  dead?: 1 | 2;
  /** Compare stdout's lines as a set (ls without --sort: etcd lists in map order). */
  unordered?: boolean;
}

const c = (...args: string[]): Case => ({ args });

/** Commands that talk to no server: help, versions and usage errors. */
export const HELP_CASES: Case[] = [
  c(), c("help"), c("h"), c("--help"), c("-h"), c("-v"), c("--version"), c("--version", "x"),
  c("foo"), c("help", "foo"), c("help", "h"), c("help", "help"),
  ...["backup", "cluster-health", "mk", "mkdir", "rm", "rmdir", "get", "ls", "set", "setdir", "update", "updatedir", "watch", "exec-watch", "member", "user", "role", "auth"]
    .map((n) => c("help", n)),
  c("get", "--help"), c("set", "-h"), c("ls", "/x", "--help"), c("member", "--help"),
  c("member"), c("member", "help"), c("member", "help", "list"), c("member", "list", "--help"), c("member", "foo"), c("member", "help", "foo"),
  c("--bogus", "get", "/a"), c("get", "--bogus", "/a"), c("set", "--ttl", "abc", "/x", "y"), c("--timeout", "abc", "get", "/x"),
  c("get", "--sort=maybe", "/x"), c("set", "--ttl"), c("-o"), c("member", "list", "--bogus"), c("---x"),
];

/** The scripted session (state carries over from one case to the next). */
export const KEY_CASES: Case[] = [
  c("set", "/foo", "bar"), c("get", "/foo"), c("get", "/nokey"), c("get"), c("-o", "extended", "get", "/foo"), c("-o", "json", "get", "/foo"),
  c("-o", "json", "set", "/foo", "baz"), c("-o", "extended", "set", "/foo", "q"), { args: ["set", "/foo"] }, { args: ["set", "/stdin"], input: "from stdin" },
  c("get", "/stdin"), c("mk", "/foo", "x"), c("mk", "/foo"), c("mk", "/new", "1"), c("-o", "json", "mk", "--in-order", "/q", "v"), c("-o", "extended", "mk", "--in-order", "/q", "w"),
  c("set", "--ttl", "100", "/t", "v"), c("-o", "extended", "get", "/t"), c("-o", "json", "get", "/t"),
  c("mkdir", "/d"), c("mkdir", "/d"), c("-o", "json", "mkdir", "/d2"), c("-o", "extended", "mkdir", "/d3"), c("get", "/d"), c("-o", "json", "get", "/d"),
  c("set", "/d/a", "1"), c("set", "/d/b/c", "2"),
  { args: ["ls"], unordered: true }, c("ls", "--sort"), c("ls", "-r", "--sort", "-p"), c("ls", "--sort", "-p", "/d"), c("ls", "/foo"), c("ls", "/nokey"),
  c("-o", "json", "ls", "--sort", "/d"), c("-o", "extended", "ls", "--sort", "/d"), c("-o", "json", "ls", "--sort", "-r", "/"), c("-o", "extended", "ls", "/foo"),
  c("update", "/nokey", "v"), c("update", "/foo", "v2"), c("-o", "json", "update", "/foo", "v3"), c("update", "--ttl", "50", "/foo", "v4"),
  c("updatedir", "/d"), c("-o", "json", "updatedir", "/d"), c("-o", "extended", "updatedir", "--ttl", "50", "/d2"), c("updatedir", "/nodir"),
  c("setdir", "/sd"), c("setdir", "/sd"), c("-o", "json", "setdir", "/sd2"), c("-o", "extended", "setdir", "/sd3"),
  c("set", "--swap-with-value", "nope", "/new", "x"), c("set", "--swap-with-index", "1", "/new", "x"), c("set", "--swap-with-value", "1", "/new", "2"),
  c("-o", "json", "set", "--swap-with-index", "999", "/new", "y"),
  c("rm", "/d"), c("rm", "/new"), c("rm", "/new"), c("-o", "json", "rm", "/d/a"), c("rm", "/d/b"), c("rm", "-r", "/d"), c("-o", "extended", "rmdir", "/d2"),
  c("rm", "--dir", "/sd"), c("rmdir", "/nokey"), c("rmdir", "/sd2"), c("-o", "json", "rm", "-r", "/sd3"),
  c("set", "/w", "1"), c("rm", "--with-value", "2", "/w"), c("rm", "--with-index", "1", "/w"), c("-o", "extended", "rm", "--with-value", "1", "/w"),
  c("set", "--", "/dash", "-x"), c("get", "/dash"), c("set", "/a", "b", "--ttl", "5"), c("set", "/a", "--ttl", "5", "b2"), c("get", "/a", "--sort"),
  c("get", "/a", "-o", "json"), c("get", "/a", "--bogus"), c("get", "--", "/a"), c("-o=json", "get", "/a"), c("-output", "extended", "get", "/a"),
  c("-o", "xml", "set", "/x", "y"), c("-o", "xml", "get", "/x"), c("--no-sync", "get", "/a"), c("--no-sync=true", "get", "/a"),
  c("--debug", "--no-sync", "get", "/a"), c("--debug", "get", "/a"), c("--debug", "--no-sync", "set", "--ttl", "5", "--swap-with-value", "b2", "/a", "c"),
  c("--debug", "--no-sync", "mkdir", "/dbg"), c("--debug", "--no-sync", "rm", "-r", "/dbg"), c("--debug", "--no-sync", "ls", "-r", "--sort", "-q", "/q"),
  c("get", "-q", "/a"), c("--timeout", "3s", "--total-timeout", "10s", "get", "/a"), c("set", "/a/b", "x"), c("mkdir", "/a"), c("set", "/", "x"), c("rm", "/"),
  c("member", "list"), c("member", "list", "x"), c("member", "add"), c("member", "remove"), c("member", "remove", "nope"), c("member", "remove", "n1"),
  c("member", "update"), c("member", "update", "abc", "http://x"), c("member", "add", "n2", "bad"), c("member", "add", "n2", "http://127.0.0.1:1/path"),
  c("--debug", "member", "list"), c("cluster-health"), c("cluster-health", "extra"),
  // Nothing listens there.
  { args: ["get", "/foo"], dead: 1 }, { args: ["--no-sync", "get", "/foo"], dead: 1 }, { args: ["--no-sync", "get", "/foo"], dead: 2 },
  { args: ["member", "list"], dead: 1 }, { args: ["--no-sync", "member", "list"], dead: 1 }, { args: ["cluster-health"], dead: 1 },
  { args: ["get"], dead: 1 }, { args: ["set", "/x", "y"], dead: 2 },
];

interface Side {
  cli: Cli;
  m: Member;
  id: string;
}

function render(r: CliResult, side: Side, k: Case): string {
  let out = mask(r.stdout, { clientURL: side.m.clientURL, peerURL: side.m.peerURL, id: side.id });
  if (k.unordered) out = out.split("\n").sort().join("\n");
  let err = mask(r.stderr, { clientURL: side.m.clientURL, peerURL: side.m.peerURL, id: side.id });
  // etcdctl shuffles its endpoints: with two dead ones, either may come first.
  for (const p of dead) err = err.split(`127.0.0.1:${p}`).join("127.0.0.1:<dead>");
  return `exit ${r.code}\n[stdout]\n${out}[stderr]\n${err}`;
}

/** Ports where nothing listens (not 1 or 2: fetch refuses those "bad ports" before dialing). */
let dead: number[] = [];

function runCase(side: Side, k: Case): CliResult {
  const endpoints = k.dead === 1 ? `http://127.0.0.1:${dead[0]}` : k.dead === 2 ? `http://127.0.0.1:${dead[0]},http://127.0.0.1:${dead[1]}` : side.m.clientURL;
  return runCli(side.cli, k.args, { endpoints, ...(k.input !== undefined ? { input: k.input } : {}) });
}

function compare(cases: Case[], a: Side, b: Side): string[] {
  const diffs: string[] = [];
  for (const k of cases) {
    const ra = render(runCase(a, k), a, k);
    const rb = render(runCase(b, k), b, k);
    if (ra !== rb) {
      let i = 0;
      while (i < ra.length && ra[i] === rb[i]) i++;
      const at = `first difference at ${i}: ${JSON.stringify(ra.slice(Math.max(0, i - 40), i + 40))} vs ${JSON.stringify(rb.slice(Math.max(0, i - 40), i + 40))}`;
      diffs.push(`$ etcdctl ${k.args.join(" ")}\n${at}\n--- etcdctl/etcd:\n${ra}\n--- etcdctl-ts/etcd-ts:\n${rb}`);
    }
  }
  return diffs;
}

const test = suite("etcdctl-ts differential");

if (!etcdInstalled() || !etcdctlInstalled()) {
  console.log("etcd or etcdctl not installed: the etcdctl-ts differential cases were skipped");
  test.skip("help and usage texts", async () => {});
  test.skip("keys, member and cluster-health commands", async () => {});
  test.skip("watch", async () => {});
  test.run();
} else {
  let a: Side;
  let b: Side;

  test.before(async () => {
    dead = await freePorts(2);
    const [ma, mb] = await Promise.all([startMember("etcd"), startMember("node")]);
    a = { cli: "etcdctl", m: ma, id: await memberId(ma) };
    b = { cli: "node", m: mb, id: await memberId(mb) };
  });

  test.after(async () => {
    await Promise.all([a?.m.stop(), b?.m.stop()]);
  });

  test("help and usage texts", () => {
    const diffs = compare(HELP_CASES, a, b);
    if (diffs.length) throw new Error(`${diffs.length} of ${HELP_CASES.length} differ:\n\n${diffs.join("\n\n")}`);
  });

  test("keys, member and cluster-health commands", () => {
    const diffs = compare(KEY_CASES, a, b);
    if (diffs.length) throw new Error(`${diffs.length} of ${KEY_CASES.length} differ:\n\n${diffs.join("\n\n")}`);
  });

  test("watch", async () => {
    const out: Record<string, string> = {};
    for (const side of [a, b]) {
      const ep = { endpoints: side.m.clientURL };
      runCli(side.cli, ["mkdir", "/wd"], ep);
      const w1 = startCli(side.cli, ["watch", "-r", "/wd"], ep);
      const w2 = startCli(side.cli, ["-o", "json", "watch", "/wd/a"], ep);
      const w3 = startCli(side.cli, ["-o", "extended", "watch", "-f", "-r", "/wd"], ep);
      const w4 = startCli(side.cli, ["exec-watch", "-r", "/wd", "--", "sh", "-c", 'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE"'], ep);
      await new Promise((r) => setTimeout(r, 1500));
      for (const args of [["set", "/wd/a", "1"], ["mkdir", "/wd/sub"], ["set", "/wd/a", "2"], ["rm", "/wd/a"]]) {
        runCli(side.cli, args, ep);
        await new Promise((r) => setTimeout(r, 150));
      }
      await w3.waitFor("[delete]");
      await new Promise((r) => setTimeout(r, 500));
      const after = runCli(side.cli, ["watch", "--after-index", "1", "/wd/a"], ep);
      const results = [await w1.exited.then(() => w1.stop()), await w2.exited.then(() => w2.stop()), await w3.stop(), await w4.stop()];
      // Index: of a watch answer is the store index when the watch was registered: timing.
      out[side.cli] = [...results, after].map((r) => render(r, side, { args: [] }).replace(/^Index: \d+$/gm, "Index: <n>")).join("\n====\n");
    }
    if (out.etcdctl !== out.node) throw new Error(`watch output differs:\n--- etcdctl:\n${out.etcdctl}\n--- etcdctl-ts:\n${out.node}`);
  });

  test.run();
}
