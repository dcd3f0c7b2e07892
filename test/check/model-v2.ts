// The sequential model of the etcd v2 keyspace used by checkLinearizable, and the checks that
// span keys (the global etcd index). Pure TypeScript, no I/O.
//
// Scope: every key in the history is a *file* (a leaf): no operation addresses a key that is an
// ancestor of another key in the history, and a createInOrder directory is never used as a
// file key (prepare() throws otherwise). Directories, recursive gets/deletes, refresh and
// hidden-key rules are not modelled.
//
// WHAT IS CHECKED
//
// A. Response sanity (kind "response"), per operation with an ok result:
//    * set/create/update/cas/createInOrder: node.value equals the requested value; set, create and
//      createInOrder report createdIndex == modifiedIndex; update/cas/delete/cad report the
//      prevNode's createdIndex; a CAS/CAD's prevNode satisfies its own condition; create has no
//      prevNode; etcdIndex (X-Etcd-Index), when recorded on a write, equals node.modifiedIndex;
//      createInOrder's key is dir + "/" + the 20-digit createdIndex.
//
// B. History-wide index checks. "Known writes" are successful writes whose response node was
//    recorded; their index is node.modifiedIndex (for delete/cad: the index of the delete).
//    * index-unique: no two known writes report the same index.
//    * index-order: the etcd index is consistent with real time over the linearizable
//      operations: if A completed before B was invoked, v(A) <= v(B), and v(A) < v(B) when B is a
//      write, where v = modifiedIndex of a known write, X-Etcd-Index of a quorum GET (when
//      recorded), or the `index` of a store error (codes 100-108, when recorded and > 0).
//    * read-index: a GET (quorum or not) that recorded its X-Etcd-Index e read the state at e:
//      ok -> createdIndex <= modifiedIndex <= e and no known write to the key has an index in
//      (modifiedIndex, e]; error 100 -> the last known write to the key at or below e is a
//      delete/cad (or there is none and the key was initially absent), unless the key has writes
//      with unknown outcome or a TTL (then nothing is concluded).
//
// C. Per key, linearizability (kind "linearizability") of quorum GETs and all writes against a
//    register-like model whose state is: absent, or {value, modifiedIndex, createdIndex, which
//    write set its TTL}, plus a lower bound on the etcd index at that point (the highest index
//    written to or observed on the key so far). Beyond values and
//    existence (set/create/update/cas/delete/cad semantics of spec §6), indexes must be consistent:
//    * a known write's index is greater than every index written to the key before it in the
//      linearization (indexes per key increase strictly in linearization order);
//    * every node a response shows (get node, prevNode, the createdIndex kept by update/cas/
//      delete) equals the model's current node, indexes included;
//    * the index of a write with an unknown outcome is unknown; the first response that shows it
//      pins it, and it must then be greater than the key's previous indexes and must not be the
//      index of any known write (equal index => same write);
//    * CAS/CAD prevIndex compares against the model's (observed) modifiedIndex; against a still
//      unknown index both outcomes are allowed, and a success pins it;
//    * the etcd index an op showed (a write's index; X-Etcd-Index of a GET; a store error's
//      index) never goes down along the key's linearization: an op that showed e comes after
//      everything on the key that showed less, and a write after it gets an index above e.
//      (The etcd index is the position in the one global apply order, so this holds per key.)
//    The etcd index is one counter for all keys; besides B, the partitions are independent.
//    Record X-Etcd-Index and error indexes when you can: they make the search much faster on
//    hot keys (they fix the order of ops that would otherwise commute).
//    Writes with unknown outcome may take effect at any time after their invoke (or, with the
//    unknownWithin option, within that long after it), or never.
//
// D. Non-quorum GETs (kind "plain-read"): not linearizable in etcd (served from the local
//    member), so they are left out of C and checked only for:
//    * validity: an ok read shows a node some write produced: the known write with that
//      modifiedIndex (same key, same value, same createdIndex), the initial node, or (when the
//      index is no known write's) a write with unknown outcome to that key with that value;
//    * no reads from the future: that write was invoked before the read completed;
//    * per member (when `member` is recorded): the member's view never goes back: over the
//      operations it served, A completed before B invoked => v(A) <= v(B) (v as in B), and for
//      one key, a non-quorum read after A shows a modifiedIndex >= the one A showed. (A member
//      answers a write only after applying it, so read-your-writes through one member holds.)
//    * read-index (B) when the read recorded its X-Etcd-Index.
//    Option plainReads: "ignore" turns D off.
//
// TTL: a write with `ttl` sets an expiry owner; a pseudo-operation "expire" with invoke =
// write.invoke + ttl·timeUnitsPerSecond − clockSkew and no completion may remove the node if
// that write's TTL is still the current one (a later write without ttl removes it, spec §7).
// So a key *may* disappear from its earliest expiry on, at an unknown index; it never has to.
//
// createInOrder: a successful POST with a recorded node is a create of dir/<20-digit index> at
// that index. A POST with unknown outcome (or without a recorded node) may have created any
// in-order key of its directory that the history touches and that no known POST created (and
// whose index is no known write's index).
//
// NOT CHECKED: directories and listings, hidden keys, `ttl`/`expiration` fields, that an expired
// key disappears in time, refresh, the exact error index of failed ops beyond B, X-Etcd-Index
// gaps (internal /0 writes and expiries consume indexes), error codes other than the store's
// (100-108; 300/301 count as unknown outcomes): validation, auth and other errors mean the
// request never reached the store, so those operations are ignored; watch (see watch.ts).

