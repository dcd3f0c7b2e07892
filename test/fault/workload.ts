// The load and the history check shared by the fault tests (kill-restart, pause, partition).
//
// Load: CLIENTS concurrent clients do v2 set / compare-and-swap / quorum GET / delete on a small
// key space (<prefix>/k0 .. k<KEYS-1>) against random members (a client that gets a connection
// error moves to another member for its next operation). Every operation is recorded with its
// invoke and complete times (performance.now(), ms since the workload started) and its outcome:
//   ok       200/201 (or a quorum GET's 404 "Key not found": a successful read of "absent");
//   fail     a definite failure: errorCode 100/101 from the store (with the index it was decided
//            at), or a connection refused before anything was sent;
//   unknown  anything else: a timeout (ours or errorCode 300), a reset, a 5xx. The operation may
//            or may not have taken effect, at any time after it was invoked.
// Values are unique (c<client>-<n>), so any value seen in a read names the write that made it.
//
// Check (checkHistory): etcd's v2 store numbers every change with a global index, and each answer
// names the position it was decided at: modifiedIndex for an acknowledged write, X-Etcd-Index /
// the error's index for a quorum GET or a failed CAS/delete (all of these go through Raft and are
// answered at apply time). That order is the system's claimed linearization; the check verifies
// it is one:
//   1. no two acknowledged writes share an index (any key) — two leaders committing, a lost entry;
//   2. every value read (or returned as prevNode) was written by that key's write at that index;
//      a value of an unknown write reveals that it took effect, at that index (once); a value
//      nobody wrote, or one of a definitely failed write, is a violation;
//   3. real time: an operation that started after another one completed has a position >= (a
//      read) or > (a write) that one's position — reads never go back in time, an acknowledged
//      write is visible to everything that starts after its acknowledgement;
//   4. every read, prevNode, failed CAS and "not found" matches the state the known writes give at
//      its position: nothing acknowledged is lost or reordered, and a CAS never succeeds twice on
//      the same version (the second one's prevNode would be stale). Unknown deletes/sets whose
//      index is never revealed are given the benefit of the doubt (a "not found" or "compare
//      failed" that only such a write could explain is accepted).
// This is a per-key register check over an order the system witnessed (not a search over all
// orders), so it is fast for thousands of operations; a violation is always real.
import { performance } from "node:perf_hooks";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Member } from "../support/processes.ts";
import { sleep } from "../support/processes.ts";
import { seededRandom } from "../support/random.ts";

export type OpKind = "set" | "cas" | "get" | "del";
export type Outcome = "ok" | "fail" | "unknown";

export interface NodeSeen {
  value?: string;
  modifiedIndex: number;
  createdIndex: number;
}

/** One operation of the history (JSON-friendly). */
export interface HOp {
  id: number;
  /** Client number; -1 for the final reads. */
  client: number;
  /** Member name the request went to. */
  member: string;
  kind: OpKind;
  key: string;
  /** set / cas: the new value. */
  value?: string;
  /** cas: the expected current value. */
  prevValue?: string;
  /** ms since the workload started. */
  invoke: number;
  /** When the answer (or the failure) came back; for unknown operations: when we gave up. */
  complete: number;
  outcome: Outcome;
  status?: number;
  errorCode?: number;
  error?: string;
  /** The position the answer was decided at (see above); absent for unknown and refused ops. */
  index?: number;
  /** X-Etcd-Index of a successful answer. */
  etcdIndex?: number;
  /** get: the node read (null = not found). */
  node?: NodeSeen | null;
  /** ok set / cas / del: the response node. */
  after?: NodeSeen;
  /** ok set / cas / del: the node before (null = there was none). */
  prev?: NodeSeen | null;
}

export interface WorkloadOptions {
  /** The members (dead ones too: they answer "connection refused" and clients move on). */
  members: () => Member[];
  seed: number;
  clients?: number;
  keys?: number;
  /** Key prefix, e.g. "/fault". */
  prefix?: string;
  /** Client-side request timeout (ms). */
  timeoutMs?: number;
  /** Think time between a client's operations (ms, random in [0, thinkMs]). */
  thinkMs?: number;
}

