// Runtime conformance: the behaviour core/ relies on, checked against a real Runtime. Each
// runtime's entry point (node.test.ts, bun.test.ts, deno.deno.ts) builds its Runtime and a
// fresh temp dir and calls registerRuntimeSuite; the suite removes the temp dir when done.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createLogger } from "../../core/log.ts";
import type { Handler, Listener, Runtime } from "../../core/runtime.ts";
import { makeWallClock } from "../../runtimes/shared/clock.ts";
import { makeSetTimer } from "../../runtimes/shared/timer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const HOST = "127.0.0.1";

export function registerRuntimeSuite(rt: Runtime, tmpDir: string): void {
  fsSuite(rt, tmpDir);
  timeSuite(rt);
  httpSuite(rt);
  streamSuite(rt);
  dnsSuite(rt);
  logSuite(rt);
}

/**
 * Registers a last, empty suite that ends the process shortly after everything ran. A failed
 * streaming test can leave a connection or listener open that would otherwise keep the
 * process alive forever; uvu has already set process.exitCode by then. `schedule` arms a
 * timer that must not itself keep the process alive (unref).
 */
export function exitWhenDone(schedule: (fn: () => void, ms: number) => void, exit: () => void): void {
  const s = suite("exit");
  s.after(() => schedule(exit, 2000));
  s.run();
}

// ---------------------------------------------------------------- helpers

type TestFn = (name: string, fn: () => Promise<void> | void, ms?: number) => void;

/** A uvu suite whose tests fail after `ms` instead of hanging the run. */
function timedSuite(name: string): { test: TestFn; run: () => void; after: (fn: () => Promise<void>) => void } {
  const s = suite(name);
  const test: TestFn = (title, fn, ms = 10_000) =>
    s(title, () => withTimeout(Promise.resolve().then(fn), ms, title));
  return { test, run: () => s.run(), after: (fn) => s.after(fn) };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.is((e as { code?: unknown }).code, code, `error code of: ${String(e)}`);
    return;
  }
  assert.unreachable(`expected rejection with ${code}`);
}

/** Reads until the text received so far equals `want` (chunks may split or merge). */
async function readText(reader: ReadableStreamDefaultReader<Uint8Array>, want: string, ms = 3000): Promise<void> {
  let got = "";
  while (got.length < want.length) {
    const { done, value } = await withTimeout(reader.read(), ms, `waiting for ${JSON.stringify(want)}`);
    if (done) break;
    got += dec.decode(value, { stream: true });
  }
  assert.is(got, want);
}

/** Serves `handler` on a free port and always closes the listener afterwards. */
async function withServer(rt: Runtime, handler: Handler, fn: (base: string, l: Listener) => Promise<void>): Promise<void> {
  const l = await rt.serve({ hostname: HOST, port: 0 }, handler);
  try {
    await fn(`http://${HOST}:${l.port}`, l);
  } finally {
    await withTimeout(l.close(), 5000, "listener.close()");
  }
}

/**
 * A streaming response the test drives by hand: push() enqueues one chunk, end() closes;
 * `cancelled` and `aborted` resolve when the runtime cancels the body or aborts request.signal.
 */
function streamHandler() {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const started = deferred();
  const cancelled = deferred<unknown>();
  const aborted = deferred();
  const handler: Handler = (req) => {
    req.signal.addEventListener("abort", () => aborted.resolve());
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        ctrl = c;
        started.resolve();
      },
      cancel(reason) {
        cancelled.resolve(reason);
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "application/json", "x-stream": "yes" } });
  };
  return {
    handler,
    started: started.promise,
    cancelled: cancelled.promise,
    aborted: aborted.promise,
    push: (s: string) => ctrl.enqueue(enc.encode(s)),
    end: () => ctrl.close(),
  };
}

/**
 * Opens a streaming response and reads its first chunk `first`. The chunk is pushed before
 * waiting for the headers, so tests of other properties do not also depend on the head being
 * sent before any chunk (that has its own test).
 */
async function openStream(
  rt: Runtime,
  s: ReturnType<typeof streamHandler>,
  url: string,
  first: string,
  signal?: AbortSignal,
): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const pending = rt.fetch(new Request(url, { signal }));
  pending.catch(() => {}); // awaited below; do not let an early failure go unhandled
  await s.started;
  s.push(first);
  const res = await withTimeout(pending, 3000, "response head");
  const reader = res.body!.getReader();
  await readText(reader, first);
  return reader;
}

// ---------------------------------------------------------------- fs