import {
  describeOperation,
  inOrderName,
  isIndeterminate,
  opKey,
  parseInOrderName,
  type History,
  type NodeObs,
  type Operation,
} from "./history.ts";
import type { CheckFailure, Model, Partition, TimedOp } from "./linearizability.ts";

export interface V2ModelOptions {
  /** History time units per TTL second (default 1000: times in ms). */
  timeUnitsPerSecond?: number;
  /** How much earlier than invoke + ttl a key may expire (clock skew between members; default 0). */
  clockSkew?: number;
  /** Keys present before the history starts (default: the keyspace starts empty). */
  initial?: Readonly<Record<string, NodeObs & { value: string }>>;
  /** "check" (default) applies rule D to non-quorum GETs; "ignore" skips them. */
  plainReads?: "check" | "ignore";
  /**
   * An assumption that makes long histories with many unknown outcomes much cheaper to check:
   * an operation with unknown outcome that takes effect at all does so within this long after its
   * invoke (e.g. the request timeout plus the longest time a proposal can wait in the log, or the
   * end of the fault that caused it). Default: no bound. Only give one you can guarantee: a too
   * small window makes the checker reject correct histories.
   */
  unknownWithin?: number;
}

type Kind = "get" | "set" | "create" | "update" | "cas" | "delete" | "cad" | "post" | "expire";

interface Ctx {
  /** Indexes of known writes. */
  known: ReadonlySet<number>;
}

/** An operation as the v2 model sees it inside one key's partition. */
export interface V2Step {
  kind: Kind;
  /** Position in the history (-1 for expire). */
  hid: number;
  /** Position in the partition (TTL owner ids). */
  lid: number;
  outcome: "ok" | "error" | "unknown";
  code: number;
  value: string;
  prevValue: string | undefined;
  /** 0 = not compared. */
  prevIndex: number;
  hasTtl: boolean;
  node: NodeObs | undefined;
  prevNode: NodeObs | null | undefined;
  /** createInOrder with unknown outcome, tried as the creator of an in-order key: its index. */
  fixedIndex: number;
  /** expire: the lid of the write whose TTL it ends. */
  owner: number;
  /** The etcd index the response showed (X-Etcd-Index of a GET, a store error's index, a write's index), 0 = none. */
  eidx: number;
  ctx: Ctx;
}

/** One key's state. mi/ci: -1 = unknown (an unknown-outcome write), ci -2 = same as mi. */
export interface V2State {
  exists: boolean;
  value: string;
  mi: number;
  ci: number;
  /** lid of the write that set the current TTL, -1 = permanent. */
  ttl: number;
  /**
   * A lower bound on the global etcd index at this point of the key's linearization: the
   * highest index written to the key so far, or observed (X-Etcd-Index / error index) by an op
   * linearized so far. Known writes must get an index above it; observations must not be below.
   */
  last: number;
  /** When mi is unknown: `last` when that write was linearized (its index is above it). */
  lo: number;
}

const q = JSON.stringify;

function absent(last: number): V2State {
  return { exists: false, value: "", mi: 0, ci: 0, ttl: -1, last, lo: 0 };
}

function written(s: V2State, o: V2Step, mi: number, ci: number): V2State {
  return { exists: true, value: o.value, mi, ci, ttl: o.hasTtl ? o.lid : -1, last: mi >= 0 ? mi : s.last, lo: mi >= 0 ? 0 : s.last };
}

type Why = string[] | null;

function fail(why: Why, msg: string): null {
  if (why !== null) why.push(msg);
  return null;
}

function showIdx(x: number): string {
  return x === -1 || x === -2 ? "unknown" : String(x);
}

/** Pins an unknown modifiedIndex to x (or checks it equals x). */
function pinMi(s: V2State, x: number, o: V2Step, why: Why): V2State | null {
  if (s.mi === x) return s;
  if (s.mi !== -1) return fail(why, `modifiedIndex is ${s.mi}, but the response shows ${x}`);
  if (o.ctx.known.has(x)) return fail(why, `index ${x} is another write's index, it cannot be the index of the unknown-outcome write that produced the current node`);
  if (x <= s.lo) return fail(why, `index ${x} is not above ${s.lo}, the etcd index before the unknown-outcome write that produced the current node`);
  return { ...s, mi: x, ci: s.ci === -2 ? x : s.ci, last: Math.max(s.last, x), lo: 0 };
}

/** Pins an unknown createdIndex to x (or checks it equals x). */
function pinCi(s: V2State, x: number, o: V2Step, why: Why): V2State | null {
  if (s.ci === x) return s;
  if (s.ci === -2) return pinMi(s, x, o, why);
  if (s.ci !== -1) return fail(why, `createdIndex is ${s.ci}, but the response shows ${x}`);
  if (o.ctx.known.has(x)) return fail(why, `createdIndex ${x} is another write's index`);
  if (s.mi >= 0 && x > s.mi) return fail(why, `createdIndex ${x} above modifiedIndex ${s.mi}`);
  return { ...s, ci: x };
}

/** The current node must be `obs` (pins unknown indexes). */
function observe(s: V2State, obs: NodeObs, o: V2Step, why: Why, what: string): V2State | null {
  if (!s.exists) return fail(why, `${what}: the key does not exist, but the response shows a node`);
  if (obs.value !== undefined && obs.value !== s.value) return fail(why, `${what}: value is ${q(s.value)}, but the response shows ${q(obs.value)}`);
  const s1 = pinMi(s, obs.modifiedIndex, o, why);
  if (s1 === null) return null;
  return pinCi(s1, obs.createdIndex, o, why);
}

