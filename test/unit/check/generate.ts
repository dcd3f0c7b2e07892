// Random histories from a correct in-memory v2 "server" (a reference keyspace that applies each
// operation atomically at a random point between its invoke and its completion), and injection
// of single anomalies into them. Test support for the checker tests.

import type { NodeObs, Operation, V2Op, V2Result } from "../../check/history.ts";
import { inOrderName } from "../../check/history.ts";
import type { CommittedEvent } from "../../check/watch.ts";
import { seededRandom } from "../../support/random.ts";

export interface GenOptions {
  seed: number;
  ops: number;
  keys: number;
  clients: number;
  /** Fraction of operations whose outcome is unknown (half of them are applied anyway). */
  unknownRate: number;
  /** Fraction of sets/creates/updates that carry a TTL (default 0.05). */
  ttlRate?: number;
  /** Fraction of non-quorum GETs (default 0.1). */
  plainRate?: number;
  /** Fraction of POSTs to /q (default 0.03). */
  postRate?: number;
  members?: number;
  /** Server bug to simulate (default none). */
  bug?: "lost-update";
}

interface Node {
  value: string;
  mi: number;
  ci: number;
  expireAt: number | null;
}

export interface Generated {
  history: Operation[];
  committed: CommittedEvent[];
  /** Per key: the node after each index that touched it (null = absent). */
  keyHistory: Map<string, { index: number; node: Node | null }[]>;
  /** Whether the requested bug was actually injected. */
  bugInjected: boolean;
}

interface Pending {
  o: Operation;
  lin: number;
  applies: boolean;
  /** The result reported when the outcome is known. */
  known: boolean;
  /** Unknown outcome shown as error 300 with a completion time (instead of no answer). */
  as300: boolean;
}

