// A linearizability checker in the style of Wing & Gong, with Lowe's just-in-time
// linearization and memoization, over histories split into independent parts (per key), as
// Porcupine does. Pure TypeScript, no I/O.
//
// The search, for one partition: the call and return events of its operations sit in one list
// ordered by time (at equal times calls first, so equal times count as concurrent). An operation
// can be linearized next iff its call comes before the first return still in the list (no pending
// operation returned before it was invoked). Depth-first: pick such an operation, ask the model
// for the states it can lead to, take the operation out of the list, go on; on a dead end, put it
// back and try the next choice. A configuration (set of linearized operations, model state) seen
// before is not explored again (Lowe's memoization; the set is a bitset).
//
// Operations whose outcome is unknown ("droppable": they may or may not have taken effect, and
// nothing was observed) get no return event, so they never force anything (if they have a
// deadline, they can no longer be placed once an op invoked after it is); the search succeeds
// once every other operation is linearized (the droppable ones left are put at the end, where
// they observe nothing, which is the same as never having happened). Three extra prunings, all
// exact, keep unknown outcomes cheap:
//   * a droppable operation is never linearized where it would not change the state (putting it
//     at the end instead is always at least as good);
//   * a droppable operation placed right after another droppable one is skipped when placing it
//     just before that one gives the same state (fewer placed ops, same state: dominates);
//   * memoization is by (bitset of the other operations, state), remembering the sets of
//     droppable operations already placed; a configuration is skipped when it has placed a
//     superset of a remembered set (more placed, same obligations and state: cannot do better).
//     Candidates are tried definite ones first, so small sets are usually remembered first.
// Models may add an exact dead-end test (bound/progress: an op that can no longer be applied in
// any later state dooms the configuration) and hints that only change the order of trial
// (priority; provides/observes also rank droppable ops: those providing what a waiting op
// observes go first). The memo key is a Zobrist hash of the bitset, verified on hits.
//
// The model decides what a partition is and what is checked; see model-v2.ts for the v2 keyspace.

/** One operation of a partition, as the search sees it. */
export interface TimedOp<P> {
  /** What the model steps with. */
  op: P;
  invoke: number;
  /**
   * When the response arrived. For an op with an unknown outcome: the time by which it has taken
   * effect if it ever does (Infinity when there is no such bound).
   */
  complete: number;
  /**
   * false for operations with an unknown outcome (and other "may happen" events such as a TTL
   * expiry). The model must guarantee that step() on them never returns an empty list.
   */
  mustLinearize: boolean;
  /** One line for explanations. */
  label: string;
}

export interface Partition<P> {
  key: string;
  ops: TimedOp<P>[];
}

export interface CheckFailure {
  ok: false;
  /** The key (partition) at fault; for history-wide checks, the key(s) of the ops involved. */
  key: string;
  /** Which check failed: "linearizability", or a model-specific name such as "index-unique". */
  kind: string;
  /** Readable: the (minimized) failing sub-history and why it fails. */
  explanation: string;
}

export type CheckResult = { ok: true } | CheckFailure | { ok: "unknown"; reason: "timeout" };