/** The prevNode of a response against the current state (undefined: not recorded). */
function checkPrev(s: V2State, o: V2Step, why: Why): V2State | null {
  if (o.prevNode === undefined) return s;
  if (o.prevNode === null) return s.exists ? fail(why, `the key exists (${q(s.value)}), but the response has no prevNode`) : s;
  return observe(s, o.prevNode, o, why, "prevNode");
}

/** A known write's index must be above everything written to the key before. */
function newIndex(s: V2State, o: V2Step, why: Why): number | null {
  const m = o.node?.modifiedIndex;
  if (m === undefined) return -1;
  if (m <= s.last) return fail(why, `its index ${m} is not above ${s.last}, the key's last index (written or observed) before it`);
  return m;
}

type Cmp = "yes" | "no" | "maybe";

function compare(s: V2State, o: V2Step): Cmp {
  if (o.prevValue !== undefined && s.value !== o.prevValue) return "no";
  if (o.prevIndex === 0 || s.mi === o.prevIndex) return "yes";
  if (s.mi !== -1) return "no";
  return o.ctx.known.has(o.prevIndex) || o.prevIndex <= s.lo ? "no" : "maybe";
}

function one(s: V2State | null): V2State[] {
  return s === null ? [] : [s];
}

/**
 * What an update, CAS or delete of an existing node needs: its compare conditions hold, its
 * createdIndex is the one the answer showed, and the index it was given.
 */
function onExisting(s: V2State, o: V2Step, why: Why): { s1: V2State; m: number } | null {
  let s1 = checkPrev(s, o, why);
  if (s1 === null) return null;
  if (o.node !== undefined) {
    s1 = pinCi(s1, o.node.createdIndex, o, why);
    if (s1 === null) return null;
  }
  const m = newIndex(s1, o, why);
  return m === null ? null : { s1, m };
}

/** After an update/cas: the new node keeps the createdIndex. */
function updated(s: V2State, o: V2Step, why: Why): V2State | null {
  const r = onExisting(s, o, why);
  if (r === null) return null;
  return written(r.s1, o, r.m, r.m === -1 && r.s1.ci === -2 ? -1 : r.s1.ci);
}

function deleted(s: V2State, o: V2Step, why: Why): V2State | null {
  const r = onExisting(s, o, why);
  if (r === null) return null;
  return absent(r.m === -1 ? r.s1.last : r.m);
}

function stepV2(s: V2State, o: V2Step, why: Why): V2State[] {
  // An op that observed the etcd index e (X-Etcd-Index of a GET, index of a store error, index
  // of a write) sits at global index e: not below anything before it on this key, and what comes
  // after it on this key is at e or above.
  if (o.eidx > 0) {
    if (o.eidx < s.last) return fail(why, `it observed etcd index ${o.eidx}, below ${s.last} (written or observed on this key before it)`), [];
    const r = stepOp(s, o, why);
    for (let i = 0; i < r.length; i++) if (r[i]!.last < o.eidx) r[i] = { ...r[i]!, last: o.eidx };
    return r;
  }
  return stepOp(s, o, why);
}

function stepOp(s: V2State, o: V2Step, why: Why): V2State[] {
  const unexpected = () => {
    fail(why, `error ${o.code} cannot happen to a file key in state ${describeV2State(s)}`);
    return [];
  };
  const needExists = (): boolean => {
    if (!s.exists) fail(why, "the key does not exist");
    return s.exists;
  };
  switch (o.kind) {
    case "expire":
      return s.exists && s.ttl === o.owner ? [absent(s.last)] : [s];
    case "get":
      if (o.outcome === "ok") return needExists() && o.node !== undefined ? one(observe(s, o.node, o, why, "node")) : s.exists ? [s] : [];
      if (o.code === 100) return s.exists ? (fail(why, `error 100, but the key exists (${describeV2State(s)})`), []) : [s];
      return unexpected();
    case "set":
      if (o.outcome === "unknown") return [written(s, o, -1, -2)];
      if (o.outcome === "ok") {
        const s1 = checkPrev(s, o, why);
        if (s1 === null) return [];
        const m = newIndex(s1, o, why);
        return m === null ? [] : [written(s1, o, m, m === -1 ? -2 : m)];
      }
      return unexpected();
    case "create":
    case "post":
      if (o.outcome === "unknown") {
        if (s.exists) return [s];
        if (o.fixedIndex > 0) return o.fixedIndex > s.last ? [written(s, o, o.fixedIndex, o.fixedIndex)] : [s];
        return [written(s, o, -1, -2)];
      }
      if (o.outcome === "ok") {
        if (s.exists) return fail(why, `the key exists (${describeV2State(s)})`), [];
        const m = newIndex(s, o, why);
        return m === null ? [] : [written(s, o, m, m === -1 ? -2 : m)];
      }
      if (o.code === 105) return s.exists ? [s] : (fail(why, "error 105, but the key does not exist"), []);
      return unexpected();
    case "update":
      if (o.outcome === "unknown") return s.exists ? [written(s, o, -1, s.ci === -2 ? -1 : s.ci)] : [s];
      if (o.outcome === "ok") return needExists() ? one(updated(s, o, why)) : [];
      if (o.code === 100) return s.exists ? (fail(why, `error 100, but the key exists (${describeV2State(s)})`), []) : [s];
      return unexpected();
    case "cas":
    case "cad": {
      const apply = (x: V2State) => (o.kind === "cas" ? updated(x, o, why) : deleted(x, o, why));
      if (o.outcome === "unknown") {
        if (!s.exists) return [s];
        const c = compare(s, o);
        if (c === "no") return [s];
        if (c === "yes") return one(apply(s));
        return [...one(apply({ ...s, mi: o.prevIndex, ci: s.ci === -2 ? o.prevIndex : s.ci, last: Math.max(s.last, o.prevIndex), lo: 0 })), s];
      }
      if (o.outcome === "ok") {
        if (!needExists()) return [];
        const c = compare(s, o);
        if (c === "no") return fail(why, `the comparison fails on ${describeV2State(s)}`), [];
        const s1 = c === "maybe" ? pinMi(s, o.prevIndex, o, why) : s;
        return s1 === null ? [] : one(apply(s1));
      }
      if (o.code === 101) {
        if (!needExists()) return [];
        return compare(s, o) === "yes" ? (fail(why, `error 101, but the comparison holds on ${describeV2State(s)}`), []) : [s];
      }
      if (o.code === 100) return s.exists ? (fail(why, `error 100, but the key exists (${describeV2State(s)})`), []) : [s];
      return unexpected();
    }
    case "delete":
      if (o.outcome === "unknown") return s.exists ? [absent(s.last)] : [s];
      if (o.outcome === "ok") return needExists() ? one(deleted(s, o, why)) : [];
      if (o.code === 100) return s.exists ? (fail(why, `error 100, but the key exists (${describeV2State(s)})`), []) : [s];
      return unexpected();
  }
}