export function generate(g: GenOptions): Generated {
  const rnd = seededRandom(g.seed);
  const ri = (n: number) => Math.floor(rnd() * n);
  const members = g.members ?? 3;
  const ttlRate = g.ttlRate ?? 0.05;
  const plainRate = g.plainRate ?? 0.1;
  const postRate = g.postRate ?? 0.03;
  const keys = Array.from({ length: g.keys }, (_, i) => `/k${i}`);

  // 1. Operations with times (clients are sequential; content that depends on the state is
  //    chosen when the operation is applied, which any client could have done).
  const clientT = Array.from({ length: g.clients }, () => ri(10));
  const pend: Pending[] = [];
  let seq = 0;
  for (let n = 0; n < g.ops; n++) {
    let c = 0;
    for (let i = 1; i < g.clients; i++) if (clientT[i]! < clientT[c]!) c = i;
    const invoke = clientT[c]!;
    const d = 1 + ri(30);
    const unknown = rnd() < g.unknownRate;
    const key = keys[ri(keys.length)]!;
    const value = `c${c}.${seq++}`;
    const ttl = rnd() < ttlRate ? ri(2) : undefined;
    const x = rnd();
    let op: V2Op;
    const w = (t: number) => x < t;
    if (w(plainRate)) op = { type: "get", key, quorum: false };
    else if (w(plainRate + 0.25)) op = { type: "get", key, quorum: true };
    else if (w(plainRate + 0.4)) op = ttl === undefined ? { type: "set", key, value } : { type: "set", key, value, ttl };
    else if (w(plainRate + 0.47)) op = ttl === undefined ? { type: "create", key, value } : { type: "create", key, value, ttl };
    else if (w(plainRate + 0.54)) op = ttl === undefined ? { type: "update", key, value } : { type: "update", key, value, ttl };
    else if (w(plainRate + 0.69)) op = { type: "compareAndSwap", key, value, prevValue: "none" };
    else if (w(plainRate + 0.76)) op = { type: "delete", key };
    else if (w(plainRate + 0.81)) op = { type: "compareAndDelete", key, prevValue: "none" };
    else if (w(plainRate + 0.81 + postRate)) op = { type: "createInOrder", dir: "/q", value };
    else op = { type: "get", key: "/q/none", quorum: true }; // key chosen among in-order keys when applied
    const o: Operation = { id: n, client: c, member: `m${ri(members)}`, invoke, complete: null, op, result: { type: "unknown" } };
    if (unknown) {
      const applies = rnd() < 0.5;
      pend.push({ o, lin: invoke + ri(d + 100), applies, known: false, as300: rnd() < 0.3 });
      clientT[c] = invoke + 60 + ri(5);
      if (pend[pend.length - 1]!.as300) o.complete = invoke + 50;
    } else {
      pend.push({ o, lin: invoke + ri(d + 1), applies: true, known: true, as300: false });
      o.complete = invoke + d;
      clientT[c] = invoke + d + ri(5);
    }
  }

  // 2. Apply in linearization order, with the leader's expiry sweep every 500 time units.
  const state = new Map<string, Node>();
  const keyHistory = new Map<string, { index: number; node: Node | null }[]>();
  const committed: CommittedEvent[] = [];
  const applied = new Map<string, number>();
  const inOrderKeys: string[] = [];
  let index = 0;
  let bugInjected = false;
  const record = (key: string, node: Node | null) => {
    let l = keyHistory.get(key);
    if (l === undefined) keyHistory.set(key, (l = []));
    l.push({ index, node: node === null ? null : { ...node } });
  };
  const obs = (n: Node, withValue = true): NodeObs => (withValue ? { value: n.value, modifiedIndex: n.mi, createdIndex: n.ci } : { modifiedIndex: n.mi, createdIndex: n.ci });
  const at = (key: string, idx: number): Node | null => {
    const l = keyHistory.get(key) ?? [];
    let r: Node | null = null;
    for (const e of l) {
      if (e.index > idx) break;
      r = e.node;
    }
    return r;
  };
  const sweep = (t: number) => {
    for (const [k, n] of [...state].sort((a, b) => (a[1].expireAt ?? 0) - (b[1].expireAt ?? 0))) {
      if (n.expireAt !== null && n.expireAt <= t) {
        index++;
        state.delete(k);
        record(k, null);
        committed.push({ index, key: k, action: "expire" });
      }
    }
  };
  const errorR = (code: number): V2Result => ({ type: "error", code, index });

  const apply = (p: Pending): V2Result => {
    const o = p.o;
    const op = o.op;
    const m = o.member!;
    const expireAt = (ttl: number | undefined) => (ttl === undefined ? null : o.invoke + ttl * 1000);
    const put = (key: string, n: Node, action: CommittedEvent["action"]) => {
      index++;
      n.mi = index;
      if (action === "create" || action === "set") n.ci = index;
      state.set(key, n);
      record(key, n);
      committed.push({ index, key, action });
    };
    const del = (key: string, action: CommittedEvent["action"]) => {
      index++;
      state.delete(key);
      record(key, null);
      committed.push({ index, key, action });
    };
    const cond = () => {
      // Mostly the true current value/index, so that many compares succeed.
      if (op.type !== "compareAndSwap" && op.type !== "compareAndDelete") return;
      const cur = state.get(op.key);
      const r = rnd();
      delete op.prevValue;
      delete op.prevIndex;
      if (r < 0.35) op.prevValue = cur?.value ?? "v";
      else if (r < 0.6) op.prevIndex = cur?.mi ?? 1;
      else if (r < 0.75) {
        op.prevValue = cur?.value ?? "v";
        op.prevIndex = cur?.mi ?? 1;
      } else if (r < 0.9) op.prevValue = `c0.${ri(seq)}`;
      else op.prevIndex = 1 + ri(index + 1);
    };
    let r: V2Result;
    switch (op.type) {
      case "get": {
        if (op.key === "/q/none") op.key = inOrderKeys.length > 0 && rnd() < 0.9 ? inOrderKeys[ri(inOrderKeys.length)]! : inOrderName("/q", 1 + ri(index + 1));
        if (op.quorum) {
          const n = state.get(op.key);
          r = n === undefined ? errorR(100) : { type: "ok", node: obs(n), etcdIndex: index };
        } else {
          const from = applied.get(m) ?? 0;
          const a = from + ri(index - from + 1);
          applied.set(m, a);
          const n = at(op.key, a);
          return n === null ? { type: "error", code: 100, index: a } : { type: "ok", node: obs(n), etcdIndex: a };
        }
        break;
      }
      case "set": {
        const prev = state.get(op.key);
        const n: Node = { value: op.value, mi: 0, ci: 0, expireAt: expireAt(op.ttl) };
        put(op.key, n, "set");
        r = { type: "ok", node: obs(n), prevNode: prev ? obs(prev) : null, etcdIndex: index };
        break;
      }
      case "create": {
        if (state.has(op.key)) {
          r = errorR(105);
          break;
        }
        const n: Node = { value: op.value, mi: 0, ci: 0, expireAt: expireAt(op.ttl) };
        put(op.key, n, "create");
        r = { type: "ok", node: obs(n), prevNode: null, etcdIndex: index };
        break;
      }
      case "update": {
        const prev = state.get(op.key);
        if (prev === undefined) {
          r = errorR(100);
          break;
        }
        const n: Node = { value: op.value, mi: 0, ci: prev.ci, expireAt: expireAt(op.ttl) };
        put(op.key, n, "update");
        r = { type: "ok", node: obs(n), prevNode: obs(prev), etcdIndex: index };
        break;
      }
      case "compareAndSwap":
      case "compareAndDelete": {
        cond();
        let prev = state.get(op.key);
        if (prev === undefined) {
          r = errorR(100);
          break;
        }
        let match = (op.prevValue === undefined || op.prevValue === prev.value) && (!op.prevIndex || op.prevIndex === prev.mi);
        if (!match && g.bug === "lost-update" && !bugInjected && op.type === "compareAndSwap" && p.known) {
          // The buggy server compares against the node before the last write (a stale copy).
          const l = keyHistory.get(op.key)!;
          const last = l[l.length - 1]!;
          const before = l.length >= 2 ? l[l.length - 2]!.node : null;
          const lastW = pend.find((x) => x.o.op !== op && x.known && x.o.result.type === "ok" && (x.o.result.node?.modifiedIndex ?? -1) === last.index);
          if (before !== null && lastW !== undefined && before.value !== prev.value) {
            op.prevValue = before.value;
            delete op.prevIndex;
            prev = { ...before };
            match = true;
            bugInjected = true;
          }
        }
        if (!match) {
          r = errorR(101);
          break;
        }
        if (op.type === "compareAndSwap") {
          const n: Node = { value: op.value, mi: 0, ci: prev.ci, expireAt: null };
          put(op.key, n, "compareAndSwap");
          r = { type: "ok", node: obs(n), prevNode: obs(prev), etcdIndex: index };
        } else {
          del(op.key, "compareAndDelete");
          r = { type: "ok", node: { modifiedIndex: index, createdIndex: prev.ci }, prevNode: obs(prev), etcdIndex: index };
        }
        break;
      }
      case "delete": {
        const prev = state.get(op.key);
        if (prev === undefined) {
          r = errorR(100);
          break;
        }
        del(op.key, "delete");
        r = { type: "ok", node: { modifiedIndex: index, createdIndex: prev.ci }, prevNode: obs(prev), etcdIndex: index };
        break;
      }
      case "createInOrder": {
        const key = inOrderName(op.dir, index + 1);
        const n: Node = { value: op.value, mi: 0, ci: 0, expireAt: expireAt(op.ttl) };
        put(key, n, "create");
        inOrderKeys.push(key);
        r = { type: "ok", key, node: obs(n), prevNode: null, etcdIndex: index };
        break;
      }
    }
    applied.set(m, Math.max(applied.get(m) ?? 0, index));
    return r;
  };

  const order = pend.slice().sort((a, b) => a.lin - b.lin || (a.o.id as number) - (b.o.id as number));
  let nextSweep = 500;
  for (const p of order) {
    while (p.lin >= nextSweep) {
      sweep(nextSweep);
      nextSweep += 500;
    }
    if (!p.applies) continue;
    const r = apply(p);
    if (p.known) p.o.result = r;
  }
  for (const p of pend) {
    if (p.known) continue;
    if (p.as300) p.o.result = { type: "error", code: 300, index: 0 };
    // Unapplied CAS/CAD keep their generation-time condition; gets of "/q/none" are dropped anyway.
  }
  return { history: pend.map((p) => p.o), committed, keyHistory, bugInjected };
}