function refused(err: unknown): boolean {
  let e: any = err;
  for (let i = 0; i < 4 && e; i++) {
    if (e.code === "ECONNREFUSED") return true;
    e = e.cause;
  }
  return false;
}

function errText(err: unknown): string {
  const e: any = err;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.name ?? "Error"}: ${e?.message ?? e}${cause ? ` (${cause})` : ""}`;
}

function nodeSeen(n: any): NodeSeen | null {
  if (n === undefined || n === null) return null;
  const s: NodeSeen = { modifiedIndex: Number(n.modifiedIndex), createdIndex: Number(n.createdIndex) };
  if (n.value !== undefined) s.value = String(n.value);
  return s;
}

/** Send one operation and classify the answer. */
export async function runOp(m: Member & { name: string }, op: HOp, t0: number, timeoutMs: number): Promise<HOp> {
  let method = "GET";
  let query = "";
  let body: string | undefined;
  switch (op.kind) {
    case "get":
      query = "?quorum=true";
      break;
    case "set":
      method = "PUT";
      body = `value=${encodeURIComponent(op.value!)}`;
      break;
    case "cas":
      method = "PUT";
      body = `prevValue=${encodeURIComponent(op.prevValue!)}&value=${encodeURIComponent(op.value!)}`;
      break;
    case "del":
      method = "DELETE";
      break;
  }
  op.member = m.name;
  op.invoke = performance.now() - t0;
  try {
    const res = await fetch(`${m.clientURL}/v2/keys${op.key}${query}`, {
      method,
      ...(body !== undefined ? { body, headers: { "Content-Type": "application/x-www-form-urlencoded" } } : {}),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    op.complete = performance.now() - t0;
    op.status = res.status;
    let j: any = null;
    try { j = JSON.parse(text); } catch { /* not JSON */ }
    if ((res.status === 200 || res.status === 201) && j && j.node) {
      op.outcome = "ok";
      const xi = res.headers.get("x-etcd-index");
      if (xi !== null) op.etcdIndex = Number(xi);
      if (op.kind === "get") {
        op.node = nodeSeen(j.node);
        op.index = xi !== null ? Number(xi) : NaN;
      } else {
        op.index = Number(j.node.modifiedIndex);
        op.after = nodeSeen(j.node)!;
        op.prev = nodeSeen(j.prevNode);
      }
      return op;
    }
    if (j && typeof j.errorCode === "number") {
      op.errorCode = j.errorCode;
      op.error = `${j.message ?? ""}${j.cause ? ` (${j.cause})` : ""}`;
      if (j.errorCode === 100 || j.errorCode === 101) {
        op.index = Number(j.index);
        if (op.kind === "get" && j.errorCode === 100) {
          op.outcome = "ok";
          op.node = null;
        } else {
          op.outcome = "fail";
        }
        return op;
      }
    } else {
      op.error = text.slice(0, 200);
    }
    op.outcome = "unknown";
    return op;
  } catch (err) {
    op.complete = performance.now() - t0;
    op.error = errText(err);
    op.outcome = refused(err) ? "fail" : "unknown";
    return op;
  }
}

/** The concurrent clients. */
export class Workload {
  readonly history: HOp[] = [];
  readonly t0 = performance.now();
  readonly keys: string[];
  private readonly opts: Required<Omit<WorkloadOptions, "members" | "seed">> & Pick<WorkloadOptions, "members" | "seed">;
  private stopping = false;
  private running: Promise<void>[] = [];
  private nextId = 0;
  /** The last value seen for each key (for CAS). */
  private lastSeen = new Map<string, string>();

  constructor(o: WorkloadOptions) {
    this.opts = { clients: 5, keys: 5, prefix: "/fault", timeoutMs: 2000, thinkMs: 10, ...o };
    this.keys = Array.from({ length: this.opts.keys }, (_, i) => `${this.opts.prefix}/k${i}`);
  }

  now(): number {
    return performance.now() - this.t0;
  }

  start(): void {
    for (let c = 0; c < this.opts.clients; c++) this.running.push(this.client(c));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
    this.running = [];
  }

  newOp(client: number, kind: OpKind, key: string): HOp {
    return { id: this.nextId++, client, member: "", kind, key, invoke: 0, complete: 0, outcome: "unknown" };
  }

  private async client(c: number): Promise<void> {
    const rnd = seededRandom((this.opts.seed ^ Math.imul(c + 1, 0x9e3779b1)) >>> 0);
    let n = 0;
    /** A member that did not answer is left alone for a second. */
    const avoidUntil = new Map<Member, number>();
    while (!this.stopping) {
      const all = this.opts.members();
      const now = this.now();
      const choices = all.filter((m) => (avoidUntil.get(m) ?? 0) <= now);
      const pool = choices.length ? choices : all;
      const m = pool[Math.floor(rnd() * pool.length)]! as Member & { name: string };
      const key = this.keys[Math.floor(rnd() * this.keys.length)]!;
      const r = rnd();
      const last = this.lastSeen.get(key);
      let op: HOp;
      if (r < 0.3) op = { ...this.newOp(c, "set", key), value: `c${c}-${n++}` };
      else if (r < 0.55 && last !== undefined) op = { ...this.newOp(c, "cas", key), value: `c${c}-${n++}`, prevValue: last };
      else if (r < 0.87) op = this.newOp(c, "get", key);
      else op = this.newOp(c, "del", key);
      this.history.push(op);
      await runOp(m, op, this.t0, this.opts.timeoutMs);
      if (op.outcome === "ok") {
        if (op.kind === "get") {
          if (op.node?.value !== undefined) this.lastSeen.set(key, op.node.value);
        } else if (op.kind !== "del") {
          this.lastSeen.set(key, op.value!);
        }
      }
      if (op.outcome === "ok" || op.errorCode !== undefined) avoidUntil.delete(m);
      else avoidUntil.set(m, this.now() + 1000);
      if (this.opts.thinkMs > 0) await sleep(Math.floor(rnd() * this.opts.thinkMs));
    }
  }

  /** Acknowledged writes (and reads) after time t (ms since start), optionally via some members. */
  okSince(t: number, o: { writes?: boolean; via?: string[] } = {}): HOp[] {
    return this.history.filter((h) => h.outcome === "ok" && h.invoke >= t && (!o.writes || h.kind !== "get") && (!o.via || o.via.includes(h.member)));
  }

  summary(): string {
    const by = (f: (h: HOp) => boolean) => this.history.filter(f).length;
    return `${this.history.length} ops: ${by((h) => h.outcome === "ok")} ok (${by((h) => h.outcome === "ok" && h.kind !== "get")} writes), ` +
      `${by((h) => h.outcome === "fail")} failed, ${by((h) => h.outcome === "unknown")} unknown`;
  }

  /** Quorum GET of every key on every given member, recorded as client -1. */
  async finalReads(members: Array<Member & { name: string }>, timeoutMs = 5000): Promise<HOp[]> {
    const out: HOp[] = [];
    for (const m of members) {
      for (const key of this.keys) {
        const op = this.newOp(-1, "get", key);
        this.history.push(op);
        await runOp(m, op, this.t0, timeoutMs);
        out.push(op);
      }
    }
    return out;
  }

  /**
   * A probe (client -2): set a key through one member, retried until acknowledged or the
   * deadline (Date.now() ms); every attempt is recorded. Returns the acknowledged op or null.
   */
  async probeWrite(m: Member & { name: string }, deadline: number, timeoutMs = 2000): Promise<HOp | null> {
    while (Date.now() < deadline) {
      const key = this.keys[this.probes % this.keys.length]!;
      const op: HOp = { ...this.newOp(-2, "set", key), value: `probe-${this.probes++}` };
      this.history.push(op);
      await runOp(m, op, this.t0, Math.max(100, Math.min(timeoutMs, deadline - Date.now())));
      if (op.outcome === "ok") return op;
      await sleep(50);
    }
    return null;
  }
  private probes = 0;

  /** One probe write (client -2) through a member with its own timeout; recorded. */
  async probeOnce(m: Member & { name: string }, timeoutMs: number): Promise<HOp> {
    const key = this.keys[this.probes % this.keys.length]!;
    const op: HOp = { ...this.newOp(-2, "set", key), value: `probe-${this.probes++}` };
    this.history.push(op);
    return runOp(m, op, this.t0, timeoutMs);
  }

  /** Values of operations that some read (or prevNode) showed took effect. */
  valuesSeen(): Set<string> {
    const seen = new Set<string>();
    for (const h of this.history) {
      if (h.outcome !== "ok") continue;
      if (h.node?.value !== undefined) seen.add(h.node.value);
      if (h.prev?.value !== undefined) seen.add(h.prev.value);
    }
    return seen;
  }

  /** Write the history as JSON to a temp file; returns its path. */
  dump(label: string): string {
    const p = join(tmpdir(), `etcd-ts-fault-${label}-${Date.now()}.json`);
    writeFileSync(p, JSON.stringify(this.history, null, 0).replace(/\},\{/g, "},\n{"));
    return p;
  }
}

// ---------------------------------------------------------------- the check

interface KnownWrite {
  index: number;
  key: string;
  del: boolean;
  value?: string;
  op: HOp;
  revealed: boolean;
}

function fmt(h: HOp): string {
  const what = h.kind === "set" ? `set ${h.key}=${h.value}` : h.kind === "cas" ? `cas ${h.key} ${h.prevValue}->${h.value}` : `${h.kind} ${h.key}`;
  const res = h.outcome === "ok"
    ? h.kind === "get" ? `-> ${h.node ? `${h.node.value}@${h.node.modifiedIndex}` : "not found"} at ${h.index}` : `-> ok @${h.index}${h.prev !== undefined ? ` prev ${h.prev ? `${h.prev.value ?? "(none)"}@${h.prev.modifiedIndex}` : "none"}` : ""}`
    : h.outcome === "fail" ? `-> fail ${h.errorCode ?? ""} ${h.index !== undefined ? `at ${h.index}` : h.error ?? ""}` : `-> unknown (${h.error ?? h.status})`;
  return `#${h.id} c${h.client} via ${h.member} [${h.invoke.toFixed(0)}..${h.complete.toFixed(0)} ms] ${what} ${res}`;
}