export function describeV2State(s: V2State): string {
  const last = `index >= ${s.last}`;
  if (!s.exists) return `absent (${last})`;
  const ttl = s.ttl >= 0 ? " with TTL" : "";
  return `${q(s.value)} mi=${showIdx(s.mi)} ci=${s.ci === -2 ? "=mi" : showIdx(s.ci)}${ttl} (${last})`;
}

// ---------------------------------------------------------------------------------------------
// prepare(): validation, history-wide checks, partitions

interface Norm {
  h: Operation;
  hid: number;
  outcome: "ok" | "error" | "unknown";
  invoke: number;
  complete: number;
  /** The key of the operation (createInOrder ok: the created key; otherwise the dir). */
  key: string;
  label: string;
}

function failure(key: string, kind: string, lines: string[]): CheckFailure {
  return { ok: false, key, kind, explanation: lines.join("\n") };
}

const WRITE_VALUE_KINDS = new Set(["set", "create", "update", "compareAndSwap", "createInOrder"]);

/** Error codes the v2 store raises while applying an operation (they carry the store index). */
const STORE_CODES: ReadonlySet<number> = new Set([100, 101, 102, 104, 105, 107, 108]);

function responseCheck(n: Norm): string | null {
  const op = n.h.op;
  const r = n.h.result;
  if (r.type !== "ok" || op.type === "get") return null;
  const node = r.node;
  const prev = r.prevNode;
  if (node !== undefined) {
    if (WRITE_VALUE_KINDS.has(op.type) && "value" in op && node.value !== undefined && node.value !== op.value) return `node.value ${q(node.value)} differs from the requested ${q(op.value)}`;
    if ((op.type === "set" || op.type === "create" || op.type === "createInOrder") && node.createdIndex !== node.modifiedIndex)
      return `a ${op.type} must report createdIndex == modifiedIndex`;
    if (prev && (op.type === "update" || op.type === "compareAndSwap" || op.type === "delete" || op.type === "compareAndDelete") && node.createdIndex !== prev.createdIndex)
      return `node.createdIndex ${node.createdIndex} differs from prevNode.createdIndex ${prev.createdIndex}`;
    if (prev && node.modifiedIndex <= prev.modifiedIndex) return `node.modifiedIndex ${node.modifiedIndex} is not above prevNode.modifiedIndex ${prev.modifiedIndex}`;
    if (r.etcdIndex !== undefined && r.etcdIndex !== node.modifiedIndex) return `X-Etcd-Index ${r.etcdIndex} differs from node.modifiedIndex ${node.modifiedIndex}`;
    if (op.type === "createInOrder" && r.key !== undefined && r.key !== inOrderName(op.dir, node.createdIndex))
      return `the created key should be ${inOrderName(op.dir, node.createdIndex)}`;
  }
  if ((op.type === "create" || op.type === "createInOrder") && prev) return "a create has no prevNode";
  if ((op.type === "compareAndSwap" || op.type === "compareAndDelete") && prev) {
    if (op.prevValue !== undefined && prev.value !== undefined && prev.value !== op.prevValue) return `prevNode.value ${q(prev.value)} does not satisfy prevValue ${q(op.prevValue)}`;
    if (op.prevIndex && prev.modifiedIndex !== op.prevIndex) return `prevNode.modifiedIndex ${prev.modifiedIndex} does not satisfy prevIndex ${op.prevIndex}`;
  }
  if ((op.type === "update" || op.type === "compareAndSwap" || op.type === "delete" || op.type === "compareAndDelete") && prev === null)
    return `a successful ${op.type} always has a prevNode`;
  return null;
}

interface RtItem {
  n: Norm;
  v: number;
  strict: boolean;
}