/** A sequential specification plus how to split histories into independent parts. */
export interface Model<H, P, S> {
  readonly name: string;
  /**
   * Validates the history, runs the checks that span partitions, and splits it. A failure of a
   * history-wide check is returned as `failure` (the partitions are then not searched).
   * Malformed input (not a checking result) should throw.
   */
  prepare(history: readonly H[]): { partitions: Partition<P>[]; failure?: CheckFailure };
  init(key: string): S;
  /** States the op can lead to from s, given what it observed. [] = impossible here. */
  step(s: S, op: P): readonly S[];
  /** Equal strings ⇔ equal states (memoization key). */
  hash(s: S): string;
  describeState(s: S): string;
  /** Why step(s, op) is [] (for explanations). */
  explain(s: S, op: P): string;
  /**
   * Search order hint: among the ops that may go next, definite ones are tried by ascending
   * priority (e.g. the index the response showed), ties in invoke order. Speed only.
   */
  priority?(op: P): number;
  /**
   * Optional exact pruning: progress(s) never decreases along steps, and a definite op cannot be
   * applied in any state whose progress exceeds bound(op) (e.g. a write that reported index m
   * cannot follow a state that already saw an index >= m). A configuration where some op still
   * to be linearized has bound < progress is a dead end.
   */
  bound?(op: P): number;
  progress?(s: S): number;
  /**
   * For minimizing failures: tokens (e.g. "index 7") an op makes visible and tokens it relies
   * on. The minimizer never drops the last provider of a token that a kept op relies on, so an
   * explanation never ends up as "read a value nobody wrote" merely because the write was cut.
   * Also used to rank droppable ops in the search (speed only).
   */
  provides?(op: P): readonly string[];
  /**
   * full: list everything (used for the op the search got stuck on, and to rank droppable ops);
   * otherwise only what must keep its provider when minimizing.
   */
  observes?(op: P, full: boolean): readonly string[];
}

export interface CheckOptions {
  /** Give up (result "unknown") after this long. Default: no limit. */
  timeoutMs?: number;
  /** Shrink a failing partition to a small failing sub-history for the explanation (default true). */
  minimize?: boolean;
  /** Time allowed for minimizing (default 2000 ms, capped by what is left of timeoutMs). */
  minimizeMs?: number;
}

/** Search statistics, for measurements. */
export interface SearchStats {
  partitions: number;
  ops: number;
  /** Configurations explored (successful steps). */
  steps: number;
}

export const lastStats: SearchStats = { partitions: 0, ops: 0, steps: 0 };

const now: () => number =
  typeof performance !== "undefined" && typeof performance.now === "function" ? () => performance.now() : () => Date.now();

// ---------------------------------------------------------------------------------------------
// The search

type Outcome = "ok" | "fail" | "timeout";

interface Deepest<S> {
  /** Definite ops linearized at the dead end. */
  depth: number;
  /** Order of linearization (indices into the partition's ops) up to the dead end. */
  path: number[];
  state: S;
  /** Ops that could have gone next there (all failed or led nowhere). */
  candidates: number[];
  /** The pending op that returned first (nothing invoked after its return can go before it). */
  blocker: number;
}

interface SearchResult<S> {
  outcome: Outcome;
  steps: number;
  deepest: Deepest<S> | null;
}

interface Frame<S> {
  /** The op whose linearization led here (-1 at the root). */
  via: number;
  state: S;
  stateId: number;
  /** Ops that may go next: the definite ones first; the droppable ones are appended lazily. */
  cands: number[];
  dropsAdded: boolean;
  ci: number;
  succ: Stepped<S> | null;
  si: number;
  depth: number;
  /** Latest invoke among the ops linearized so far (a droppable op due before it is out). */
  maxInv: number;
  /** step() results from this state, by op (only for ops a child frame asked about). */
  cache: Map<number, Stepped<S>> | null;
}

interface Stepped<S> {
  succ: readonly S[];
  /** Interned ids of succ, -1 = not computed yet. */
  ids: Int32Array | null;
}

interface MemoEntry {
  stateId: number;
  bits: Uint32Array;
  /** Sets of droppable ops placed when this configuration was reached (none a subset of another). */
  drops: Uint32Array[];
}

