// Shorthands for hand-written histories in the checker tests.

import type { NodeObs, Operation, V2Op, V2Result } from "../../check/history.ts";

let nextId = 0;

/** Resets the ids given by op() (call at the start of each history). */
export function resetIds(): void {
  nextId = 0;
}

/** An operation: complete null = no answer (the result is then unknown). */
export function op(client: number, invoke: number, complete: number | null, o: V2Op, result: V2Result, member?: string): Operation {
  const x: Operation = { id: nextId++, client, invoke, complete, op: o, result };
  if (member !== undefined) x.member = member;
  return x;
}

export const node = (value: string | undefined, mi: number, ci = mi): NodeObs =>
  value === undefined ? { modifiedIndex: mi, createdIndex: ci } : { value, modifiedIndex: mi, createdIndex: ci };

/** ok with node (and prevNode: null = none, undefined = not recorded). */
export function ok(n?: NodeObs, prev?: NodeObs | null, etcdIndex?: number): V2Result {
  const r: V2Result = { type: "ok" };
  if (n !== undefined) r.node = n;
  if (prev !== undefined) r.prevNode = prev;
  if (etcdIndex !== undefined) r.etcdIndex = etcdIndex;
  return r;
}

export const err = (code: number, index?: number): V2Result => (index === undefined ? { type: "error", code } : { type: "error", code, index });
export const unknown: V2Result = { type: "unknown" };

export const get = (key: string): V2Op => ({ type: "get", key, quorum: true });
export const plainGet = (key: string): V2Op => ({ type: "get", key, quorum: false });
export const set = (key: string, value: string, ttl?: number): V2Op => (ttl === undefined ? { type: "set", key, value } : { type: "set", key, value, ttl });
export const create = (key: string, value: string): V2Op => ({ type: "create", key, value });
export const update = (key: string, value: string): V2Op => ({ type: "update", key, value });
export const cas = (key: string, value: string, prevValue?: string, prevIndex?: number): V2Op => {
  const o: V2Op = { type: "compareAndSwap", key, value };
  if (prevValue !== undefined) o.prevValue = prevValue;
  if (prevIndex !== undefined) o.prevIndex = prevIndex;
  return o;
};
export const del = (key: string): V2Op => ({ type: "delete", key });
export const cad = (key: string, prevValue?: string, prevIndex?: number): V2Op => {
  const o: V2Op = { type: "compareAndDelete", key };
  if (prevValue !== undefined) o.prevValue = prevValue;
  if (prevIndex !== undefined) o.prevIndex = prevIndex;
  return o;
};
export const post = (dir: string, value: string): V2Op => ({ type: "createInOrder", dir, value });
