// The simulator's scheduler and runtime alone: event order, microtasks drained between
// events, determinism (same seed, same trace digest), the SimRuntime's clock, timers, kill
// and pause, and a disk whose syncs take time so that a crash can fall between an append
// and its fsync.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/sim/scheduler.test.js
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryFileSystem } from "../../../core/fs/memory.ts";
import { EPOCH, SimClock, SimRuntime } from "../../sim/runtime.ts";
import { Rng, Scheduler, Trace } from "../../sim/scheduler.ts";

test("events run in (time, insertion) order; the clock reads each event's time; cancelled events never run", async () => {
  const s = new Scheduler(1);
  const seen: string[] = [];
  s.at(30, () => seen.push(`c@${s.now}`));
  s.at(10, () => seen.push(`a@${s.now}`));
  s.at(10, () => seen.push(`b@${s.now}`));
  const t = s.at(20, () => seen.push("cancelled"));
  t.cancel();
  s.after(5, () => s.after(0, () => seen.push(`nested@${s.now}`)));
  const how = await s.run({ until: 100 });
  assert.equal(seen, ["nested@5", "a@10", "b@10", "c@30"]);
  assert.is(how, "idle");
});

test("run stops before events later than `until` and leaves them queued", async () => {
  const s = new Scheduler(1);
  const seen: number[] = [];
  for (const t of [10, 20, 30]) s.at(t, () => seen.push(t));
  assert.is(await s.run({ until: 25 }), "until");
  assert.equal(seen, [10, 20]);
  assert.is(s.now, 25);
  await s.run({ until: 100 });
  assert.equal(seen, [10, 20, 30]);
});

test("promise chains started by an event finish before the next event (microtasks are drained)", async () => {
  const s = new Scheduler(1);
  const seen: string[] = [];
  const deep = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await Promise.resolve();
  };
  s.at(1, () => {
    void deep(500).then(() => seen.push("chain done"));
    // A Web stream read resolves within microtasks too.
    void new Response("body").text().then((t) => seen.push(`read ${t}`));
  });
  s.at(1, () => seen.push("second event"));
  await s.run({ until: 10 });
  assert.equal([...seen.slice(0, 2)].sort(), ["chain done", "read body"]);
  assert.is(seen[2], "second event");
});

test("a throwing event is recorded and the run goes on", async () => {
  const s = new Scheduler(1);
  let after = false;
  s.at(1, () => {
    throw new Error("boom");
  }, "bad");
  s.at(2, () => (after = true));
  await s.run({ until: 10 });
  assert.is(s.errors.length, 1);
  assert.is(s.errors[0]!.label, "bad");
  assert.ok(after);
});

test("stop() is checked after every event", async () => {
  const s = new Scheduler(1);
  let n = 0;
  for (let i = 1; i <= 10; i++) s.at(i, () => n++);
  assert.is(await s.run({ until: 100, stop: () => n === 3 }), "stopped");
  assert.is(n, 3);
});

async function randomRun(seed: number): Promise<string> {
  const s = new Scheduler(seed, new Trace(10));
  const r = s.rng;
  // A little random system: processes that sleep random times, send to each other, and await.
  for (let p = 0; p < 5; p++) {
    const loop = (): void => {
      if (s.now > 5000) return;
      const peer = r.int(0, 4);
      void Promise.resolve().then(() => s.log(`p${p} → p${peer}`));
      s.after(r.exp(50), loop, `p${p}`);
    };
    s.after(r.range(0, 10), loop);
  }
  await s.run({ until: 10_000 });
  return `${s.trace.digest()} ${s.events}`;
}

test("the same seed gives the same run (trace digest), another seed another one", async () => {
  const a = await randomRun(7);
  const b = await randomRun(7);
  const c = await randomRun(8);
  assert.is(a, b);
  assert.is.not(a, c);
});

