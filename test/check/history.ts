// The history format shared by the linearizability checker (linearizability.ts, model-v2.ts),
// the deterministic cluster simulator (in-process) and the real-process fault tests.
//
// A history is a list of operations as the clients saw them: who issued what, when it was
// invoked, when (if ever) the answer came back, and what the answer was. Pure data, no I/O.
//
// Time: one number line shared by every client of the history (simulated ticks, or
// `performance.now()` milliseconds of the one process that drives all clients). Only the order
// of the numbers matters, except for TTLs (see `ttl` below and createV2Model's
// `timeUnitsPerSecond`). Operation A precedes B in real time iff A.complete < B.invoke
// (strictly: equal times count as concurrent).
//
// Outcomes:
//   * ok      — the response was a success body; `node`/`prevNode` are what it carried.
//   * error   — an etcd error body with a code the store raises (100, 101, 105, ...). The
//               operation took effect as a failed operation (it read the state, changed nothing).
//   * unknown — no answer (timeout, connection lost), or an answer that does not say whether the
//               operation was applied (error 300 "Raft Internal Error", 301). The operation may
//               or may not have taken effect, at any time after its invoke: its completion is
//               treated as +infinity whatever `complete` says. See `isIndeterminate`.
//
// Reads: a GET without `quorum=true` is served from the local member's store without raft and
// is not linearizable in etcd; mark it `quorum: false`. The linearizability search ignores such
// reads; model-v2.ts checks them against a weaker rule (see its header). `wait=true&quorum=true`
// is a quorum GET (spec §4).
//
// TTL: `ttl` (seconds) on set/create/update/compareAndSwap/createInOrder. Expiry is modelled
// nondeterministically: a node written with a TTL *may* have expired at any time from
// `invoke + ttl seconds` on (never earlier, and no upper bound is enforced because the leader's
// 500 ms sweep can be late). A write without `ttl` removes any TTL (spec §7). Refresh
// (`refresh=true`) is not part of the format.

/** Who issued an operation. */
export type ClientId = number | string;

/** The part of a node object that the checker uses. */
export interface NodeObs {
  /** Absent on the `node` of delete/compareAndDelete results (etcd sends no value there). */
  value?: string;
  modifiedIndex: number;
  createdIndex: number;
}

/** A v2 keys-API operation on a file key. Keys are user-visible paths such as "/foo". */
export type V2Op =
  /** GET. `quorum: false` is a local, non-linearizable read. */
  | { type: "get"; key: string; quorum: boolean }
  /** PUT, no condition. */
  | { type: "set"; key: string; value: string; ttl?: number }
  /** PUT prevExist=false. */
  | { type: "create"; key: string; value: string; ttl?: number }
  /** PUT prevExist=true without prevValue/prevIndex. */
  | { type: "update"; key: string; value: string; ttl?: number }
  /** PUT with prevValue and/or prevIndex (prevIndex 0 or absent = not compared). */
  | { type: "compareAndSwap"; key: string; value: string; prevValue?: string; prevIndex?: number; ttl?: number }
  /** DELETE of a file. */
  | { type: "delete"; key: string }
  /** DELETE with prevValue and/or prevIndex. */
  | { type: "compareAndDelete"; key: string; prevValue?: string; prevIndex?: number }
  /** POST under `dir`: creates dir + "/" + the new index, zero-padded to 20 digits (spec §8). */
  | { type: "createInOrder"; dir: string; value: string; ttl?: number };

export type V2OpType = V2Op["type"];

/** What came back. */
export type V2Result =
  | {
      type: "ok";
      /** The response `node`. Absent when not recorded (e.g. noValueOnSuccess). */
      node?: NodeObs;
      /**
       * The response `prevNode`: null = the response had none (for set: the key did not exist),
       * undefined = not recorded (nothing is checked).
       */
      prevNode?: NodeObs | null;
      /** createInOrder: the created key (response node.key). Checked against node.createdIndex. */
      key?: string;
      /** X-Etcd-Index of the response, when recorded. */
      etcdIndex?: number;
    }
  | {
      type: "error";
      code: number;
      /** The error body's `index` (store errors carry the store index), when recorded. */
      index?: number;
    }
  | { type: "unknown" };