export interface CheckResult {
  ok: boolean;
  violations: string[];
  /** Unknown writes whose effect was revealed by a later read. */
  revealed: number;
  checked: number;
}

/** Check a history (see the top of this file). */
export function checkHistory(history: HOp[]): CheckResult {
  const violations: string[] = [];
  const v = (s: string) => { if (violations.length < 200) violations.push(s); };
  const writes = history.filter((h) => h.kind !== "get");
  const byValue = new Map<string, HOp>();
  for (const h of writes) if (h.value !== undefined) byValue.set(h.value, h);

  // 1. acknowledged writes by index
  const known = new Map<number, KnownWrite>();
  for (const h of writes) {
    if (h.outcome !== "ok") continue;
    if (!Number.isFinite(h.index)) { v(`acknowledged write without an index: ${fmt(h)}`); continue; }
    const other = known.get(h.index!);
    if (other) { v(`two acknowledged writes at index ${h.index}: ${fmt(other.op)} and ${fmt(h)}`); continue; }
    known.set(h.index!, { index: h.index!, key: h.key, del: h.kind === "del", ...(h.value !== undefined ? { value: h.value } : {}), op: h, revealed: false });
  }

  // State claims: what the key looked like at a position.
  type Claim =
    | { key: string; pos: number; by: HOp; what: "present"; node: NodeSeen }
    | { key: string; pos: number; by: HOp; what: "absent" }
    | { key: string; pos: number; by: HOp; what: "not"; value: string };
  const claims: Claim[] = [];
  for (const h of history) {
    if (h.outcome === "ok" && h.kind === "get") {
      if (!Number.isFinite(h.index)) { v(`read without X-Etcd-Index: ${fmt(h)}`); continue; }
      claims.push(h.node ? { key: h.key, pos: h.index!, by: h, what: "present", node: h.node } : { key: h.key, pos: h.index!, by: h, what: "absent" });
    } else if (h.outcome === "ok" && Number.isFinite(h.index)) {
      if (h.prev === undefined) continue;
      claims.push(h.prev ? { key: h.key, pos: h.index! - 1, by: h, what: "present", node: h.prev } : { key: h.key, pos: h.index! - 1, by: h, what: "absent" });
      if (h.kind === "cas" && h.prev?.value !== h.prevValue) v(`CAS succeeded although the value before was ${h.prev?.value}: ${fmt(h)}`);
      if ((h.kind === "del" || h.kind === "cas") && !h.prev) v(`${h.kind} succeeded on a key that was not there: ${fmt(h)}`);
    } else if (h.outcome === "fail" && Number.isFinite(h.index)) {
      if (h.errorCode === 100) claims.push({ key: h.key, pos: h.index!, by: h, what: "absent" });
      else if (h.errorCode === 101 && h.kind === "cas") claims.push({ key: h.key, pos: h.index!, by: h, what: "not", value: h.prevValue! });
    }
  }

  // 2. values seen: consistent with the write at that index, or reveal an unknown write
  let revealed = 0;
  const revealedAt = new Map<HOp, number>();
  for (const c of claims) {
    if (c.what !== "present") continue;
    const { value, modifiedIndex: m } = c.node;
    const w = known.get(m);
    if (w) {
      if (w.key !== c.key || w.del || w.value !== value) v(`${fmt(c.by)} saw ${value}@${m}, but index ${m} is ${fmt(w.op)}`);
      continue;
    }
    const src = value !== undefined ? byValue.get(value) : undefined;
    if (!src) { v(`${fmt(c.by)} saw ${value}@${m}, a value nobody wrote`); continue; }
    if (src.key !== c.key) { v(`${fmt(c.by)} saw ${value}@${m}, written to another key by ${fmt(src)}`); continue; }
    if (src.outcome === "ok") { v(`${fmt(c.by)} saw ${value}@${m}, but that write was acknowledged at index ${src.index}: ${fmt(src)}`); continue; }
    if (src.outcome === "fail") { v(`${fmt(c.by)} saw ${value}@${m}, the value of a write that failed: ${fmt(src)}`); continue; }
    const at = revealedAt.get(src);
    if (at !== undefined) { if (at !== m) v(`unknown write ${fmt(src)} seen at two indexes ${at} and ${m}`); continue; }
    if (src.invoke > c.by.complete) v(`${fmt(c.by)} saw ${value}, written by an operation invoked later: ${fmt(src)}`);
    revealedAt.set(src, m);
    known.set(m, { index: m, key: c.key, del: false, value, op: src, revealed: true });
    revealed++;
  }

  // per-key sorted known writes
  const perKey = new Map<string, KnownWrite[]>();
  for (const w of known.values()) {
    let a = perKey.get(w.key);
    if (!a) perKey.set(w.key, (a = []));
    a.push(w);
  }
  for (const a of perKey.values()) a.sort((x, y) => x.index - y.index);
  /** The last known write on key with index <= pos. */
  const lastAt = (key: string, pos: number): KnownWrite | undefined => {
    const a = perKey.get(key);
    if (!a) return undefined;
    let lo = 0, hi = a.length; // first with index > pos
    while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid]!.index <= pos) lo = mid + 1; else hi = mid; }
    return lo > 0 ? a[lo - 1] : undefined;
  };
  const unknownWrites = (key: string, del: boolean, before: number): HOp[] =>
    writes.filter((h) => h.key === key && h.outcome === "unknown" && !revealedAt.has(h) && (h.kind === "del") === del && h.invoke < before);

  // 4. claims against the state the known writes give
  for (const c of claims) {
    const w = lastAt(c.key, c.pos);
    if (c.what === "present") {
      if (c.node.modifiedIndex > c.pos) { v(`${fmt(c.by)} saw ${c.node.value}@${c.node.modifiedIndex}, after its own position ${c.pos}`); continue; }
      if (w && w.index > c.node.modifiedIndex) v(`stale: ${fmt(c.by)} saw ${c.node.value}@${c.node.modifiedIndex} at position ${c.pos}, but ${fmt(w.op)} came in between`);
    } else if (c.what === "absent") {
      if (w && !w.del && unknownWrites(c.key, true, c.by.complete).length === 0) {
        v(`${fmt(c.by)}: ${c.key} absent at position ${c.pos}, but the last write before is ${fmt(w.op)} (and no unknown delete could explain it)`);
      }
    } else {
      const value = w && !w.del ? w.value : undefined;
      if ((value === undefined || value === c.value) && unknownWrites(c.key, false, c.by.complete).length === 0) {
        v(`${fmt(c.by)}: compare failed at position ${c.pos}, but the state there is ${w ? fmt(w.op) : "(never written)"}`);
      }
    }
  }

  // 3. real time
  type P = { h: HOp; pos: number; write: boolean; done: number };
  const ps: P[] = [];
  for (const h of history) {
    if (revealedAt.has(h)) ps.push({ h, pos: revealedAt.get(h)!, write: true, done: Infinity });
    else if ((h.outcome === "ok" || h.outcome === "fail") && Number.isFinite(h.index)) ps.push({ h, pos: h.index!, write: h.outcome === "ok" && h.kind !== "get", done: h.complete });
  }
  const byDone = ps.filter((p) => p.done !== Infinity).sort((a, b) => a.done - b.done);
  const byInvoke = [...ps].sort((a, b) => a.h.invoke - b.h.invoke);
  let j = 0;
  let max: P | null = null;
  for (const b of byInvoke) {
    while (j < byDone.length && byDone[j]!.done < b.h.invoke) {
      const a = byDone[j++]!;
      if (max === null || a.pos > max.pos) max = a;
    }
    if (max === null) continue;
    if (b.write ? b.pos <= max.pos : b.pos < max.pos) {
      v(`real-time order: ${fmt(b.h)}${revealedAt.has(b.h) ? ` (took effect at ${b.pos})` : ""} started after ${fmt(max.h)} completed, but has an ${b.write ? "index <=" : "earlier position than"} ${max.pos}`);
    }
  }

  return { ok: violations.length === 0, violations, revealed, checked: ps.length };
}