test("Rng: ranges, picks and forks are reproducible", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 100 }, () => a.int(1, 6));
  const ys = Array.from({ length: 100 }, () => b.int(1, 6));
  assert.equal(xs, ys);
  assert.ok(xs.every((x) => x >= 1 && x <= 6));
  assert.ok(new Set(xs).size === 6);
  assert.is(new Rng(42).fork("x").next(), new Rng(42).fork("x").next());
  assert.is.not(new Rng(42).fork("x").next(), new Rng(42).fork("y").next());
  assert.is(new Rng(1).weighted([["a", 0], ["b", 1]]), "b");
});

function runtime(s: Scheduler, clock = new SimClock(), latency?: { min: number; max: number; slowChance: number; slowMs: number }): SimRuntime {
  return new SimRuntime(s, { node: "n1", disk: new MemoryFileSystem(), clock, rng: new Rng(1), latency });
}

test("SimRuntime: wall clock with offset, drift and jumps; monotonic; timers in the machine's time", async () => {
  const s = new Scheduler(1);
  const rt = runtime(s, new SimClock(0.01, 500, 1000));
  assert.is(rt.now(), EPOCH + 500);
  assert.is(rt.monotonic(), 1000);
  let firedAt = -1;
  rt.setTimer(101, () => (firedAt = s.now));
  await s.run({ until: 1000 });
  // 101 ms of a clock running 1 % fast take 100 ms of virtual time.
  assert.ok(Math.abs(firedAt - 100) < 1e-9, `fired at ${firedAt}`);
  rt.clock.jump(-2000);
  assert.ok(Math.abs(rt.now() - (EPOCH + 1000 * 1.01 + 500 - 2000)) < 1e-6);
  assert.ok(Math.abs(rt.monotonic() - (1000 + 1010)) < 1e-6, "a jump leaves the monotonic clock alone");
});

test("SimRuntime: a killed process runs no timer again; a paused one runs them on resume, in order", async () => {
  const s = new Scheduler(1);
  const a = runtime(s);
  const b = runtime(s);
  const seen: string[] = [];
  a.setTimer(10, () => seen.push("a10"));
  b.setTimer(10, () => seen.push("b10"));
  b.setTimer(20, () => seen.push("b20"));
  s.at(5, () => {
    a.kill();
    b.pause();
  });
  s.at(50, () => b.resume());
  await s.run({ until: 100 });
  assert.equal(seen, ["b10", "b20"]);
  assert.ok(!a.isAlive);
  a.setTimer(1, () => seen.push("after kill"));
  await s.run({ until: 200 });
  assert.equal(seen, ["b10", "b20"]);
});

test("SimRuntime: fetch, serve and resolveSrv are not used in simulation", async () => {
  const rt = runtime(new Scheduler(1));
  let failed = false;
  await rt.fetch(new Request("http://x/")).catch(() => (failed = true));
  assert.ok(failed);
  assert.throws(() => rt.serve({ hostname: "x", port: 1 }, () => new Response()));
});

test("SimRuntime log lines go into the trace with the member's name", () => {
  const s = new Scheduler(1);
  const rt = runtime(s);
  rt.log.info("hello", { a: 1 });
  rt.log.debug("not traced");
  const lines = s.trace.tail().map((l) => l.text);
  assert.equal(lines, ['n1 hello {"a":1}']);
  assert.is(rt.logCounts.debug, 1);
});

test("SimDisk: a crash between an append and its (slow) fsync loses the append; after the fsync it survives", async () => {
  const s = new Scheduler(1);
  const rt = runtime(s, new SimClock(), { min: 5, max: 5, slowChance: 0, slowMs: 0 });
  await rt.fs.mkdir("/d");
  await rt.disk.syncDir("/");
  const h = await rt.fs.openAppend("/d/f");
  await rt.disk.syncDir("/d");
  let synced = false;
  s.at(1, () => {
    void (async () => {
      await h.append(new Uint8Array([1, 2, 3]));
      await h.sync();
      synced = true;
    })();
  });
  let before: MemoryFileSystem | null = null;
  s.at(3, () => (before = rt.disk.crash()));
  await s.run({ until: 100 });
  assert.ok(synced);
  assert.is((await before!.readFile("/d/f")).length, 0, "mid-fsync crash: the append is gone");
  assert.is((await rt.disk.crash().readFile("/d/f")).length, 3, "after the fsync it is durable");
});

test.run();
