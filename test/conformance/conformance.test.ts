// Runs every conformance case against one member per target: our member on Node, Bun and
// Deno, and real etcd 3.4.23 when it is installed.
//
//   npx tsc -p tsconfig.json && node dist/test/conformance/conformance.test.js
//   TARGETS=etcd node dist/test/conformance/conformance.test.js      (comma list; default node,bun,deno,etcd)
//   CASES='watch:' TARGETS=etcd node dist/...                          (regular expression over case names)
//
// A target that cannot start fails every one of its cases (with the start error and the
// member's output). etcd that is not installed is skipped, never counted as passed.
import { suite } from "uvu";
import { cases, prefixFor } from "./cases.ts";
import { Ctx } from "./context.ts";
import type { TargetEnv } from "./context.ts";
import { etcdInstalled, parseTargets, startMember } from "../support/processes.ts";
import type { Member, TargetName } from "../support/processes.ts";
import { withTimeout } from "../support/http.ts";

const targets = parseTargets(process.env.TARGETS);
const filter = process.env.CASES ? new RegExp(process.env.CASES) : null;
const selected = cases.map((c, i) => ({ ...c, prefix: prefixFor(c.name, i) })).filter((c) => filter === null || filter.test(c.name));

async function describeTarget(m: Member): Promise<TargetEnv> {
  const r = await fetch(m.clientURL + "/v2/keys/");
  await r.text();
  const clusterId = r.headers.get("x-etcd-cluster-id");
  if (clusterId === null) throw new Error(`${m.describe()}: GET /v2/keys/ has no X-Etcd-Cluster-Id (status ${r.status})`);
  const mr = await fetch(m.clientURL + "/v2/members");
  const mt = await mr.text();
  let memberId = "";
  try {
    const members = JSON.parse(mt).members as Array<{ id: string; name: string }>;
    memberId = members.find((x) => x.name === m.name)?.id ?? "";
  } catch {
    throw new Error(`${m.describe()}: GET /v2/members is not JSON: ${mt.slice(0, 300)}`);
  }
  if (memberId === "") throw new Error(`${m.describe()}: GET /v2/members does not list ${m.name}: ${mt.slice(0, 300)}`);
  return {
    target: m.target,
    base: m.clientURL,
    member: { name: m.name, clientURL: m.clientURL, peerURL: m.peerURL },
    clusterId,
    memberId,
  };
}

for (const target of targets) {
  const s = suite(target);
  if (target === "etcd" && !etcdInstalled()) {
    console.log(`etcd not installed: ${selected.length} etcd cases skipped`);
    for (const c of selected) s.skip(`${target}: ${c.name}`, async () => {});
    s.run();
    continue;
  }

  let member: Member | null = null;
  let env: TargetEnv | null = null;
  let startError: Error | null = null;
  let failures = 0;

  s.before(async () => {
    try {
      member = await startMember(target as TargetName);
      env = await describeTarget(member);
    } catch (err) {
      startError = err instanceof Error ? err : new Error(String(err));
      console.error(`\n${target}: the member could not start:\n${startError.message}\n`);
      if (member) await (member as Member).stop();
      member = null;
    }
  });

  s.after(async () => {
    const m = member as Member | null;
    if (m !== null) {
      if (failures > 0) {
        const out = m.output();
        console.error(`\n--- ${target}: ${failures} case(s) failed; last member output:\n${out.slice(-6000)}\n---`);
      }
      await m.stop();
    }
  });

  for (const c of selected) {
    s(`${target}: ${c.name}`, async () => {
      if (startError !== null) throw new Error(`${target} did not start: ${startError.message.split("\n")[0]}`);
      if (env === null) throw new Error(`${target}: no member`);
      const ctx = new Ctx(env, c.prefix);
      try {
        const limit = c.timeoutMs ?? 20_000;
        await withTimeout(c.fn(ctx), limit, `case timed out after ${limit} ms`);
      } catch (err) {
        failures++;
        const m = member as Member | null;
        if (m !== null && !m.running) {
          throw new Error(`${err instanceof Error ? err.message : String(err)}\n${target} member is no longer running:\n${m.output().slice(-3000)}`);
        }
        throw err;
      } finally {
        await ctx.cleanup();
      }
    });
  }
  s.run();
}
