// The simulated cluster alone, without faults or checkers: three real members bootstrap over
// SimTransport and elect a leader; a write through one member's client app is read back
// through another's; a crashed member restarts from its disk and catches up; the leader's
// isolation leads to a new leader; a member joins through POST /v2/members.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/sim/cluster.test.js
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimCluster, type Slot } from "../../sim/cluster.ts";
import { installSimEnv } from "../../sim/env.ts";
import { DEFAULT_NET, Network } from "../../sim/network.ts";
import { appliedIndex, raftStatus } from "../../sim/probe.ts";
import { Scheduler } from "../../sim/scheduler.ts";

function setup(seed = 11) {
  const env = installSimEnv(seed);
  const s = new Scheduler(seed);
  const net = new Network(s, s.rng.fork("net"), { ...DEFAULT_NET, drop: 0, dup: 0 });
  const c = new SimCluster(s, net, s.rng.fork("cluster"), {
    size: 3, snapshotCount: 1000, heartbeatMs: 100, electionMs: 1000, clockSkewMs: 0, driftMax: 0,
  });
  s.at(0, () => void c.bootstrap());
  return { s, net, c, done: () => { c.shutdown(); s.clear(); env.restore(); } };
}

async function call(s: Scheduler, c: SimCluster, slot: Slot, req: Request): Promise<{ status: number; body: string } | null> {
  let out: { status: number; body: string } | null | undefined;
  s.at(s.now, () => void c.request(slot, req, 5000).then((r) => (out = r)));
  await s.run({ until: s.now + 6000, stop: () => out !== undefined });
  return out ?? null;
}

test("three members elect a leader; a write through one is read back (quorum) through another", async () => {
  const { s, c, done } = setup();
  try {
    await s.run({ until: 3000 });
    const leader = c.leader();
    assert.ok(leader, "a leader");
    assert.is(c.live().length, 3);
    const [a, b] = c.live();
    const put = await call(s, c, a!, new Request(`${a!.clientURL}/v2/keys/x`, { method: "PUT", body: "value=1", headers: { "Content-Type": "application/x-www-form-urlencoded" } }));
    assert.is(put?.status, 201, put?.body);
    const get = await call(s, c, b!, new Request(`${b!.clientURL}/v2/keys/x?quorum=true`));
    assert.is(get?.status, 200);
    assert.is(JSON.parse(get!.body).node.value, "1");
  } finally {
    done();
  }
});

test("a crashed member restarts from its disk and catches up; an isolated leader is replaced", async () => {
  const { s, net, c, done } = setup(12);
  try {
    await s.run({ until: 3000 });
    const follower = c.live().find((x) => x !== c.leader())!;
    c.crash(follower, true);
    const writer = c.leader()!;
    for (let i = 0; i < 5; i++) {
      const r = await call(s, c, writer, new Request(`${writer.clientURL}/v2/keys/k${i}`, { method: "PUT", body: `value=${i}`, headers: { "Content-Type": "application/x-www-form-urlencoded" } }));
      assert.is(r?.status, 201);
    }
    s.at(s.now, () => void c.start(follower));
    await s.run({ until: s.now + 3000 });
    assert.ok(follower.live);
    assert.is(appliedIndex(follower.member!), appliedIndex(writer.member!));
    const old = c.leader()!;
    const term = raftStatus(old.member!).hardState.term;
    net.isolate(old.memberId, c.ids());
    await s.run({ until: s.now + 5000 });
    const next = c.all().filter((x) => x !== old && x.member && raftStatus(x.member).softState.state === "StateLeader");
    assert.is(next.length, 1, "one new leader among the other two");
    assert.ok(raftStatus(next[0]!.member!).hardState.term > term);
  } finally {
    done();
  }
});

test("a member added through POST /v2/members starts and catches up", async () => {
  const { s, c, done } = setup(13);
  try {
    await s.run({ until: 3000 });
    let added: Slot | null | undefined;
    s.at(s.now, () => void c.addMember(c.leader()!, 5000).then((x) => (added = x)));
    await s.run({ until: s.now + 6000, stop: () => added !== undefined });
    assert.ok(added, "added");
    await s.run({ until: s.now + 3000 });
    assert.ok(added!.live);
    assert.is(c.leader()!.member!.members().length, 4);
    assert.is(appliedIndex(added!.member!), appliedIndex(c.leader()!.member!));
  } finally {
    done();
  }
});

test.run();
