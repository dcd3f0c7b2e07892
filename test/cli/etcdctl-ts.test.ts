// etcdctl-ts on its own (no real etcd needed): the same commands on Node, Bun and Deno give
// the same output; backup → --force-new-cluster restore round trip; lock and elect; and the
// argument parser's Go/urfave-cli rules.
//
//   npx tsc -p tsconfig.json && node dist/test/cli/etcdctl-ts.test.js
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { parseFlags, parseGoDuration, parseGoInt, reorderArgs } from "../../cli/flags.ts";
import type { FlagDef } from "../../cli/flags.ts";
import { goJSONString } from "../../cli/format.ts";
import { freePorts, startMember, tempDir } from "../support/processes.ts";
import type { Member } from "../support/processes.ts";
import { runCli, startCli } from "./support.ts";

const test = suite("etcdctl-ts");
let m: Member;

test.before(async () => {
  m = await startMember("node");
});
test.after(async () => {
  await m?.stop();
});

test("parser: Go flag and urfave/cli reordering rules", () => {
  const defs: FlagDef[] = [
    { names: ["ttl"], kind: "int", usage: "" },
    { names: ["recursive", "r"], kind: "bool", usage: "" },
    { names: ["help", "h"], kind: "bool", usage: "" },
  ];
  const p = parseFlags(defs, reorderArgs(defs, ["/k", "v", "--ttl", "5", "-r"]));
  assert.equal(p.args, ["/k", "v"]);
  assert.is(p.values.get("ttl"), 5);
  assert.is(p.values.get("recursive"), true);
  assert.equal(parseFlags(defs, reorderArgs(defs, ["/k", "--", "-x"])).args, ["/k", "--", "-x"]);
  assert.equal(parseFlags(defs, reorderArgs(defs, ["--", "/k", "--ttl"])).args, ["/k", "--ttl"]);
  assert.equal(parseFlags(defs, reorderArgs(defs, ["/k", "--bogus"])).args, ["/k", "--bogus"]);
  assert.throws(() => parseFlags(defs, ["--bogus"]), /flag provided but not defined: -bogus/);
  assert.throws(() => parseFlags(defs, ["--ttl", "x"]), /invalid value "x" for flag -ttl: parse error/);
  assert.throws(() => parseFlags(defs, ["-r=maybe"]), /invalid boolean value "maybe" for -r: parse error/);
  assert.throws(() => parseFlags(defs, ["--ttl"]), /flag needs an argument: -ttl/);
  assert.is(parseFlags(defs, ["-ttl=0x10"]).values.get("ttl"), 16);
  assert.equal(parseGoInt("99999999999999999999"), { error: "value out of range" });
  assert.is(parseGoDuration("1m30s"), 90_000);
  assert.is(parseGoDuration("1.5s"), 1500);
  assert.is(parseGoDuration("5"), null);
  assert.is(goJSONString("a<b>&\u2028\b\"\\"), '"a\\u003cb\\u003e\\u0026\\u2028\\u0008\\"\\\\"');
});

test("Bun and Deno print what Node prints", () => {
  const ep = { endpoints: m.clientURL };
  runCli("node", ["set", "/rt/a", "1"], ep);
  const cases = [
    ["get", "/rt/a"], ["-o", "json", "get", "/rt/a"], ["-o", "extended", "get", "/rt/a"], ["ls", "--sort", "-r", "/rt"], ["get", "/rt/none"],
    ["member", "list"], ["cluster-health"], ["help", "set"], ["get"], ["-v"],
  ];
  for (const args of cases) {
    const want = runCli("node", args, ep);
    for (const cli of ["bun", "deno"] as const) {
      const got = runCli(cli, args, ep);
      assert.equal(got, want, `${cli}: etcdctl-ts ${args.join(" ")}`);
    }
  }
  for (const cli of ["bun", "deno"] as const) {
    const w = runCli(cli, ["set", `/rt/${cli}`, cli], ep);
    assert.equal(w, { stdout: `${cli}\n`, stderr: "", code: 0 });
  }
  assert.is(runCli("node", ["get", "/rt/deno"], ep).stdout, "deno\n");
});