/** Every acknowledged write is present (final read at its index with its value) or superseded (a later index). */
export function checkAcknowledgedPresent(history: HOp[], finals: HOp[]): string[] {
  const out: string[] = [];
  const finalByKey = new Map<string, HOp>();
  for (const f of finals) if (f.outcome === "ok") finalByKey.set(f.key, f);
  for (const h of history) {
    if (h.outcome !== "ok" || h.kind === "get" || h.client < 0) continue;
    const f = finalByKey.get(h.key);
    if (!f) { out.push(`no final read of ${h.key}`); continue; }
    if (f.node) {
      if (f.node.modifiedIndex < h.index!) out.push(`lost: ${fmt(h)}; final ${h.key} is ${f.node.value}@${f.node.modifiedIndex}`);
      else if (f.node.modifiedIndex === h.index! && (h.kind === "del" || f.node.value !== h.value)) out.push(`changed: ${fmt(h)}; final ${h.key} is ${f.node.value}@${f.node.modifiedIndex}`);
    } else if (f.index! < h.index!) {
      out.push(`lost: ${fmt(h)}; final read of ${h.key} (absent) at ${f.index}`);
    }
    if (out.length > 50) break;
  }
  return out;
}

/** This history in test/check/history.ts's format (refused requests, never sent, are left out). */
export function toCheckHistory(history: HOp[]): unknown[] {
  const out: unknown[] = [];
  for (const h of history) {
    if (h.outcome === "fail" && h.errorCode === undefined) continue; // connection refused: never sent
    const op = h.kind === "get" ? { type: "get", key: h.key, quorum: true }
      : h.kind === "set" ? { type: "set", key: h.key, value: h.value }
      : h.kind === "cas" ? { type: "compareAndSwap", key: h.key, value: h.value, prevValue: h.prevValue }
      : { type: "delete", key: h.key };
    let result: unknown;
    if (h.outcome === "unknown") result = { type: "unknown" };
    else if (h.outcome === "fail" || (h.kind === "get" && h.node === null)) result = { type: "error", code: h.errorCode ?? 100, ...(Number.isFinite(h.index) ? { index: h.index } : {}) };
    else {
      const node = h.kind === "get" ? h.node : h.after;
      result = { type: "ok", ...(node ? { node } : {}), ...(h.kind !== "get" ? { prevNode: h.prev ?? null } : {}), ...(h.etcdIndex !== undefined ? { etcdIndex: h.etcdIndex } : {}) };
    }
    out.push({ id: h.id, client: h.client, member: h.member, invoke: h.invoke, complete: h.outcome === "unknown" ? null : h.complete, op, result });
  }
  return out;
}

