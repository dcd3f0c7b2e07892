// The store's snapshot form: a plain, msgpack-friendly object (no undefined, no Map, no
// cycles). Like etcd's v2 snapshot it carries the tree with indexes and TTLs, the current
// index, the event history and the stats counters. Watchers are not saved.

import { Node } from "./node.ts";
import type { StatCounters } from "./stats.ts";
import type { Action, NodeView, StoreEvent } from "./types.ts";

export interface SnapshotNode {
  /** Name (last path element); "" for the internal root. */
  n: string;
  c: number; // createdIndex
  m: number; // modifiedIndex
  /** expireAt, present only on nodes with a TTL. */
  e?: number;
  /** Value, present only on files. */
  v?: string;
  /** Children in listing order, present only on directories. */
  d?: SnapshotNode[];
}

export interface StoreSnapshot {
  version: 1;
  /** CurrentIndex. */
  index: number;
  root: SnapshotNode;
  /** The event history, oldest first. */
  history: StoreEvent[];
  stats: StatCounters;
}

function toSnap(n: Node): SnapshotNode {
  const s: SnapshotNode = { n: n.name, c: n.createdIndex, m: n.modifiedIndex };
  if (n.expireAt !== null) s.e = n.expireAt;
  if (n.children === null) s.v = n.value;
  else s.d = [];
  return s;
}

/** The tree below root as a SnapshotNode. Iterative: deep paths must not overflow the stack. */
export function saveTree(root: Node): SnapshotNode {
  const top = toSnap(root);
  const stack: [Node, SnapshotNode][] = [[root, top]];
  while (stack.length > 0) {
    const [n, s] = stack.pop()!;
    if (n.children === null) continue;
    for (const child of n.children.values()) {
      const cs = toSnap(child);
      s.d!.push(cs);
      if (child.children !== null) stack.push([child, cs]);
    }
  }
  return top;
}

function childPath(parent: Node, name: string): string {
  return parent.path === "/" ? "/" + name : parent.path + "/" + name;
}

function num(x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x)) throw new Error("store snapshot: bad number");
  return x;
}

/** Rebuild the tree; calls onTTL for every node that carries an expiry. */
export function loadTree(s: SnapshotNode, onTTL: (n: Node) => void): Node {
  const make = (sn: SnapshotNode, parent: Node | null): Node => {
    const name = parent === null ? "" : String(sn.n);
    const path = parent === null ? "/" : childPath(parent, name);
    const dir = Array.isArray(sn.d);
    const expireAt = typeof sn.e === "number" ? sn.e : null;
    const node = new Node(path, name, num(sn.c), parent, expireAt, dir, dir ? "" : String(sn.v ?? ""));
    node.modifiedIndex = num(sn.m);
    if (expireAt !== null) onTTL(node);
    return node;
  };
  const root = make(s, null);
  if (!root.isDir) throw new Error("store snapshot: root is not a directory");
  const stack: [SnapshotNode, Node][] = [[s, root]];
  while (stack.length > 0) {
    const [sn, n] = stack.pop()!;
    for (const cs of sn.d ?? []) {
      const child = make(cs, n);
      n.children!.set(child.name, child);
      if (child.isDir) stack.push([cs, child]);
    }
  }
  return root;
}

const ACTIONS = new Set<string>(["get", "set", "create", "update", "compareAndSwap", "delete", "compareAndDelete", "expire"]);

/** A NodeView from decoded data, without null or undefined fields. */
export function reviveView(o: unknown): NodeView {
  const x = o as Record<string, unknown>;
  const v: NodeView = { key: String(x.key), modifiedIndex: num(x.modifiedIndex), createdIndex: num(x.createdIndex) };
  if (typeof x.value === "string") v.value = x.value;
  if (x.dir === true) v.dir = true;
  if (typeof x.expireAt === "number") v.expireAt = x.expireAt;
  if (Array.isArray(x.nodes)) v.nodes = x.nodes.map(reviveView);
  return v;
}

export function reviveEvent(o: unknown): StoreEvent {
  const x = o as Record<string, unknown>;
  if (!ACTIONS.has(String(x.action))) throw new Error("store snapshot: bad event action");
  const e: StoreEvent = { action: x.action as Action, node: reviveView(x.node), etcdIndex: num(x.etcdIndex) };
  if (x.prevNode !== undefined && x.prevNode !== null) e.prevNode = reviveView(x.prevNode);
  if (x.refresh === true) e.refresh = true;
  return e;
}
