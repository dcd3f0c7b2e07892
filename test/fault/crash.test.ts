// kill -9 under load, on real member processes (Node, Bun, Deno; real etcd with TARGETS=etcd):
// eight clients write concurrently (new keys, overwrites, in-order POSTs, CAS, deletes, TTL
// keys, directories), the member is killed at a random moment, restarted on the same data
// dir, and every acknowledged write must be there.
//
//   npx tsc -p tsconfig.json && node dist/test/fault/crash.test.js
//   CRASH_SEED=1234 TARGETS=node node dist/test/fault/crash.test.js   (replay a seed; pick targets)
//
// The key space makes the check exact: client c owns /crash/c<c>/ and writes sequentially,
// so its only unknown is the one request that was in flight when the member died (it may
// or may not have been applied). Everything else must match the acknowledged responses
// field for field (value, dir, createdIndex, modifiedIndex, expiration).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { req } from "../support/http.ts";
import type { Res } from "../support/http.ts";
import { etcdInstalled, parseTargets, startMember } from "../support/processes.ts";
import type { Member, TargetName } from "../support/processes.ts";
import { seededRandom as rng } from "../support/random.ts";

const SEED = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) : Date.now() % 2_147_483_647;
const TARGETS = parseTargets(process.env.TARGETS ?? "node,bun,deno");
const CLIENTS = 8;
/** No client keeps writing longer than this, whatever happens to the kill. */
const STREAM_LIMIT_MS = 10_000;
console.log(`crash test seed ${SEED} (replay: CRASH_SEED=${SEED} TARGETS=${TARGETS.join(",")})`);