function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i]! & ~b[i]!) !== 0) return false;
  return true;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function search<P, S>(
  ops: readonly TimedOp<P>[],
  model: Model<unknown, P, S>,
  key: string,
  deadline: number,
  maxSteps: number,
  wantDeepest: boolean,
): SearchResult<S> {
  const n = ops.length;
  // Bit positions: definite ops and droppable ops are numbered separately.
  const slot = new Int32Array(n);
  let nDef = 0;
  let nDrop = 0;
  for (let i = 0; i < n; i++) slot[i] = ops[i]!.mustLinearize ? nDef++ : nDrop++;
  const defBits = new Uint32Array(Math.max(1, (nDef + 31) >>> 5));
  const dropBits = new Uint32Array(Math.max(1, (nDrop + 31) >>> 5));
  // Zobrist hashes of defBits, kept up to date by setBit.
  const z1 = new Int32Array(nDef);
  const z2 = new Int32Array(nDef);
  {
    let x = 0x2545f491;
    const rnd = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x | 0;
    };
    for (let i = 0; i < nDef; i++) {
      z1[i] = rnd();
      z2[i] = rnd();
    }
  }
  let h1 = 0;
  let h2 = 0;

  // Events in time order (at equal times calls first). Definite ops' calls and returns form a
  // doubly linked list (entries 0..E-1, head H = E, tail T = E + 1); droppable ops have no
  // return, so they stay out of the list: a droppable op may go next iff its call position is
  // before the first return still in the list.
  type Ev = { t: number; call: boolean; op: number };
  const all: Ev[] = [];
  for (let i = 0; i < n; i++) {
    const o = ops[i]!;
    all.push({ t: o.invoke, call: true, op: i });
    if (o.mustLinearize) all.push({ t: o.complete, call: false, op: i });
  }
  all.sort((a, b) => a.t - b.t || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const evs: Ev[] = [];
  const evPos: number[] = [];
  const dropOps: number[] = [];
  const dropPos = new Int32Array(n);
  all.forEach((ev, p) => {
    if (ops[ev.op]!.mustLinearize) {
      evs.push(ev);
      evPos.push(p);
    } else {
      dropOps.push(ev.op);
      dropPos[ev.op] = p;
    }
  });
  const E = evs.length;
  const H = E;
  const T = E + 1;
  const next = new Int32Array(E + 2);
  const prev = new Int32Array(E + 2);
  const evOp = new Int32Array(E);
  const evCall = new Uint8Array(E);
  const callEv = new Int32Array(n).fill(-1);
  const retEv = new Int32Array(n).fill(-1);
  for (let e = 0; e < E; e++) {
    const ev = evs[e]!;
    evOp[e] = ev.op;
    evCall[e] = ev.call ? 1 : 0;
    if (ev.call) callEv[ev.op] = e;
    else retEv[ev.op] = e;
    next[e] = e + 1 === E ? T : e + 1;
    prev[e] = e === 0 ? H : e - 1;
  }
  next[H] = E === 0 ? T : 0;
  prev[T] = E === 0 ? H : E - 1;
  const placed = new Uint8Array(n);
  const lift = (i: number) => {
    placed[i] = 1;
    for (const e of [callEv[i]!, retEv[i]!]) {
      if (e < 0) continue;
      next[prev[e]!] = next[e]!;
      prev[next[e]!] = prev[e]!;
    }
  };
  const unlift = (i: number) => {
    placed[i] = 0;
    for (const e of [retEv[i]!, callEv[i]!]) {
      if (e < 0) continue;
      next[prev[e]!] = e;
      prev[next[e]!] = e;
    }
  };

  // Order of trial (speed only): definite ops by the model's priority, then call order;
  // droppable ones (only when the definite ones led nowhere) first those that provide something
  // a definite op observes, then call order.
  const prio = new Float64Array(n);
  if (model.priority !== undefined) for (let i = 0; i < n; i++) prio[i] = ops[i]!.mustLinearize ? model.priority(ops[i]!.op) : 0;
  const provided: (readonly string[])[] = ops.map((o) => (o.mustLinearize ? [] : (model.provides?.(o.op) ?? [])));
  const observedBy: (readonly string[])[] = ops.map((o) => (o.mustLinearize ? (model.observes?.(o.op, true) ?? []) : []));
  {
    const observed = new Set<string>();
    for (const l of observedBy) for (const t of l) observed.add(t);
    const useful = (i: number) => provided[i]!.some((t) => observed.has(t));
    dropOps.sort((a, b) => dropPos[a]! - dropPos[b]!);
    const u = dropOps.filter(useful);
    const rest = dropOps.filter((i) => !useful(i));
    dropOps.length = 0;
    dropOps.push(...u, ...rest);
  }
  const definiteCandidates = (): number[] => {
    const def: number[] = [];
    for (let e = next[H]!; e !== T && evCall[e] === 1; e = next[e]!) def.push(evOp[e]!);
    if (def.length > 1 && model.priority !== undefined) def.sort((a, b) => prio[a]! - prio[b]! || callEv[a]! - callEv[b]!);
    return def;
  };
  const firstReturn = (): number => {
    let e = next[H]!;
    while (e !== T && evCall[e] === 1) e = next[e]!;
    return e;
  };
  const addDroppables = (f: Frame<S>) => {
    f.dropsAdded = true;
    if (dropOps.length === 0) return;
    const r = firstReturn();
    const limit = r === T ? Infinity : evPos[r]!;
    // Those providing what one of the waiting definite ops observes go first.
    const wanted = new Set<string>();
    for (const c of f.cands) for (const t of observedBy[c]!) wanted.add(t);
    const later: number[] = [];
    for (const d of dropOps) {
      if (placed[d] !== 0 || dropPos[d]! >= limit || ops[d]!.complete < f.maxInv) continue;
      if (provided[d]!.some((t) => wanted.has(t))) f.cands.push(d);
      else later.push(d);
    }
    for (const d of later) f.cands.push(d);
  };
  const blocker = (): number => {
    const r = firstReturn();
    return r === T ? -1 : evOp[r]!;
  };

  const stateIds = new Map<string, number>();
  const intern = (s: S): number => {
    const h = model.hash(s);
    let id = stateIds.get(h);
    if (id === undefined) {
      id = stateIds.size;
      stateIds.set(h, id);
    }
    return id;
  };
  const idAt = (st: Stepped<S>, k: number): number => {
    let ids = st.ids;
    if (ids === null) st.ids = ids = new Int32Array(st.succ.length).fill(-1);
    let id = ids[k]!;
    if (id < 0) ids[k] = id = intern(st.succ[k]!);
    return id;
  };
  // memo: (stateId, defBits) -> droppable sets already placed at that configuration.
  const memo = new Map<number, MemoEntry[]>();
  const seen = (stateId: number): boolean => {
    const k = ((h1 ^ Math.imul(stateId + 1, 0x9e3779b1)) >>> 0) * 2097152 + ((h2 ^ stateId) & 0x1fffff);
    let bucket = memo.get(k);
    if (bucket === undefined) memo.set(k, (bucket = []));
    let entry: MemoEntry | undefined;
    for (const x of bucket) {
      if (x.stateId === stateId && sameBits(x.bits, defBits)) {
        entry = x;
        break;
      }
    }
    if (entry === undefined) {
      bucket.push({ stateId, bits: defBits.slice(), drops: [dropBits.slice()] });
      return false;
    }
    for (const v of entry.drops) if (isSubset(v, dropBits)) return true;
    // Keep the list small: sets that contain the new one are now redundant.
    const cur = dropBits.slice();
    entry.drops = entry.drops.filter((v) => !isSubset(cur, v));
    entry.drops.push(cur);
    return false;
  };
  const setBit = (i: number, on: boolean) => {
    const s = slot[i]!;
    if (ops[i]!.mustLinearize) {
      if (on) defBits[s >>> 5]! |= 1 << (s & 31);
      else defBits[s >>> 5]! &= ~(1 << (s & 31));
      h1 ^= z1[s]!;
      h2 ^= z2[s]!;
    } else if (on) dropBits[s >>> 5]! |= 1 << (s & 31);
    else dropBits[s >>> 5]! &= ~(1 << (s & 31));
  };

  let remaining = nDef;
  let steps = 0;
  let work = 0;
  let deepest: Deepest<S> | null = null;
  if (remaining === 0) return { outcome: "ok", steps, deepest };

  /** step() of op i from frame g's state (kept in g when `keep`, for g's own turn later). */
  const stepAt = (g: Frame<S>, i: number, keep: boolean): Stepped<S> => {
    const c = g.cache?.get(i);
    if (c !== undefined) return c;
    const r: Stepped<S> = { succ: model.step(g.state, ops[i]!.op), ids: null };
    if (keep) (g.cache ??= new Map()).set(i, r);
    return r;
  };
  const frame = (via: number, state: S, stateId: number, depth: number, maxInv: number): Frame<S> => ({
    via,
    state,
    stateId,
    cands: definiteCandidates(),
    dropsAdded: false,
    ci: 0,
    succ: null,
    si: 0,
    depth,
    maxInv,
    cache: null,
  });

  // Definite ops by bound (for the dead-end test), with a cursor to the lowest one not placed.
  const useBound = model.bound !== undefined && model.progress !== undefined;
  const byBound: number[] = [];
  const boundOf = new Float64Array(n).fill(Infinity);
  const rankInBound = new Int32Array(n).fill(-1);
  if (useBound) {
    for (let i = 0; i < n; i++) if (ops[i]!.mustLinearize) boundOf[i] = model.bound!(ops[i]!.op);
    for (let i = 0; i < n; i++) if (boundOf[i]! !== Infinity) byBound.push(i);
    byBound.sort((a, b) => boundOf[a]! - boundOf[b]!);
    byBound.forEach((i, r) => (rankInBound[i] = r));
  }
  let cursor = 0;
  const doomed = (s: S): boolean => {
    if (!useBound) return false;
    while (cursor < byBound.length && placed[byBound[cursor]!] === 1) cursor++;
    return cursor < byBound.length && boundOf[byBound[cursor]!]! < model.progress!(s);
  };
  const unplaced = (i: number) => {
    const r = rankInBound[i]!;
    if (r >= 0 && r < cursor) cursor = r;
  };

  const init = model.init(key);
  const stack: Frame<S>[] = [frame(-1, init, intern(init), 0, -Infinity)];
  seen(stack[0]!.stateId);

  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    let pushed = false;
    for (;;) {
      if (f.ci >= f.cands.length) {
        if (f.dropsAdded) break;
        addDroppables(f);
        continue;
      }
      const i = f.cands[f.ci]!;
      const o = ops[i]!;
      if (f.succ === null) {
        f.succ = stepAt(f, i, false);
        f.si = 0;
        if ((++work & 1023) === 0 && (now() > deadline || work > maxSteps)) return { outcome: "timeout", steps, deepest };
      }
      // Droppable right after droppable: if placing it one step earlier (before the previous
      // droppable) gives the same state, that configuration has fewer ops placed and dominates.
      let earlier: Stepped<S> | null = null;
      if (!o.mustLinearize && f.via >= 0 && !ops[f.via]!.mustLinearize) earlier = stepAt(stack[stack.length - 2]!, i, true);
      const st = f.succ;
      succs: while (f.si < st.succ.length) {
        const k = f.si++;
        const ns = st.succ[k]!;
        if (!o.mustLinearize && ns === f.state) continue;
        const nsId = idAt(st, k);
        if (!o.mustLinearize && nsId === f.stateId) continue;
        if (earlier !== null) for (let j = 0; j < earlier.succ.length; j++) if (idAt(earlier, j) === nsId) continue succs;
        setBit(i, true);
        if (seen(nsId)) {
          setBit(i, false);
          continue;
        }
        lift(i);
        if (o.mustLinearize) remaining--;
        steps++;
        if (remaining === 0) return { outcome: "ok", steps, deepest };
        if (doomed(ns)) {
          // Some op still to go can no longer be applied: undo at once.
          unlift(i);
          unplaced(i);
          setBit(i, false);
          if (o.mustLinearize) remaining++;
          continue;
        }
        stack.push(frame(i, ns, nsId, f.depth + (o.mustLinearize ? 1 : 0), Math.max(f.maxInv, o.invoke)));
        pushed = true;
        break;
      }
      if (pushed) break;
      f.succ = null;
      f.ci++;
    }
    if (pushed) continue;
    // Dead end at f.
    if (wantDeepest && (deepest === null || f.depth > deepest.depth)) {
      deepest = {
        depth: f.depth,
        path: stack.slice(1).map((x) => x.via),
        state: f.state,
        candidates: f.cands.slice(),
        blocker: blocker(),
      };
    }
    stack.pop();
    if (f.via >= 0) {
      unlift(f.via);
      unplaced(f.via);
      setBit(f.via, false);
      if (ops[f.via]!.mustLinearize) remaining++;
    }
  }
  return { outcome: "fail", steps, deepest };
}