// ---------------------------------------------------------------------------------------------
// Anomalies

export type Anomaly = "stale-read" | "phantom-read" | "duplicate-index" | "index-order" | "time-travel" | "plain-regress";

function knownWrite(o: Operation): boolean {
  return o.op.type !== "get" && o.result.type === "ok" && o.result.node !== undefined;
}

/**
 * Puts one anomaly into a copy of the history, or returns null when this history has no spot for
 * it. Each kind is built so that the result is certainly not linearizable (comments say why).
 */
export function inject(gen: Generated, kind: Anomaly, seed: number): Operation[] | null {
  const rnd = seededRandom(seed);
  const h = gen.history.map((o) => ({ ...o, result: { ...o.result } as V2Result }));
  const shuffled = h.map((_, i) => i).sort(() => rnd() - 0.5);
  const nodeAt = (key: string, idx: number) => {
    let r: Node | null = null;
    for (const e of gen.keyHistory.get(key) ?? []) {
      if (e.index > idx) break;
      r = e.node;
    }
    return r;
  };
  const obs = (n: Node): NodeObs => ({ value: n.value, modifiedIndex: n.mi, createdIndex: n.ci });
  switch (kind) {
    case "stale-read": {
      // A quorum GET shows the node from before a known write W that completed before the GET
      // was invoked: its modifiedIndex is below W's, and per-key indexes only grow.
      for (const i of shuffled) {
        const g = h[i]!;
        if (g.op.type !== "get" || !g.op.quorum || g.result.type === "unknown") continue;
        const key = g.op.key;
        const ws = h.filter((w) => knownWrite(w) && w.op.type !== "get" && "key" in w.op && w.op.key === key && w.complete! < g.invoke);
        if (ws.length === 0) continue;
        const w = ws.reduce((a, b) => ((a.result as { node: NodeObs }).node.modifiedIndex > (b.result as { node: NodeObs }).node.modifiedIndex ? a : b));
        const old = nodeAt(key, (w.result as { node: NodeObs }).node.modifiedIndex - 1);
        if (old === null) continue;
        g.result = { type: "ok", node: obs(old) };
        return h;
      }
      return null;
    }
    case "phantom-read": {
      // A quorum GET shows a value nobody wrote.
      for (const i of shuffled) {
        const g = h[i]!;
        if (g.op.type !== "get" || !g.op.quorum || g.result.type !== "ok") continue;
        g.result = { type: "ok", node: { ...g.result.node!, value: "never-written" } };
        return h;
      }
      return null;
    }
    case "duplicate-index": {
      // A set reports the index of another known write (made self-consistent otherwise).
      const ws = shuffled.filter((i) => knownWrite(h[i]!));
      for (const i of ws) {
        const b = h[i]!;
        if (b.op.type !== "set" || b.result.type !== "ok") continue;
        const a = h[ws.find((j) => j !== i)!]!;
        const m = (a.result as { node: NodeObs }).node.modifiedIndex;
        b.result = { type: "ok", node: { value: b.op.value, modifiedIndex: m, createdIndex: m } };
        return h;
      }
      return null;
    }
    case "index-order": {
      // Two known sets on different keys, A completed before B was invoked: swap their indexes.
      const sets = shuffled.filter((i) => h[i]!.op.type === "set" && knownWrite(h[i]!));
      for (const i of sets) {
        const a = h[i]!;
        const b = sets.map((j) => h[j]!).find((x) => x.invoke > a.complete! && (x.op as { key: string }).key !== (a.op as { key: string }).key);
        if (b === undefined) continue;
        const ma = (a.result as { node: NodeObs }).node.modifiedIndex;
        const mb = (b.result as { node: NodeObs }).node.modifiedIndex;
        a.result = { type: "ok", node: { value: (a.op as { value: string }).value, modifiedIndex: mb, createdIndex: mb } };
        b.result = { type: "ok", node: { value: (b.op as { value: string }).value, modifiedIndex: ma, createdIndex: ma } };
        return h;
      }
      return null;
    }
    case "time-travel": {
      // G1 then G2 (quorum GETs of one key, G1 completed before G2 invoked); G1 showed index x,
      // G2 is made to show an older node (index < x): the key's index would go back.
      for (const i of shuffled) {
        const g1 = h[i]!;
        if (g1.op.type !== "get" || !g1.op.quorum || g1.result.type !== "ok") continue;
        const key = g1.op.key;
        const x = g1.result.node!.modifiedIndex;
        const old = nodeAt(key, x - 1);
        if (old === null) continue;
        const g2 = h.find((o) => o.op.type === "get" && o.op.quorum && o.op.key === key && o.result.type !== "unknown" && o.invoke > g1.complete!);
        if (g2 === undefined) continue;
        g2.result = { type: "ok", node: obs(old) };
        return h;
      }
      return null;
    }
    case "plain-regress": {
      // A non-quorum GET on member m shows an older node of a key than an earlier op on m showed.
      for (const i of shuffled) {
        const a = h[i]!;
        if (a.result.type !== "ok" || a.result.node === undefined || a.op.type === "createInOrder") continue;
        const key = (a.op as { key: string }).key;
        const x = a.result.node.modifiedIndex;
        const old = nodeAt(key, x - 1);
        if (old === null) continue;
        const b = h.find((o) => o.op.type === "get" && !o.op.quorum && o.op.key === key && o.member === a.member && o.result.type !== "unknown" && o.invoke > a.complete!);
        if (b === undefined) continue;
        b.result = { type: "ok", node: obs(old) };
        return h;
      }
      return null;
    }
  }
}