function seedFor(...parts: (string | number)[]): number {
  let h = SEED >>> 0;
  for (const ch of parts.join("/")) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

// ---- the model ----

interface NodeState {
  dir: boolean;
  value?: string;
  createdIndex: number;
  modifiedIndex: number;
  expiration?: string;
}

type Op =
  | { kind: "set"; key: string; value: string } // a new key or an overwrite
  | { kind: "ttl"; key: string; value: string } // PUT with a long TTL
  | { kind: "post"; value: string } // POST to the client's in-order queue
  | { kind: "cas"; key: string; prev: string; value: string }
  | { kind: "del"; key: string }
  | { kind: "mkdir"; key: string };

interface Ack {
  client: number;
  op: Op;
  key: string;
  modifiedIndex: number;
  value: string | undefined;
}

interface CycleResult {
  acked: number;
  inFlight: number;
  maxAcked: number;
}

function stateOf(node: any): NodeState {
  const s: NodeState = { dir: node.dir === true, createdIndex: node.createdIndex, modifiedIndex: node.modifiedIndex };
  if (node.value !== undefined) s.value = node.value;
  if (node.expiration !== undefined) s.expiration = node.expiration;
  return s;
}

function show(s: NodeState | undefined): string {
  return s === undefined ? "(absent)" : JSON.stringify(s);
}

function sameState(a: NodeState | undefined, b: NodeState | undefined): boolean {
  return show(a) === show(b);
}

class Client {
  readonly prefix: string;
  readonly queue: string;
  /** Every node this client owns, as the last acknowledged write left it. */
  keys = new Map<string, NodeState>();
  /** The request that got no answer, and the state of its key before it. */
  inFlight: { op: Op; before: NodeState | undefined } | null = null;
  /** Index of this client's latest acknowledged write: its in-flight write can only come later. */
  lastIndex = 0;
  private nextKey = 0;
  private nextValue = 0;
  private readonly random: () => number;

  constructor(
    readonly id: number,
    tag: string,
  ) {
    this.prefix = `/crash/c${id}`;
    this.queue = `${this.prefix}/q`;
    this.random = rng(seedFor(tag, id));
  }

  private pick<T>(xs: T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  private value(): string {
    return `c${this.id}-v${this.nextValue++}`;
  }

  nextOp(): Op {
    const files = [...this.keys].filter(([, s]) => !s.dir).map(([k]) => k);
    const r = this.random();
    const newKey = (): string => `${this.prefix}/k${this.nextKey++}`;
    if (files.length === 0 || r < 0.22) return { kind: "set", key: newKey(), value: this.value() };
    if (r < 0.4) return { kind: "set", key: this.pick(files), value: this.value() };
    if (r < 0.55) return { kind: "post", value: this.value() };
    if (r < 0.7) {
      const key = this.pick(files);
      return { kind: "cas", key, prev: this.keys.get(key)!.value!, value: this.value() };
    }
    if (r < 0.8) return { kind: "del", key: this.pick(files) };
    if (r < 0.92) return { kind: "ttl", key: r < 0.86 ? newKey() : this.pick(files), value: this.value() };
    return { kind: "mkdir", key: `${this.prefix}/d${this.nextKey++}` };
  }

  /** Whether `actual` is what `op` would have left (its index is unknown). */
  static appliedLooksLike(op: Op, after: number, actual: NodeState | undefined): boolean {
    switch (op.kind) {
      case "del":
        return actual === undefined;
      case "mkdir":
        return actual !== undefined && actual.dir && actual.modifiedIndex > after;
      case "set":
      case "cas":
      case "ttl":
        return (
          actual !== undefined &&
          !actual.dir &&
          actual.value === op.value &&
          (op.kind === "ttl") === (actual.expiration !== undefined) &&
          actual.modifiedIndex > after
        );
      case "post":
        return false;
    }
  }
}

function send(base: string, op: Op, clientQueue: string): Promise<Res> {
  const k = (key: string) => "/v2/keys" + key;
  switch (op.kind) {
    case "set":
      return req(base, "PUT", k(op.key), { form: { value: op.value }, timeoutMs: 5000 });
    case "ttl":
      return req(base, "PUT", k(op.key), { form: { value: op.value, ttl: 3600 }, timeoutMs: 5000 });
    case "post":
      return req(base, "POST", k(clientQueue), { form: { value: op.value }, timeoutMs: 5000 });
    case "cas":
      return req(base, "PUT", k(op.key), { form: { value: op.value, prevValue: op.prev }, timeoutMs: 5000 });
    case "del":
      return req(base, "DELETE", k(op.key), { timeoutMs: 5000 });
    case "mkdir":
      return req(base, "PUT", k(op.key), { form: { dir: "true" }, timeoutMs: 5000 });
  }
}

const EXPECT: Record<Op["kind"], { status: number[]; action: string }> = {
  set: { status: [200, 201], action: "set" },
  ttl: { status: [200, 201], action: "set" },
  post: { status: [201], action: "create" },
  cas: { status: [200], action: "compareAndSwap" },
  del: { status: [200], action: "delete" },
  mkdir: { status: [201], action: "set" },
};

/**
 * Drive all clients against `m` until it is killed; the kill comes once at least `minAcks`
 * writes were acknowledged, plus a random delay. Returns what was acknowledged.
 */
async function loadAndKill(m: Member, clients: Client[], minAcks: number, random: () => number, label: string): Promise<CycleResult & { acks: Ack[] }> {
  const acks: Ack[] = [];
  const problems: string[] = [];
  let killed = false;
  let maxAcked = 0;
  const deadline = Date.now() + STREAM_LIMIT_MS;

  const runClient = async (c: Client): Promise<void> => {
    while (Date.now() < deadline) {
      const op = c.nextOp();
      const key = op.kind === "post" ? null : op.key;
      const before = key === null ? undefined : c.keys.get(key);
      let res: Res;
      try {
        res = await send(m.clientURL, op, c.queue);
      } catch (err) {
        c.inFlight = { op, before };
        if (!killed) problems.push(`client ${c.id}: ${op.kind} failed before the kill: ${String((err as Error)?.message ?? err)}`);
        return;
      }
      const want = EXPECT[op.kind];
      let body: any = null;
      try {
        body = JSON.parse(res.text);
      } catch {
        /* reported below */
      }
      if (!want.status.includes(res.status) || body?.action !== want.action) {
        c.inFlight = { op, before };
        problems.push(`client ${c.id}: ${op.kind} ${JSON.stringify(op)} got ${res.status} ${res.text.trim()}${killed ? " (after the kill)" : ""}`);
        return;
      }
      const node = body.node;
      const index = res.etcdIndex;
      maxAcked = Math.max(maxAcked, index);
      c.lastIndex = node.modifiedIndex;
      if (op.kind === "del") {
        c.keys.delete(op.key);
      } else {
        if (op.kind !== "mkdir" && node.value !== op.value) problems.push(`client ${c.id}: ${op.kind} acknowledged with value ${node.value}, sent ${op.value}`);
        if (op.kind === "post" && !String(node.key).startsWith(c.queue + "/")) problems.push(`client ${c.id}: POST made ${node.key}`);
        c.keys.set(node.key, stateOf(node));
      }
      acks.push({ client: c.id, op, key: node.key, modifiedIndex: node.modifiedIndex, value: node.value });
    }
  };

  const running = clients.map((c) => runClient(c));
  // Kill once enough writes are in, plus a random extra delay (bounded wait).
  const killDelay = Math.floor(random() * 400);
  while (acks.length < minAcks && Date.now() < deadline - 1000 && problems.length === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, killDelay));
  const atKill = acks.length;
  killed = true;
  await m.kill9();
  await Promise.all(running);
  const inFlight = clients.filter((c) => c.inFlight !== null).length;
  console.log(`  ${label}: killed after ${atKill} acknowledged writes (+${killDelay} ms); ${acks.length} acknowledged in all, ${inFlight} in flight; highest acknowledged index ${maxAcked}`);
  if (problems.length > 0) throw new Error(`${label}: unexpected answers during the load:\n  ${problems.slice(0, 10).join("\n  ")}`);
  assert.ok(acks.length >= minAcks, `${label}: only ${acks.length} writes acknowledged before the kill (wanted ${minAcks})`);
  return { acks, acked: acks.length, inFlight, maxAcked };
}

/** Every node under prefix (the prefix itself and the queue directory left out). */
function flatten(node: any, skip: Set<string>, out: Map<string, NodeState>): void {
  if (!skip.has(node.key)) out.set(node.key, stateOf(node));
  for (const child of node.nodes ?? []) flatten(child, skip, out);
}

/** Reads each client's subtree and checks it against the model; then resolves the in-flight writes. */
async function verify(m: Member, clients: Client[], maxAcked: number, label: string): Promise<number> {
  const failures: string[] = [];
  let storeIndex = 0;
  let applied = 0;
  let unknown = 0;
  for (const c of clients) {
    const r = await req(m.clientURL, "GET", "/v2/keys" + c.prefix, { query: { recursive: "true", sorted: "true" } });
    storeIndex = Math.max(storeIndex, r.etcdIndex);
    const actual = new Map<string, NodeState>();
    if (r.status === 200) flatten(r.json().node, new Set([c.prefix, c.queue]), actual);
    else if (r.status !== 404) throw new Error(`${label}: ${r.describe()} ${r.text}`);
    const inflight = c.inFlight;
    const ambiguous = inflight && inflight.op.kind !== "post" ? inflight.op.key : null;
    let extraPost = 0;
    for (const key of new Set([...c.keys.keys(), ...actual.keys()])) {
      const want = c.keys.get(key);
      const got = actual.get(key);
      if (key === ambiguous) {
        if (!sameState(got, inflight!.before)) applied++;
        if (!sameState(got, inflight!.before) && !Client.appliedLooksLike(inflight!.op, c.lastIndex, got)) {
          failures.push(`${key}: in-flight ${JSON.stringify(inflight!.op)} left ${show(got)}; before it: ${show(inflight!.before)}`);
        }
        continue;
      }
      if (want === undefined) {
        const isInflightPost =
          inflight?.op.kind === "post" && got !== undefined && !got.dir && got.value === inflight.op.value && key.startsWith(c.queue + "/") && got.modifiedIndex > c.lastIndex;
        if (isInflightPost && extraPost++ === 0) {
          applied++;
          continue;
        }
        failures.push(`${key}: not written by any acknowledged or in-flight write, found ${show(got)}`);
      } else if (got === undefined) {
        failures.push(`${key}: acknowledged ${show(want)} is lost`);
      } else if (!sameState(want, got)) {
        failures.push(`${key}: acknowledged ${show(want)}, found ${show(got)}`);
      }
    }
    if (inflight) unknown++;
    c.keys = actual; // checked: only the in-flight write could differ, and now it is known
    c.inFlight = null;
  }
  if (failures.length > 0) {
    throw new Error(`${label}: ${failures.length} mismatch(es) after restart:\n  ${failures.slice(0, 20).join("\n  ")}`);
  }
  assert.ok(storeIndex >= maxAcked, `${label}: store index ${storeIndex} went back below the highest acknowledged index ${maxAcked}`);
  console.log(`  ${label}: after restart all acknowledged writes present; ${applied} of ${unknown} in-flight writes were applied; store index ${storeIndex} >= ${maxAcked}`);
  return storeIndex;
}

/** After a restart: a new write is served and gets an index above everything acknowledged. */
async function checkServesWrites(m: Member, floor: number, label: string): Promise<void> {
  const key = `/v2/keys/after-restart/${label.replace(/[^a-z0-9]+/gi, "-")}`;
  const w = await req(m.clientURL, "PUT", key, { form: { value: "alive" } });
  assert.ok(w.status === 200 || w.status === 201, `${label}: write after restart: ${w.status} ${w.text}`);
  assert.ok(w.json().node.modifiedIndex > floor, `${label}: write after restart got index ${w.json().node.modifiedIndex}, not above ${floor}`);
  const g = await req(m.clientURL, "GET", key);
  assert.is(g.json().node.value, "alive");
}

/** The output of the member's latest start. */
function lastStartOutput(m: Member): string {
  const out = m.output();
  const i = out.lastIndexOf("--- start #");
  return i < 0 ? out : out.slice(i);
}

async function withCrashMember(target: TargetName, extraArgs: string[], fn: (m: Member) => Promise<void>): Promise<void> {
  let m: Member;
  try {
    m = await startMember(target, { extraArgs });
  } catch (err) {
    throw new Error(`${target}: the member could not start: ${String((err as Error)?.message ?? err)}`);
  }
  try {
    await fn(m);
  } catch (err) {
    console.error(`\n--- ${target}: member output (tail):\n${m.output().slice(-5000)}\n---`);
    throw err;
  } finally {
    await m.stop();
  }
}

for (const target of TARGETS) {
  if (target === "etcd" && !etcdInstalled()) {
    test.skip(`${target}: etcd is not installed`, () => {});
    continue;
  }

  test(`${target}: two kill -9 points under concurrent writes; every acknowledged write survives`, async () => {
    const random = rng(seedFor(target, "kills"));
    await withCrashMember(target, [], async (m) => {
      const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i, `${target}-kills`));
      let floor = 0;
      for (let round = 1; round <= 2; round++) {
        const label = `${target} kill ${round}`;
        const r = await loadAndKill(m, clients, 20 + Math.floor(random() * 150), random, label);
        floor = Math.max(floor, r.maxAcked);
        await m.restart({ startTimeoutMs: 20_000 });
        floor = Math.max(floor, await verify(m, clients, r.maxAcked, label));
        await checkServesWrites(m, r.maxAcked, label);
      }
    });
  });

  test(`${target}: kill -9 with --snapshot-count 50; restart from snapshot + WAL replay`, async () => {
    const random = rng(seedFor(target, "snap"));
    await withCrashMember(target, ["--snapshot-count", "50"], async (m) => {
      const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i, `${target}-snap`));
      const label = `${target} snapshot-count 50`;
      const r = await loadAndKill(m, clients, 230 + Math.floor(random() * 100), random, label);
      const snaps = readdirSync(join(m.dataDir, "member", "snap")).filter((n) => n.endsWith(".snap"));
      assert.ok(snaps.length > 0, `${label}: no snapshot file after ${r.acked} writes: ${snaps.join(", ")}`);
      await m.restart({ startTimeoutMs: 20_000 });
      if (target !== "etcd") {
        const out = lastStartOutput(m);
        assert.ok(/recovered store from snapshot at index \d+/.test(out), `${label}: the restart did not load a snapshot:\n${out.slice(-3000)}`);
      }
      await verify(m, clients, r.maxAcked, label);
      await checkServesWrites(m, r.maxAcked, label);
    });
  });
}

test.run();