function fsSuite(rt: Runtime, tmpDir: string): void {
  const { test, run, after } = timedSuite(`${rt.name}: fs`);
  const fs = rt.fs;
  let n = 0;
  const fresh = async (): Promise<string> => {
    const dir = `${tmpDir}/case${++n}`;
    await fs.mkdir(dir);
    return dir;
  };
  after(() => fs.remove(tmpDir));

  test("mkdir creates parents, is idempotent; list is sorted names", async () => {
    const d = await fresh();
    await fs.mkdir(`${d}/a/b/c`);
    await fs.mkdir(`${d}/a/b/c`);
    assert.ok(await fs.exists(`${d}/a/b/c`));
    for (const name of ["b.wal", "a.wal", "c.snap", "0000.wal"]) await fs.writeFile(`${d}/a/${name}`, enc.encode(name));
    assert.equal(await fs.list(`${d}/a`), ["0000.wal", "a.wal", "b", "b.wal", "c.snap"]);
    assert.equal(await fs.list(`${d}/a/b/c`), []);
  });

  test("missing paths reject with code ENOENT", async () => {
    const d = await fresh();
    await rejectsWithCode(fs.list(`${d}/nope`), "ENOENT");
    await rejectsWithCode(fs.readFile(`${d}/nope`), "ENOENT");
    await rejectsWithCode(fs.size(`${d}/nope`), "ENOENT");
    await rejectsWithCode(fs.rename(`${d}/nope`, `${d}/other`), "ENOENT");
    await rejectsWithCode(fs.truncate(`${d}/nope`, 0), "ENOENT");
    await rejectsWithCode(fs.syncDir(`${d}/nope`), "ENOENT");
    await rejectsWithCode(fs.openAppend(`${d}/nope/x.wal`), "ENOENT");
    assert.is(await fs.exists(`${d}/nope`), false);
  });

  test("writeFile creates and replaces; readFile and size agree", async () => {
    const d = await fresh();
    const p = `${d}/f`;
    await fs.writeFile(p, enc.encode("hello world"));
    assert.is(await fs.size(p), 11);
    await fs.writeFile(p, enc.encode("bye"));
    const back = await fs.readFile(p);
    assert.ok(back instanceof Uint8Array);
    assert.is(dec.decode(back), "bye");
    assert.is(await fs.size(p), 3);
    await fs.writeFile(`${d}/empty`, new Uint8Array(0));
    assert.is((await fs.readFile(`${d}/empty`)).byteLength, 0);
  });

  test("binary content survives a 1 MiB roundtrip", async () => {
    const d = await fresh();
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
    await fs.writeFile(`${d}/big`, data);
    const back = await fs.readFile(`${d}/big`);
    assert.is(back.byteLength, data.byteLength);
    assert.ok(back.every((b, i) => b === data[i]), "bytes differ");
  });

  test("openAppend appends in call order, sync, reopen continues at the end", async () => {
    const d = await fresh();
    const p = `${d}/seg.wal`;
    const h = await fs.openAppend(p);
    // Not awaited one by one on purpose: order must still be call order.
    const writes = [h.append(enc.encode("ab")), h.append(enc.encode("cd")), h.sync()];
    await Promise.all(writes);
    await h.close();
    assert.is(dec.decode(await fs.readFile(p)), "abcd");
    const h2 = await fs.openAppend(p);
    await h2.append(enc.encode("ef"));
    await h2.sync();
    await h2.close();
    assert.is(dec.decode(await fs.readFile(p)), "abcdef");
    assert.is(await fs.size(p), 6);
  });

  test("appendSync (where offered) keeps call order with plain appends, before and after", async () => {
    const d = await fresh();
    const p = `${d}/mixed.wal`;
    const h = await fs.openAppend(p);
    if (h.appendSync === undefined) {
      await h.close();
      return; // optional in the interface: nothing to check on this runtime
    }
    // A plain append left unsynced, then a synchronous one, then another plain one.
    const writes = [h.append(enc.encode("ab")), h.appendSync(enc.encode("cd")), h.append(enc.encode("ef")), h.appendSync(enc.encode("gh"))];
    await Promise.all(writes);
    await h.close();
    assert.is(dec.decode(await fs.readFile(p)), "abcdefgh");
    assert.is(await fs.size(p), 8);
  });

  test("truncate cuts a file", async () => {
    const d = await fresh();
    const p = `${d}/t`;
    await fs.writeFile(p, enc.encode("0123456789"));
    await fs.truncate(p, 4);
    assert.is(await fs.size(p), 4);
    assert.is(dec.decode(await fs.readFile(p)), "0123");
    const h = await fs.openAppend(p);
    await h.append(enc.encode("x"));
    await h.close();
    assert.is(dec.decode(await fs.readFile(p)), "0123x");
  });

  test("rename moves and replaces an existing target", async () => {
    const d = await fresh();
    await fs.writeFile(`${d}/new.tmp`, enc.encode("new"));
    await fs.writeFile(`${d}/snap`, enc.encode("old"));
    await fs.rename(`${d}/new.tmp`, `${d}/snap`);
    assert.is(dec.decode(await fs.readFile(`${d}/snap`)), "new");
    assert.is(await fs.exists(`${d}/new.tmp`), false);
    await fs.mkdir(`${d}/dir1/sub`);
    await fs.rename(`${d}/dir1`, `${d}/dir2`);
    assert.ok(await fs.exists(`${d}/dir2/sub`));
  });

  test("remove deletes files and whole trees; missing is fine", async () => {
    const d = await fresh();
    await fs.mkdir(`${d}/tree/a/b`);
    await fs.writeFile(`${d}/tree/a/b/f`, enc.encode("x"));
    await fs.writeFile(`${d}/tree/g`, enc.encode("y"));
    await fs.writeFile(`${d}/file`, enc.encode("z"));
    await fs.remove(`${d}/tree`);
    await fs.remove(`${d}/file`);
    await fs.remove(`${d}/never-existed`);
    assert.equal(await fs.list(d), []);
  });

  test("syncDir succeeds on a directory", async () => {
    const d = await fresh();
    await fs.writeFile(`${d}/x`, enc.encode("x"));
    await fs.syncDir(d);
  });

  run();
}