// ---------------------------------------------------------------------------------------------
// Explanations

function minimizeFailing<P, S>(
  ops: TimedOp<P>[],
  model: Model<unknown, P, S>,
  key: string,
  deadline: number,
  keep: TimedOp<P> | undefined,
): TimedOp<P>[] {
  const provides = (o: TimedOp<P>) => model.provides?.(o.op) ?? [];
  const observes = (o: TimedOp<P>) => model.observes?.(o.op, o === keep) ?? [];
  // A candidate must fail in the same way: stuck on the same op (else dropping, say, the delete
  // before a create would turn "stale read" into "create on an existing key").
  const stillFails = (cand: TimedOp<P>[]) => {
    if (now() > deadline) return false;
    const r = search(cand, model, key, deadline, 200_000, keep !== undefined);
    if (r.outcome !== "fail") return false;
    return keep === undefined || (r.deepest !== null && r.deepest.blocker >= 0 && cand[r.deepest.blocker] === keep);
  };
  // In invoke order: chunks are tried from the end, so late operations go first.
  let cur = ops.slice().sort((a, b) => a.invoke - b.invoke);
  /** Drops `chunk` from cur if the rest still fails the same way; the kept op and the last
   *  provider of anything a kept op observes stay (to a fixpoint). */
  const tryDrop = (chunk: readonly TimedOp<P>[]): boolean => {
    const drop = new Set<TimedOp<P>>(chunk);
    if (keep !== undefined) drop.delete(keep);
    for (let changed = true; changed; ) {
      changed = false;
      const have = new Set<string>();
      const need = new Set<string>();
      for (const o of cur) {
        if (drop.has(o)) continue;
        for (const t of provides(o)) have.add(t);
        for (const t of observes(o)) need.add(t);
      }
      for (const o of drop) {
        if (provides(o).some((t) => need.has(t) && !have.has(t))) {
          drop.delete(o);
          changed = true;
        }
      }
    }
    if (drop.size === 0) return false;
    const cand = cur.filter((o) => !drop.has(o));
    if (!stillFails(cand)) return false;
    cur = cand;
    return true;
  };
  // 1. Whatever was invoked after the culprit returned (rarely needed).
  if (keep !== undefined) tryDrop(cur.filter((o) => o.invoke > keep.complete));
  // 2. The distant past rarely matters: keep only the last w ops invoked before the culprit,
  //    for the smallest w in 0, 1, 2, 4, ... that still fails the same way.
  if (keep !== undefined) {
    const ci = cur.indexOf(keep);
    for (let w = 0; w < ci && now() < deadline; w = w === 0 ? 1 : w * 2) if (tryDrop(cur.slice(0, ci - w))) break;
  }
  // 3. Chunks of halving size, from the end.
  for (let chunk = Math.max(1, cur.length >> 1); ; chunk >>= 1) {
    for (let end = cur.length; end > 0 && now() < deadline; end -= chunk) tryDrop(cur.slice(Math.max(0, end - chunk), end));
    if (chunk <= 1 || now() > deadline) break;
  }
  return cur;
}