test("backup, then --force-new-cluster starts from it with the data", async () => {
  const ep = { endpoints: m.clientURL };
  for (let i = 0; i < 20; i++) runCli("node", ["set", `/bk/k${i}`, `v${i}`], ep);
  runCli("node", ["mkdir", "/bk/dir"], ep);
  const dir = join(tempDir("etcdctl-ts-backup-"), "backup");
  const r = runCli("node", ["backup", "--data-dir", m.dataDir, "--backup-dir", dir]);
  assert.equal(r, { stdout: "", stderr: "", code: 0 }, "backup of a running member");
  const [clientPort, peerPort] = await freePorts(2);
  const restored = await startMember("node", { name: "restored", dataDir: dir, clientPort: clientPort!, peerPort: peerPort!, extraArgs: ["--force-new-cluster"] });
  try {
    const rep = { endpoints: restored.clientURL };
    assert.is(runCli("node", ["get", "/bk/k7"], rep).stdout, "v7\n");
    assert.is(runCli("node", ["ls", "--sort", "/bk"], rep).stdout.split("\n").filter(Boolean).length, 21);
    // It is a cluster of its own: writable, one member, and not the original cluster.
    assert.equal(runCli("node", ["set", "/bk/after", "x"], rep), { stdout: "x\n", stderr: "", code: 0 });
    assert.is(runCli("node", ["member", "list"], rep).stdout.trim().split("\n").length, 1);
    const idOf = async (u: string) => (await fetch(`${u}/v2/keys/`)).headers.get("x-etcd-cluster-id");
    assert.is.not(await idOf(restored.clientURL), await idOf(m.clientURL));
    assert.is(runCli("node", ["get", "/bk/after"], ep).code, 4, "the original cluster does not see the restored one's writes");
  } finally {
    await restored.stop();
  }
  const bad = runCli("node", ["backup", "--data-dir", join(dir, "nope"), "--backup-dir", join(dir, "x")]);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /no segments/);
});

test("lock and elect (etcd-ts extensions)", async () => {
  const ep = { endpoints: m.clientURL };
  const first = startCli("node", ["lock", "--ttl", "5", "job"], ep);
  assert.ok(await first.waitFor("/locks/job\n"), "first holder prints the lock key");
  const second = startCli("node", ["lock", "--ttl", "5", "job", "sh", "-c", 'echo "held $ETCD_LOCK_KEY"; exit 3'], ep);
  await new Promise((r) => setTimeout(r, 700));
  assert.not.match(second.stdout, /held/, "second waits while the lock is held");
  const r1 = await first.stop("SIGINT");
  assert.is(r1.code, 0);
  const c2 = await second.exited;
  assert.is(c2, 3, "lock exits with the command's status");
  assert.match(second.stdout, /held \/locks\/job/);
  assert.is(runCli("node", ["get", "/locks/job"], ep).code, 4, "released");

  const leader = startCli("node", ["elect", "--ttl", "5", "web", "alpha"], ep);
  assert.ok(await leader.waitFor("alpha\n"));
  const watcher = startCli("node", ["elect", "-l", "web"], ep);
  assert.ok(await watcher.waitFor("alpha\n"));
  const follower = startCli("node", ["elect", "--ttl", "5", "web", "beta"], ep);
  await new Promise((r) => setTimeout(r, 500));
  assert.is(follower.stdout, "");
  assert.is((await leader.stop("SIGINT")).code, 0);
  assert.ok(await follower.waitFor("/elections/web\nbeta\n"), "the next candidate is elected after the leader resigns");
  assert.ok(await watcher.waitFor("beta\n"));
  await follower.stop("SIGINT");
  await watcher.stop("SIGINT");
  const noProposal = runCli("node", ["elect", "web"], ep);
  assert.equal(noProposal, { stdout: "", stderr: "Error:  no proposal argument but -l not set\n", code: 1 });
});

test.run();