// ---------------------------------------------------------------- timers and clocks

function timeSuite(rt: Runtime): void {
  const { test, run } = timedSuite(`${rt.name}: timers and clocks`);

  test("setTimer fires once, not early, in deadline order", async () => {
    const fired: string[] = [];
    const t0 = rt.monotonic();
    let at = 0;
    const done = deferred();
    rt.setTimer(40, () => {
      fired.push("40");
      at = rt.monotonic() - t0;
      done.resolve();
    });
    rt.setTimer(10, () => fired.push("10"));
    await done.promise;
    await sleep(20);
    assert.equal(fired, ["10", "40"]);
    assert.ok(at >= 39, `fired after ${at} ms`);
  });

  test("cancel stops a pending timer; cancelling twice or after firing is harmless", async () => {
    let fired = 0;
    const cancel = rt.setTimer(15, () => fired++);
    cancel();
    cancel();
    const ran = deferred();
    const cancelLate = rt.setTimer(1, () => ran.resolve());
    await ran.promise;
    cancelLate();
    await sleep(50);
    assert.is(fired, 0);
  });

  test("a delay beyond 2^31-1 ms does not fire at once", async () => {
    let fired = false;
    const cancel = rt.setTimer(2 ** 31 + 5000, () => (fired = true));
    await sleep(50);
    cancel();
    assert.is(fired, false);
  });

  test("long delays are chained timers of at most 2^31-1 ms", () => {
    const armed: { fn: () => void; ms: number }[] = [];
    const cleared: unknown[] = [];
    const setTimer = makeSetTimer((fn, ms) => armed.push({ fn, ms }) - 1, (h) => cleared.push(h));
    let fired = 0;
    setTimer(2 ** 31 + 5, () => fired++);
    assert.equal(armed.map((a) => a.ms), [2 ** 31 - 1]);
    armed[0]!.fn();
    assert.equal(armed.map((a) => a.ms), [2 ** 31 - 1, 6]);
    assert.is(fired, 0);
    armed[1]!.fn();
    assert.is(fired, 1);
    const cancel = setTimer(2 ** 32, () => fired++);
    armed[2]!.fn();
    cancel();
    assert.equal(cleared, [3]);
    armed[3]!.fn(); // a cancelled timer that fires anyway must not run fn
    assert.is(fired, 1);
  });

  test("wall clock keeps a sub-ms fraction but follows Date.now()", () => {
    let wall = 1_000_000;
    let mono = 50.25;
    const now = makeWallClock(() => wall, () => mono);
    assert.is(now(), 1_000_000);
    mono += 0.5;
    assert.is(now(), 1_000_000.5);
    mono += 0.75;
    wall += 1; // real time 1.25 ms after the anchor
    assert.is(now(), 1_000_001.25);
    wall += 60_000; // wall clock stepped forward; monotonic did not move
    assert.is(now(), 1_060_001);
    wall -= 120_000; // and back
    assert.is(now(), 940_001);
  });

  test("monotonic never goes backwards and advances", async () => {
    let prev = rt.monotonic();
    for (let i = 0; i < 2000; i++) {
      const t = rt.monotonic();
      assert.ok(t >= prev, `monotonic went from ${prev} to ${t}`);
      prev = t;
    }
    const a = rt.monotonic();
    await sleep(20);
    assert.ok(rt.monotonic() - a >= 15);
  });

  test("now() is wall-clock epoch milliseconds", () => {
    const d = rt.now() - Date.now();
    assert.ok(Math.abs(d) < 100, `now() is ${d} ms away from Date.now()`);
  });

  test("random() is in [0, 1)", () => {
    for (let i = 0; i < 1000; i++) {
      const r = rt.random();
      assert.ok(r >= 0 && r < 1, String(r));
    }
  });

  run();
}