export interface Operation {
  /** Free-form id shown in explanations; defaults to the position in the history. */
  id?: number | string;
  client: ClientId;
  /** The member that served the request (needed for the checks on non-quorum GETs). */
  member?: string;
  invoke: number;
  /** When the response arrived; null/undefined = never (the outcome must then be unknown). */
  complete?: number | null;
  op: V2Op;
  result: V2Result;
}

export type History = readonly Operation[];

/** Error codes that do not tell whether the operation was applied (raft timeout, no leader...). */
export const INDETERMINATE_CODES: ReadonlySet<number> = new Set([300, 301]);

/** Whether the operation's outcome is unknown (it may or may not have taken effect). */
export function isIndeterminate(o: Operation): boolean {
  const r = o.result;
  return r.type === "unknown" || (r.type === "error" && INDETERMINATE_CODES.has(r.code));
}

/** Whether the op changes the keyspace when it succeeds. */
export function isWrite(op: V2Op): boolean {
  return op.type !== "get";
}

/** The key an op addresses (createInOrder: its directory). */
export function opKey(op: V2Op): string {
  return op.type === "createInOrder" ? op.dir : op.key;
}

/** The 20-digit name an in-order create gets for index n (spec §8). */
export function inOrderName(dir: string, index: number): string {
  const base = dir === "/" ? "" : dir;
  return `${base}/${String(index).padStart(20, "0")}`;
}

/** Parses an in-order key back into [dir, index], or null when `key` does not look like one. */
export function parseInOrderName(key: string): [string, number] | null {
  const m = /^(.*)\/(\d{20})$/.exec(key);
  if (m === null) return null;
  const n = Number(m[2]);
  if (!Number.isSafeInteger(n)) return null;
  return [m[1] === "" ? "/" : m[1]!, n];
}

// ---------------------------------------------------------------------------------------------
// Building histories

/** A handle for an operation in flight (see HistoryRecorder). */
export interface PendingOp {
  readonly index: number;
}

/**
 * Collects a history as a driver runs: `invoke` before sending, `complete` on the answer.
 * Operations never completed stay unknown. Usable from a simulator or from real-process tests.
 */
export class HistoryRecorder {
  private readonly ops: Operation[] = [];

  invoke(client: ClientId, op: V2Op, time: number, member?: string): PendingOp {
    const o: Operation = { id: this.ops.length, client, invoke: time, complete: null, op, result: { type: "unknown" } };
    if (member !== undefined) o.member = member;
    this.ops.push(o);
    return { index: this.ops.length - 1 };
  }

  /** Records the answer; an indeterminate error (300/301) keeps the outcome unknown. */
  complete(p: PendingOp, result: V2Result, time: number): void {
    const o = this.ops[p.index]!;
    o.result = result;
    o.complete = result.type === "unknown" ? null : time;
  }

  /** A snapshot of everything recorded so far (pending operations are unknown). */
  history(): Operation[] {
    return this.ops.map((o) => ({ ...o }));
  }
}

function nodeObs(n: unknown): NodeObs | undefined {
  if (typeof n !== "object" || n === null) return undefined;
  const o = n as Record<string, unknown>;
  const out: NodeObs = {
    modifiedIndex: typeof o.modifiedIndex === "number" ? o.modifiedIndex : 0,
    createdIndex: typeof o.createdIndex === "number" ? o.createdIndex : 0,
  };
  if (typeof o.value === "string") out.value = o.value;
  return out;
}

/**
 * Turns a v2 keys response (the parsed JSON body, plus X-Etcd-Index when known) into a result.
 * An error body gives `error` (300/301 stay errors here; the checker treats them as unknown).
 */