function explainPartition<P, S>(
  all: TimedOp<P>[],
  ops: TimedOp<P>[],
  model: Model<unknown, P, S>,
  key: string,
  known?: SearchResult<S>,
): string {
  const r = known ?? search(ops, model, key, Infinity, 2_000_000, true);
  const sorted = ops
    .map((o, i) => ({ o, i }))
    .sort((a, b) => a.o.invoke - b.o.invoke || a.o.complete - b.o.complete || a.i - b.i);
  const lines: string[] = [];
  const shrunk = ops.length < all.length ? `, shrunk from ${all.length} ops on this key` : "";
  lines.push(`key ${JSON.stringify(key)}: no linearization of these ${ops.length} operations (model ${model.name}${shrunk}):`);
  for (const { o } of sorted) lines.push(`  ${o.label}`);
  const d = r.deepest;
  if (r.outcome === "fail" && d !== null) {
    const lin = d.path.map((i) => ops[i]!.label.split(" ")[0]).join(", ");
    lines.push(`Longest partial linearization: ${d.path.length === 0 ? "(none)" : lin}`);
    lines.push(`  state then: ${model.describeState(d.state)}`);
    const why: string[] = [];
    for (const i of d.candidates) {
      const o = ops[i]!;
      if (!o.mustLinearize) continue;
      const succ = model.step(d.state, o.op);
      why.push(`  ${o.label.split(" ")[0]} cannot go next: ${succ.length === 0 ? model.explain(d.state, o.op) : "every continuation after it fails"}`);
    }
    if (d.blocker >= 0) {
      const b = ops[d.blocker]!;
      why.push(`  ${b.label.split(" ")[0]} returned first among the pending ops, so it must be linearized before any op invoked after ${b.complete}`);
    }
    lines.push(...why);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Entry point

/**
 * Checks that a history is linearizable with respect to `model` (see Model). Partitions are
 * checked independently; the first (smallest, then by key) failing one is reported.
 * `{ ok: "unknown" }` when the time ran out before every partition was decided and none failed.
 */
export function checkLinearizable<H, P, S>(history: readonly H[], model: Model<H, P, S>, opts: CheckOptions = {}): CheckResult {
  const start = now();
  const deadline = opts.timeoutMs === undefined ? Infinity : start + opts.timeoutMs;
  const prep = model.prepare(history);
  lastStats.partitions = prep.partitions.length;
  lastStats.ops = prep.partitions.reduce((a, p) => a + p.ops.length, 0);
  lastStats.steps = 0;
  if (prep.failure !== undefined) return prep.failure;
  const parts = prep.partitions.slice().sort((a, b) => a.ops.length - b.ops.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let timedOut = false;
  const m = model as unknown as Model<unknown, P, S>;
  for (const p of parts) {
    if (now() > deadline) {
      timedOut = true;
      break;
    }
    const r = search(p.ops, m, p.key, deadline, Infinity, true);
    lastStats.steps += r.steps;
    if (r.outcome === "timeout") {
      timedOut = true;
      continue;
    }
    if (r.outcome === "fail") {
      let small = p.ops;
      if (opts.minimize !== false) {
        const budget = opts.minimizeMs ?? 2000;
        const minDeadline = Math.min(now() + budget, deadline === Infinity ? Infinity : Math.max(deadline, now() + 50));
        const d = r.deepest;
        small = minimizeFailing(p.ops, m, p.key, minDeadline, d !== null && d.blocker >= 0 ? p.ops[d.blocker] : undefined);
      }
      const explanation = explainPartition(p.ops, small, m, p.key, small === p.ops ? r : undefined);
      return { ok: false, key: p.key, kind: "linearizability", explanation };
    }
  }
  return timedOut ? { ok: "unknown", reason: "timeout" } : { ok: true };
}

/** Checks one partition's operations directly (for models and tests). */
export function checkPartition<P, S>(
  key: string,
  ops: TimedOp<P>[],
  model: Model<unknown, P, S>,
  timeoutMs?: number,
): "ok" | "fail" | "timeout" {
  const deadline = timeoutMs === undefined ? Infinity : now() + timeoutMs;
  return search(ops, model, key, deadline, Infinity, false).outcome;
}