// ---------------------------------------------------------------- plain HTTP

function httpSuite(rt: Runtime): void {
  const { test, run } = timedSuite(`${rt.name}: serve and fetch`);

  test("roundtrip keeps method, path, query, headers, body and status", async () => {
    const handler: Handler = async (req) => {
      const url = new URL(req.url);
      const body = await req.text();
      return new Response(JSON.stringify({ method: req.method, path: url.pathname, q: url.searchParams.get("q"), h: req.headers.get("x-test"), body }), {
        status: 201,
        headers: { "content-type": "application/json", "x-reply": "pong" },
      });
    };
    await withServer(rt, handler, async (base, l) => {
      assert.ok(l.port > 0);
      const res = await rt.fetch(new Request(`${base}/v2/keys/a%20b?q=1`, { method: "PUT", headers: { "x-test": "ping" }, body: "value=hi" }));
      assert.is(res.status, 201);
      assert.is(res.headers.get("x-reply"), "pong");
      assert.equal(await res.json(), { method: "PUT", path: "/v2/keys/a%20b", q: "1", h: "ping", body: "value=hi" });
    });
  });

  test("binary bodies in both directions", async () => {
    const bytes = new Uint8Array(256);
    for (let i = 0; i < 256; i++) bytes[i] = i;
    await withServer(rt, async (req) => new Response(new Uint8Array(await req.arrayBuffer()).reverse()), async (base) => {
      const res = await rt.fetch(new Request(`${base}/raft`, { method: "POST", body: bytes }));
      const back = new Uint8Array(await res.arrayBuffer());
      assert.is(back.length, 256);
      assert.is(back[0], 255);
      assert.is(back[255], 0);
    });
  });

  test("a throwing handler becomes a 500", async () => {
    await withServer(rt, () => { throw new Error("boom (expected by the test)"); }, async (base) => {
      const res = await rt.fetch(new Request(`${base}/x`));
      assert.is(res.status, 500);
      await res.arrayBuffer();
    });
  });

  test("close() is prompt with an idle keep-alive connection, and stops serving", async () => {
    const l = await rt.serve({ hostname: HOST, port: 0 }, () => new Response("ok"));
    const base = `http://${HOST}:${l.port}`;
    for (let i = 0; i < 3; i++) assert.is(await (await rt.fetch(new Request(base))).text(), "ok");
    const t0 = rt.monotonic();
    await withTimeout(l.close(), 3000, "close with idle keep-alive");
    assert.ok(rt.monotonic() - t0 < 2000);
    let failed = false;
    try {
      await withTimeout(rt.fetch(new Request(base)), 3000, "fetch after close");
    } catch {
      failed = true;
    }
    assert.ok(failed, "fetch after close should fail");
  });

  test("serving on a taken port rejects with EADDRINUSE", async () => {
    await withServer(rt, () => new Response("first"), async (_base, l) => {
      await rejectsWithCode(rt.serve({ hostname: HOST, port: l.port }, () => new Response("second")), "EADDRINUSE");
    });
  });

  run();
}

// ---------------------------------------------------------------- streaming responses