/** First pair A before B (A.complete < B.invoke) with v(B) < v(A) (or <= when B is strict). */
function realtimeViolation(as: RtItem[], bs: RtItem[]): [RtItem, RtItem] | null {
  const byComplete = as.slice().sort((x, y) => x.n.complete - y.n.complete);
  const byInvoke = bs.slice().sort((x, y) => x.n.invoke - y.n.invoke);
  let j = 0;
  let best: RtItem | null = null;
  for (const b of byInvoke) {
    while (j < byComplete.length && byComplete[j]!.n.complete < b.n.invoke) {
      const a = byComplete[j++]!;
      if (best === null || a.v > best.v) best = a;
    }
    if (best !== null && (b.v < best.v || (b.strict && b.v === best.v))) return [best, b];
  }
  return null;
}

function groupBy<T>(xs: Iterable<T>, key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    let l = m.get(k);
    if (l === undefined) m.set(k, (l = []));
    l.push(x);
  }
  return m;
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class V2Model implements Model<Operation, V2Step, V2State> {
  readonly name = "etcd-v2";
  private readonly unit: number;
  private readonly skew: number;
  private readonly initial: Readonly<Record<string, NodeObs & { value: string }>>;
  private readonly plain: boolean;
  private readonly within: number;

  constructor(o: V2ModelOptions) {
    this.within = o.unknownWithin ?? Infinity;
    this.unit = o.timeUnitsPerSecond ?? 1000;
    this.skew = o.clockSkew ?? 0;
    this.initial = o.initial ?? {};
    this.plain = (o.plainReads ?? "check") === "check";
  }

  init(key: string): V2State {
    const n = this.initial[key];
    if (n === undefined) return absent(0);
    return { exists: true, value: n.value, mi: n.modifiedIndex, ci: n.createdIndex, ttl: -1, last: n.modifiedIndex, lo: 0 };
  }

  step(s: V2State, o: V2Step): readonly V2State[] {
    return stepV2(s, o, null);
  }

  explain(s: V2State, o: V2Step): string {
    const why: string[] = [];
    stepV2(s, o, why);
    return why.join("; ") || "no reason recorded";
  }

  hash(s: V2State): string {
    return s.exists ? `1,${s.mi},${s.ci},${s.ttl},${s.last},${s.lo},${s.value}` : `0,${s.last}`;
  }

  describeState(s: V2State): string {
    return describeV2State(s);
  }

  /** Ops go in the order of the etcd index they showed (reads just after the write they saw). */
  priority(o: V2Step): number {
    if (o.kind !== "get" && o.outcome === "ok" && o.node !== undefined) return o.node.modifiedIndex;
    if (o.eidx > 0) return o.eidx + 0.5;
    if (o.kind === "get" && o.outcome === "ok" && o.node !== undefined) return o.node.modifiedIndex + 0.5;
    return Infinity;
  }

  /** Indexes only grow along a key's linearization (see V2State.last). */
  progress(s: V2State): number {
    return s.last;
  }

  /** The highest `last` at which the op can still be applied (Infinity = no such limit). */
  bound(o: V2Step): number {
    if (o.kind !== "get" && o.outcome === "ok" && o.node !== undefined) return o.node.modifiedIndex - 1;
    if (o.eidx > 0) return o.eidx;
    return Infinity;
  }

  provides(o: V2Step): readonly string[] {
    const t: string[] = [];
    if (o.node !== undefined && o.outcome === "ok" && o.kind !== "get") t.push(`i${o.node.modifiedIndex}`);
    if (o.fixedIndex > 0) t.push(`i${o.fixedIndex}`);
    if (o.kind !== "get" && o.kind !== "delete" && o.kind !== "cad" && o.kind !== "expire") t.push(`v${o.value}`);
    if (o.kind === "expire") t.push(`e${o.owner}`);
    return t;
  }

  observes(o: V2Step, full: boolean): readonly string[] {
    const t: string[] = [];
    if (o.outcome === "ok" && o.kind === "get" && o.node !== undefined) t.push(`i${o.node.modifiedIndex}`, `v${o.node.value ?? ""}`);
    // A write's prevNode counts only when asked for the full list (the minimizer asks only for
    // the culprit: otherwise every write would pin the one before it; dropping the write a kept
    // prevNode shows moves the blame anyway, which the minimizer refuses).
    if (full && o.outcome === "ok" && o.prevNode) t.push(`i${o.prevNode.modifiedIndex}`, `v${o.prevNode.value ?? ""}`);
    // A compare that succeeded (or may have) relies on the write that made it true.
    if ((o.kind === "cas" || o.kind === "cad") && o.outcome !== "error") {
      if (o.prevIndex > 0) t.push(`i${o.prevIndex}`);
      if (o.prevValue !== undefined) t.push(`v${o.prevValue}`);
    }
    // A TTL write keeps its expiry event with it (dropping only the expiry would change the story).
    if (o.hasTtl && o.outcome !== "error") t.push(`e${o.lid}`);
    return t;
  }

  prepare(history: History): { partitions: Partition<V2Step>[]; failure?: CheckFailure } {
    const norms: Norm[] = [];
    history.forEach((h, hid) => {
      const unknown = isIndeterminate(h);
      const outcome = unknown ? "unknown" : h.result.type === "ok" ? "ok" : "error";
      if (!unknown && (h.complete === null || h.complete === undefined))
        throw new Error(`operation ${h.id ?? hid} has a result but no completion time`);
      if (!unknown && h.complete! < h.invoke) throw new Error(`operation ${h.id ?? hid} completes before it is invoked`);
      let key = opKey(h.op);
      if (h.op.type === "createInOrder" && h.result.type === "ok" && h.result.node !== undefined) key = inOrderName(h.op.dir, h.result.node.createdIndex);
      norms.push({ h, hid, outcome, invoke: h.invoke, complete: unknown ? Infinity : h.complete!, key, label: describeOperation(h, hid) });
    });
    // Errors the store does not raise (validation, auth...) mean the request never reached it;
    // unknown reads say nothing.
    const used = norms.filter(
      (n) => !(n.outcome === "error" && !STORE_CODES.has((n.h.result as { code: number }).code)) && !(n.outcome === "unknown" && n.h.op.type === "get"),
    );

    // Key structure: files only.
    const fileKeys = new Set<string>();
    const dirs = new Set<string>();
    for (const n of used) {
      if (n.h.op.type === "createInOrder") dirs.add(n.h.op.dir);
      if (n.h.op.type !== "createInOrder" || n.key !== n.h.op.dir) fileKeys.add(n.key);
    }
    for (const k of Object.keys(this.initial)) fileKeys.add(k);
    for (const k of fileKeys) {
      if (dirs.has(k)) throw new Error(`${k} is used both as a createInOrder directory and as a file key (not supported)`);
      for (let i = k.lastIndexOf("/"); i > 0; i = k.lastIndexOf("/", i - 1)) {
        if (fileKeys.has(k.slice(0, i))) throw new Error(`${k.slice(0, i)} and ${k} are both used as file keys (directories are not modelled)`);
      }
    }

    // A. response sanity
    for (const n of used) {
      const msg = responseCheck(n);
      if (msg !== null) return { partitions: [], failure: failure(n.key, "response", [`a response contradicts its own request: ${msg}`, `  ${n.label}`]) };
    }

    // Known writes.
    const knownW = new Map<number, Norm>();
    const knownIdx = new Set<number>();
    for (const n of used) {
      const r = n.h.result;
      if (n.outcome !== "ok" || n.h.op.type === "get" || r.type !== "ok" || r.node === undefined) continue;
      const m = r.node.modifiedIndex;
      const other = knownW.get(m);
      if (other !== undefined) {
        return {
          partitions: [],
          failure: failure(other.key === n.key ? n.key : `${other.key} ${n.key}`, "index-unique", [
            `two different writes report modifiedIndex ${m}:`,
            `  ${other.label}`,
            `  ${n.label}`,
          ]),
        };
      }
      knownW.set(m, n);
      knownIdx.add(m);
    }
    const ctx: Ctx = { known: knownIdx };

    // B. real-time order of the etcd index over linearizable ops.
    const observedIndex = (n: Norm): number | undefined => {
      const r = n.h.result;
      if (n.outcome === "unknown") return undefined;
      if (r.type === "ok") {
        if (n.h.op.type === "get") return r.etcdIndex;
        return r.node?.modifiedIndex ?? r.etcdIndex;
      }
      if (r.type === "error" && STORE_CODES.has(r.code) && r.index !== undefined && r.index > 0) return r.index;
      return undefined;
    };
    const isPlain = (n: Norm) => n.h.op.type === "get" && !n.h.op.quorum;
    const rt: RtItem[] = [];
    for (const n of used) {
      if (isPlain(n)) continue;
      const v = observedIndex(n);
      if (v !== undefined) rt.push({ n, v, strict: n.outcome === "ok" && n.h.op.type !== "get" });
    }
    const bad = realtimeViolation(rt, rt);
    if (bad !== null) {
      const [a, b] = bad;
      return {
        partitions: [],
        failure: failure(a.n.key === b.n.key ? a.n.key : `${a.n.key} ${b.n.key}`, "index-order", [
          `the etcd index contradicts real time: #${a.n.h.id ?? a.n.hid} completed at ${a.n.complete} before #${b.n.h.id ?? b.n.hid} was invoked at ${b.n.invoke}, ` +
            `but shows index ${a.v} ${b.strict ? ">=" : ">"} ${b.v}${b.strict ? " (a later write must get a higher index)" : ""}:`,
          `  ${a.n.label}`,
          `  ${b.n.label}`,
        ]),
      };
    }

    // Per key: known write indexes (sorted), removals, uncertainty.
    const keyIdx = new Map<string, number[]>();
    for (const [m, n] of knownW) {
      let l = keyIdx.get(n.key);
      if (l === undefined) keyIdx.set(n.key, (l = []));
      l.push(m);
    }
    for (const l of keyIdx.values()) l.sort((a, b) => a - b);
    const uncertain = new Set<string>();
    const unknownWriters = new Map<string, Norm[]>();
    for (const n of used) {
      const op = n.h.op;
      if (op.type === "get") continue;
      const r = n.h.result;
      if ("ttl" in op && op.ttl !== undefined && n.outcome !== "error") uncertain.add(n.key);
      if (n.outcome === "unknown" || (r.type === "ok" && r.node === undefined)) {
        uncertain.add(n.key);
        const l = unknownWriters.get(n.key) ?? [];
        l.push(n);
        unknownWriters.set(n.key, l);
      }
    }

    // read-index: a GET with X-Etcd-Index e read the state at e.
    for (const n of used) {
      if (n.h.op.type !== "get" || n.outcome === "unknown" || (isPlain(n) && !this.plain)) continue;
      const r = n.h.result;
      const e = r.type === "ok" ? r.etcdIndex : undefined;
      if (e === undefined && !(r.type === "error" && r.code === 100 && r.index !== undefined && r.index > 0)) continue;
      const at = e ?? (r as { index: number }).index;
      const idx = keyIdx.get(n.key) ?? [];
      if (r.type === "ok" && r.node !== undefined) {
        const { modifiedIndex: mi, createdIndex: ci } = r.node;
        if (!(ci <= mi && mi <= at))
          return { partitions: [], failure: failure(n.key, "read-index", [`a read at index ${at} shows a node with createdIndex ${ci}, modifiedIndex ${mi}:`, `  ${n.label}`]) };
        const j = lowerBound(idx, mi + 1);
        if (j < idx.length && idx[j]! <= at) {
          const w = knownW.get(idx[j]!)!;
          return {
            partitions: [],
            failure: failure(n.key, "read-index", [
              `a read at index ${at} shows the node written at ${mi}, but the key was written again at ${idx[j]} <= ${at}:`,
              `  ${n.label}`,
              `  ${w.label}`,
            ]),
          };
        }
      } else if (r.type === "error" && r.code === 100 && !uncertain.has(n.key)) {
        const j = lowerBound(idx, at + 1) - 1;
        const lastW = j >= 0 ? knownW.get(idx[j]!)! : undefined;
        const existed = lastW !== undefined ? lastW.h.op.type !== "delete" && lastW.h.op.type !== "compareAndDelete" : this.initial[n.key] !== undefined;
        if (existed) {
          return {
            partitions: [],
            failure: failure(n.key, "read-index", [
              `a read at index ${at} found no key, but the last write to it at or below ${at} left it existing:`,
              `  ${n.label}`,
              ...(lastW !== undefined ? [`  ${lastW.label}`] : ["  (initial node)"]),
            ]),
          };
        }
      }
    }

    // D. non-quorum reads.
    if (this.plain) {
      const f = this.checkPlainReads(used, knownW, knownIdx, unknownWriters, observedIndex, isPlain);
      if (f !== null) return { partitions: [], failure: f };
    }

    return { partitions: this.partitions(used, ctx, knownIdx, isPlain) };
  }

  private checkPlainReads(
    used: Norm[],
    knownW: Map<number, Norm>,
    knownIdx: Set<number>,
    unknownWriters: Map<string, Norm[]>,
    observedIndex: (n: Norm) => number | undefined,
    isPlain: (n: Norm) => boolean,
  ): CheckFailure | null {
    const plainFail = (n: Norm, msg: string, others: Norm[] = []) =>
      failure(n.key, "plain-read", [`non-quorum read: ${msg}`, `  ${n.label}`, ...others.map((o) => `  ${o.label}`)]);
    for (const n of used) {
      if (!isPlain(n) || n.outcome !== "ok") continue;
      const node = (n.h.result as { node?: NodeObs }).node;
      if (node === undefined) continue;
      const w = knownW.get(node.modifiedIndex);
      if (w !== undefined) {
        if (w.key !== n.key) return plainFail(n, `shows index ${node.modifiedIndex}, which is a write to ${w.key}`, [w]);
        const wr = w.h.result as { node: NodeObs };
        const wv = "value" in w.h.op ? w.h.op.value : undefined;
        if (w.h.op.type === "delete" || w.h.op.type === "compareAndDelete") return plainFail(n, `shows index ${node.modifiedIndex}, which is a delete`, [w]);
        if (node.value !== undefined && node.value !== wv) return plainFail(n, `shows value ${q(node.value)} at index ${node.modifiedIndex}, but that write wrote ${q(wv)}`, [w]);
        if (node.createdIndex !== wr.node.createdIndex) return plainFail(n, `shows createdIndex ${node.createdIndex}, but the write at ${node.modifiedIndex} reported ${wr.node.createdIndex}`, [w]);
        if (!(w.invoke < n.complete)) return plainFail(n, "reads a write that was invoked only after the read completed", [w]);
        continue;
      }
      const init = this.initial[n.key];
      if (init !== undefined && init.modifiedIndex === node.modifiedIndex && init.createdIndex === node.createdIndex && (node.value === undefined || init.value === node.value)) continue;
      let cands = unknownWriters.get(n.key) ?? [];
      const io = parseInOrderName(n.key);
      if (io !== null) cands = cands.concat(used.filter((u) => u.h.op.type === "createInOrder" && u.h.op.dir === io[0] && u.key === io[0]));
      const ok =
        !knownIdx.has(node.modifiedIndex) &&
        cands.some((u) => u.invoke < n.complete && (node.value === undefined || ("value" in u.h.op && u.h.op.value === node.value)));
      if (!ok) return plainFail(n, `shows ${q(node.value ?? "")} at index ${node.modifiedIndex}, which no write (that could have happened before the read completed) produced`);
    }
    // Per member: the view never goes back.
    const withMember = used.filter((n) => n.h.member !== undefined && n.outcome !== "unknown");
    for (const [member, ns] of groupBy(withMember, (n) => n.h.member!)) {
      const items: RtItem[] = [];
      for (const n of ns) {
        const v = observedIndex(n);
        if (v !== undefined) items.push({ n, v, strict: false });
      }
      const bad = realtimeViolation(items, items);
      if (bad !== null) {
        const [a, b] = bad;
        return failure(b.n.key, "plain-read", [
          `member ${member}'s view went back: #${a.n.h.id ?? a.n.hid} (index ${a.v}) completed before #${b.n.h.id ?? b.n.hid} (index ${b.v}) was invoked:`,
          `  ${a.n.label}`,
          `  ${b.n.label}`,
        ]);
      }
      for (const [key, kns] of groupBy(ns, (n) => n.key)) {
        const as: RtItem[] = [];
        const bs: RtItem[] = [];
        for (const n of kns) {
          const r = n.h.result;
          if (r.type !== "ok" || r.node === undefined) continue;
          const it = { n, v: r.node.modifiedIndex, strict: false };
          as.push(it);
          if (isPlain(n)) bs.push(it);
        }
        const bad2 = realtimeViolation(as, bs);
        if (bad2 !== null) {
          const [a, b] = bad2;
          return failure(key, "plain-read", [
            `member ${member} served an older node of ${key} (modifiedIndex ${b.v}) after #${a.n.h.id ?? a.n.hid} had shown modifiedIndex ${a.v}:`,
            `  ${a.n.label}`,
            `  ${b.n.label}`,
          ]);
        }
      }
    }
    return null;
  }

  private partitions(used: Norm[], ctx: Ctx, knownIdx: Set<number>, isPlain: (n: Norm) => boolean): Partition<V2Step>[] {
    const byKey = new Map<string, Norm[]>();
    const orphanPosts = new Map<string, Norm[]>();
    const knownPostKeys = new Set<string>();
    for (const n of used) {
      if (isPlain(n)) continue;
      const op = n.h.op;
      if (op.type === "createInOrder" && n.key === op.dir) {
        const l = orphanPosts.get(op.dir) ?? [];
        l.push(n);
        orphanPosts.set(op.dir, l);
        continue;
      }
      if (op.type === "createInOrder") knownPostKeys.add(n.key);
      const l = byKey.get(n.key) ?? [];
      l.push(n);
      byKey.set(n.key, l);
    }
    const out: Partition<V2Step>[] = [];
    for (const [key, ns] of byKey) {
      const list: { n: Norm; fixed: number; label: string }[] = ns.map((n) => ({ n, fixed: 0, label: n.label }));
      const io = parseInOrderName(key);
      if (io !== null && !knownPostKeys.has(key) && !knownIdx.has(io[1])) {
        for (const p of orphanPosts.get(io[0]) ?? []) list.push({ n: p, fixed: io[1], label: `${p.label} (may have created ${key})` });
      }
      if (!list.some((x) => x.n.outcome !== "unknown" && x.fixed === 0)) continue;
      list.sort((a, b) => a.n.invoke - b.n.invoke || a.n.hid - b.n.hid);
      const ops: TimedOp<V2Step>[] = [];
      const expiries: TimedOp<V2Step>[] = [];
      for (const { n, fixed, label } of list) {
        const lid = ops.length;
        const st = this.toStep(n, lid, fixed, ctx);
        // An orphan candidate (fixed > 0) created some in-order key, maybe this one: droppable.
        if (fixed > 0) {
          st.outcome = "unknown";
          st.eidx = 0;
        }
        const unknownOutcome = st.outcome === "unknown";
        ops.push({ op: st, invoke: n.invoke, complete: unknownOutcome ? n.invoke + this.within : n.complete, mustLinearize: !unknownOutcome, label });
        const ttl = "ttl" in n.h.op ? n.h.op.ttl : undefined;
        if (ttl !== undefined && n.outcome !== "error") {
          const at = n.invoke + ttl * this.unit - this.skew;
          expiries.push({
            op: { ...st, kind: "expire", hid: -1, lid: -1, owner: lid, outcome: "unknown", node: undefined, prevNode: undefined, hasTtl: false, eidx: 0 },
            invoke: at,
            complete: Infinity,
            mustLinearize: false,
            label: `(expiry of #${n.h.id ?? n.hid}'s TTL, possible from ${at})`,
          });
        }
      }
      for (const e of expiries) {
        e.op.lid = ops.length;
        ops.push(e);
      }
      out.push({ key, ops });
    }
    return out;
  }

  private toStep(n: Norm, lid: number, fixed: number, ctx: Ctx): V2Step {
    const op = n.h.op;
    const r = n.h.result;
    const kinds: Record<string, Kind> = {
      get: "get",
      set: "set",
      create: "create",
      update: "update",
      compareAndSwap: "cas",
      delete: "delete",
      compareAndDelete: "cad",
      createInOrder: "post",
    };
    return {
      kind: kinds[op.type]!,
      hid: n.hid,
      lid,
      outcome: n.outcome,
      code: r.type === "error" ? r.code : 0,
      value: "value" in op ? op.value : "",
      prevValue: "prevValue" in op ? op.prevValue : undefined,
      prevIndex: "prevIndex" in op ? (op.prevIndex ?? 0) : 0,
      hasTtl: "ttl" in op && op.ttl !== undefined,
      node: r.type === "ok" ? r.node : undefined,
      prevNode: r.type === "ok" ? r.prevNode : undefined,
      fixedIndex: fixed,
      owner: -1,
      eidx: n.outcome === "unknown" ? 0 : r.type === "ok" ? (op.type === "get" ? (r.etcdIndex ?? 0) : (r.node?.modifiedIndex ?? r.etcdIndex ?? 0)) : r.type === "error" && STORE_CODES.has(r.code) ? (r.index ?? 0) : 0,
      ctx,
    };
  }
}

/** A v2 model with options (TTL time scale, clock skew, initial keys, plain-read checks). */
export function createV2Model(opts: V2ModelOptions = {}): Model<Operation, V2Step, V2State> {
  return new V2Model(opts);
}

/** The v2 model with default options: times in ms, no skew, empty initial keyspace. */
export const v2Model: Model<Operation, V2Step, V2State> = createV2Model();