export function resultFromResponse(body: unknown, etcdIndex?: number): V2Result {
  if (typeof body !== "object" || body === null) return { type: "unknown" };
  const b = body as Record<string, unknown>;
  if (typeof b.errorCode === "number") {
    const r: V2Result = { type: "error", code: b.errorCode };
    if (typeof b.index === "number") r.index = b.index;
    return r;
  }
  if (typeof b.action !== "string") return { type: "unknown" };
  const r: V2Result & { type: "ok" } = { type: "ok" };
  const node = nodeObs(b.node);
  if (node !== undefined) r.node = node;
  if ("node" in b) r.prevNode = nodeObs(b.prevNode) ?? null;
  if (typeof b.node === "object" && b.node !== null && typeof (b.node as Record<string, unknown>).key === "string") {
    r.key = (b.node as Record<string, unknown>).key as string;
  }
  if (etcdIndex !== undefined) r.etcdIndex = etcdIndex;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Printing

function q(s: string): string {
  return JSON.stringify(s);
}

/** One-line description of a request, e.g. `cas /k "b" if value="a" index=7`. */
export function describeOp(op: V2Op): string {
  const ttl = (t: number | undefined) => (t === undefined ? "" : ` ttl=${t}`);
  switch (op.type) {
    case "get":
      return `get${op.quorum ? "" : "(local)"} ${op.key}`;
    case "set":
    case "create":
    case "update":
      return `${op.type} ${op.key}=${q(op.value)}${ttl(op.ttl)}`;
    case "compareAndSwap": {
      const c = [op.prevValue !== undefined ? `value=${q(op.prevValue)}` : "", op.prevIndex ? `index=${op.prevIndex}` : ""].filter((x) => x).join(" ");
      return `cas ${op.key}=${q(op.value)} if ${c || "(nothing)"}${ttl(op.ttl)}`;
    }
    case "delete":
      return `delete ${op.key}`;
    case "compareAndDelete": {
      const c = [op.prevValue !== undefined ? `value=${q(op.prevValue)}` : "", op.prevIndex ? `index=${op.prevIndex}` : ""].filter((x) => x).join(" ");
      return `cad ${op.key} if ${c || "(nothing)"}`;
    }
    case "createInOrder":
      return `post ${op.dir} ${q(op.value)}${ttl(op.ttl)}`;
  }
}

function describeNode(n: NodeObs): string {
  return `${n.value !== undefined ? q(n.value) + " " : ""}mi=${n.modifiedIndex} ci=${n.createdIndex}`;
}

/** One-line description of a result. */
export function describeResult(r: V2Result): string {
  switch (r.type) {
    case "unknown":
      return "unknown";
    case "error":
      return `error ${r.code}${r.index !== undefined ? ` (index ${r.index})` : ""}${INDETERMINATE_CODES.has(r.code) ? " = unknown" : ""}`;
    case "ok": {
      const parts = ["ok"];
      if (r.key !== undefined) parts.push(r.key);
      if (r.node !== undefined) parts.push(describeNode(r.node));
      if (r.prevNode === null) parts.push("prev=none");
      else if (r.prevNode !== undefined) parts.push(`prev=(${describeNode(r.prevNode)})`);
      if (r.etcdIndex !== undefined) parts.push(`etcdIndex=${r.etcdIndex}`);
      return parts.join(" ");
    }
  }
}

function fmtTime(t: number | null | undefined): string {
  if (t === null || t === undefined) return "∞";
  return Number.isInteger(t) ? String(t) : t.toFixed(3);
}

/** One line per operation: `#id client [invoke, complete] request -> result`. */
export function describeOperation(o: Operation, index?: number): string {
  const id = o.id ?? index ?? "?";
  const member = o.member !== undefined ? `@${o.member}` : "";
  const end = isIndeterminate(o) ? "∞" : fmtTime(o.complete);
  return `#${id} c${o.client}${member} [${fmtTime(o.invoke)}, ${end}] ${describeOp(o.op)} -> ${describeResult(o.result)}`;
}