function streamSuite(rt: Runtime): void {
  const { test, run } = timedSuite(`${rt.name}: streaming responses`);

  test("headers arrive before any chunk; chunks arrive one by one; end is seen", async () => {
    const s = streamHandler();
    await withServer(rt, s.handler, async (base) => {
      const res = await withTimeout(rt.fetch(new Request(`${base}/v2/keys/foo?wait=true`)), 3000, "headers of an empty stream");
      assert.is(res.status, 200);
      assert.is(res.headers.get("x-stream"), "yes");
      const reader = res.body!.getReader();
      await s.started;
      for (const chunk of ['{"n":1}\n', '{"n":2}\n', '{"n":3}\n']) {
        s.push(chunk);
        await readText(reader, chunk);
      }
      s.end();
      const last = await withTimeout(reader.read(), 3000, "end of stream");
      assert.is(last.done, true);
    });
  });

  test("a stream silent for 11 s is not cut (watch connections idle for minutes)", async () => {
    const s = streamHandler();
    await withServer(rt, s.handler, async (base) => {
      const reader = await openStream(rt, s, `${base}/watch`, "first\n");
      await sleep(11_000);
      s.push("after silence\n");
      await readText(reader, "after silence\n");
      s.end();
    });
  }, 20_000);

  test("client abort aborts request.signal and cancels the body stream", async () => {
    const s = streamHandler();
    await withServer(rt, s.handler, async (base) => {
      const ac = new AbortController();
      const reader = await openStream(rt, s, `${base}/watch`, "hello\n", ac.signal);
      ac.abort();
      await reader.read().catch(() => {});
      await withTimeout(s.aborted, 3000, "request.signal abort after client disconnect");
      await withTimeout(s.cancelled, 3000, "body cancel after client disconnect");
    });
  });

  test("close() ends an open streaming connection promptly", async () => {
    const s = streamHandler();
    const l = await rt.serve({ hostname: HOST, port: 0 }, s.handler);
    const reader = await openStream(rt, s, `http://${HOST}:${l.port}/watch`, "x\n");
    const t0 = rt.monotonic();
    await withTimeout(l.close(), 3000, "close with an open stream");
    assert.ok(rt.monotonic() - t0 < 2500);
    // The client sees the stream end or fail, never hang.
    await withTimeout(reader.read().catch(() => ({ done: true })), 3000, "client read after close");
    await withTimeout(s.cancelled, 3000, "body cancel after close");
  });

  run();
}

// ---------------------------------------------------------------- DNS

function dnsSuite(rt: Runtime): void {
  const { test, run } = timedSuite(`${rt.name}: dns`);

  test("resolveSrv for a name that does not exist fails cleanly (error or [])", async () => {
    // .invalid never resolves (RFC 2606); no answer from real DNS is needed.
    try {
      const got = await rt.resolveSrv("_etcd-server._tcp.no-such-cluster.invalid");
      assert.equal(got, []);
    } catch (e) {
      assert.instance(e, Error);
    }
  }, 15_000);

  run();
}

// ---------------------------------------------------------------- logging

function logSuite(rt: Runtime): void {
  const { test, run } = timedSuite(`${rt.name}: log`);

  test("capnslog-style line: UTC time with µs, level letter, package, fields", () => {
    const lines: string[] = [];
    const t = Date.UTC(2026, 10, 21, 9, 2, 46, 795) + 0.797;
    const log = createLogger((l) => lines.push(l), () => t);
    log.info("published local member to cluster", { name: "infra1", cluster: "7e27652122e8b2ae" });
    log.warn("slow fdatasync", { took: 1.5, ok: false, path: "/var/lib/etcd dir", empty: "" });
    log.error("line\nbreak", { err: new Error("disk full"), obj: { a: 1 } });
    assert.equal(lines, [
      "2026-11-21 09:02:46.795797 I | etcdserver: published local member to cluster name=infra1 cluster=7e27652122e8b2ae",
      '2026-11-21 09:02:46.795797 W | etcdserver: slow fdatasync took=1.5 ok=false path="/var/lib/etcd dir" empty=""',
      '2026-11-21 09:02:46.795797 E | etcdserver: line\\nbreak err="disk full" obj={"a":1}',
    ]);
  });

  test("level threshold and package name", () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), () => 0, { level: "warn", package: "raft" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    assert.equal(lines, ["1970-01-01 00:00:00.000000 W | raft: w", "1970-01-01 00:00:00.000000 E | raft: e"]);
    const debug: string[] = [];
    createLogger((l) => debug.push(l), () => 0, { level: "debug" }).debug("x");
    assert.equal(debug, ["1970-01-01 00:00:00.000000 D | etcdserver: x"]);
  });

  test("the runtime's logger has every level", () => {
    for (const k of ["debug", "info", "warn", "error"] as const) assert.type(rt.log[k], "function");
  });

  run();
}