/**
 * Run the linearizability checker of test/check/ (checkLinearizable(history, model) in
 * linearizability.ts, the v2 model in model-v2.ts) when it is there; returns a line for the log.
 * It is optional here (it was being written at the same time): when a module or the model is
 * missing, only the index-witnessed check above is used, and the line says so.
 */
export async function externalCheck(history: HOp[], timeoutMs = 20_000): Promise<string> {
  let lin: any;
  let mv: any;
  try {
    lin = await import(new URL("../check/linearizability.js", import.meta.url).href);
    mv = await import(new URL("../check/model-v2.js", import.meta.url).href);
  } catch (err) {
    return `test/check checker not usable yet (${String((err as Error)?.message ?? err).split("\n")[0]}): index-witnessed check only`;
  }
  const model = typeof mv.createV2Model === "function" ? mv.createV2Model({ timeUnitsPerSecond: 1000 }) : mv.v2Model ?? mv.model;
  if (typeof lin.checkLinearizable !== "function" || !model) return "test/check has no checkLinearizable or v2 model: index-witnessed check only";
  const t = Date.now();
  const r = lin.checkLinearizable(toCheckHistory(history), model, { timeoutMs });
  if (r.ok === true) return `test/check/linearizability: linearizable (${Date.now() - t} ms)`;
  if (r.ok === "unknown") return `test/check/linearizability: gave up after ${timeoutMs} ms (${r.reason})`;
  throw new Error(`test/check/linearizability: NOT linearizable (${r.kind}, key ${r.key}):\n${r.explanation}`);
}

/** Assert helper: throw with the first violations (and dump the history) when the check fails. */
export function assertLinearizable(w: Workload, label: string): CheckResult {
  const r = checkHistory(w.history);
  if (!r.ok) {
    const p = w.dump(label);
    throw new Error(`history check: ${r.violations.length} violation(s) (history in ${p}):\n  ${r.violations.slice(0, 15).join("\n  ")}`);
  }
  return r;
}

// ---------------------------------------------------------------- convergence

/** Plain (local) GET of the whole prefix on a member: the sorted tree as text and X-Etcd-Index. */
async function localTree(m: Member, prefix: string): Promise<string> {
  const res = await fetch(`${m.clientURL}/v2/keys${prefix}?recursive=true&sorted=true`, { signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  let node: unknown = text;
  try { node = JSON.parse(text).node ?? JSON.parse(text); } catch { /* keep the text */ }
  return `${res.status} index=${res.headers.get("x-etcd-index")} ${JSON.stringify(node)}`;
}

/**
 * After the faults: wait until every member serves the same tree at the same X-Etcd-Index
 * (plain local reads), then quorum-read every key on every member (recorded in the history)
 * and require the same answers everywhere. Returns the final reads.
 */
export async function convergeAndReadAll(w: Workload, members: Array<Member & { name: string }>, o: { prefix?: string; timeoutMs?: number } = {}): Promise<HOp[]> {
  const prefix = o.prefix ?? "/fault";
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let last: string[] = [];
  for (;;) {
    last = await Promise.all(members.map((m) => localTree(m, prefix).catch((e) => `error ${errText(e)}`)));
    if (last.every((t) => t === last[0]) && !last[0]!.startsWith("error")) break;
    if (Date.now() > deadline) {
      throw new Error(`members did not converge within ${o.timeoutMs ?? 30_000} ms:\n  ${members.map((m, i) => `${m.name}: ${last[i]!.slice(0, 600)}`).join("\n  ")}`);
    }
    await sleep(200);
  }
  const finals: HOp[] = [];
  for (let attempt = 0; ; attempt++) {
    const batch = await w.finalReads(members);
    const bad = batch.filter((h) => h.outcome !== "ok");
    if (bad.length === 0) { finals.push(...batch); break; }
    if (attempt >= 4) throw new Error(`final quorum reads failed:\n  ${bad.slice(0, 10).map(fmt).join("\n  ")}`);
    await sleep(500);
  }
  const disagree: string[] = [];
  for (const key of w.keys) {
    const seen = finals.filter((h) => h.key === key).map((h) => `${h.member}: ${h.node ? `${h.node.value}@${h.node.modifiedIndex}` : "absent"}`);
    const vals = new Set(seen.map((s) => s.slice(s.indexOf(":"))));
    if (vals.size !== 1) disagree.push(`${key}: ${seen.join(", ")}`);
  }
  if (disagree.length) throw new Error(`members disagree on quorum reads:\n  ${disagree.join("\n  ")}`);
  return finals;
}

export { fmt as formatOp };

/** Fail clearly when a member process died by itself (a crash is a bug whatever else happens). */
export function assertAllRunning(members: Array<Member & { name: string }>, when: string): void {
  const dead = members.filter((m) => !m.running);
  if (dead.length === 0) return;
  const why = dead.map((m) => {
    const lines = m.output().split("\n").filter((l) => /fatal|panic|exited:|Error|error:/i.test(l) && !/rafthttp/.test(l)).slice(-6);
    return `${m.name} (${m.target}) is not running:\n      ${lines.join("\n      ")}`;
  });
  throw new Error(`${when}: member process(es) exited on their own:\n    ${why.join("\n    ")}`);
}

/** X-Etcd-Index of a member's local store (plain GET), or -1. */
export async function localIndex(m: Member): Promise<number> {
  try {
    const r = await fetch(`${m.clientURL}/v2/keys/`, { signal: AbortSignal.timeout(1000) });
    await r.text();
    return Number(r.headers.get("x-etcd-index") ?? -1);
  } catch {
    return -1;
  }
}

/** Wait until every member's store has reached the leader's current index (they caught up). */
export async function waitCaughtUp(leader: Member, members: Array<Member & { name: string }>, timeoutMs = 15_000): Promise<void> {
  const target = await localIndex(leader);
  const deadline = Date.now() + timeoutMs;
  let idx: number[] = [];
  for (;;) {
    idx = await Promise.all(members.map((m) => localIndex(m)));
    if (target >= 0 && idx.every((i) => i >= target)) return;
    if (Date.now() > deadline) throw new Error(`members did not catch up with index ${target} of ${leader.describe()} within ${timeoutMs} ms: ${members.map((m, i) => `${m.name}=${idx[i]}`).join(" ")}`);
    await sleep(100);
  }
}
