// The live tree node of the v2 store and its read-only views (etcd's node.go / node_extern.go).

import { compareByteStrings } from "./byte-string.ts";
import type { NodeView } from "./types.ts";

export class Node {
  path: string;
  /** Last path element; a leading "_" makes the node hidden from listings. */
  readonly name: string;
  createdIndex: number;
  modifiedIndex: number;
  /** Absolute expiry in ms since the epoch; null when permanent. */
  expireAt: number | null;
  value: string;
  /** Children in insertion order; null for a file. */
  children: Map<string, Node> | null;
  parent: Node | null;
  /** Position in the TTL heap, -1 when not in it (owned by TTLHeap). */
  heapIndex = -1;

  constructor(
    path: string,
    name: string,
    index: number,
    parent: Node | null,
    expireAt: number | null,
    dir: boolean,
    value = "",
  ) {
    this.path = path;
    this.name = name;
    this.createdIndex = index;
    this.modifiedIndex = index;
    this.parent = parent;
    this.expireAt = expireAt;
    this.value = dir ? "" : value;
    this.children = dir ? new Map() : null;
  }

  get isDir(): boolean {
    return this.children !== null;
  }

  get isHidden(): boolean {
    return this.name.charCodeAt(0) === 95; // "_"
  }

  /**
   * The node as etcd's Repr shows it. Directories list their (non-hidden) children only
   * when recursive; `sorted` orders every listed level by key.
   */
  view(recursive: boolean, sorted: boolean): NodeView {
    const v: NodeView = { key: this.path, modifiedIndex: this.modifiedIndex, createdIndex: this.createdIndex };
    if (this.children === null) v.value = this.value;
    else {
      v.dir = true;
      if (recursive) v.nodes = this.listChildren(true, sorted);
    }
    if (this.expireAt !== null) v.expireAt = this.expireAt;
    return v;
  }

  /** Views of the non-hidden children (a GET listing); each child recursive or flat. */
  listChildren(recursive: boolean, sorted: boolean): NodeView[] {
    const out: NodeView[] = [];
    if (this.children === null) return out;
    for (const child of this.children.values()) {
      if (!child.isHidden) out.push(child.view(recursive, sorted));
    }
    if (sorted) out.sort(compareViews);
    return out;
  }
}

function compareViews(a: NodeView, b: NodeView): number {
  return compareKeys(a.key, b.key);
}

/** Byte-wise (UTF-8, i.e. code point) order, as Go compares strings. */
export function compareKeys(a: string, b: string): number {
  // Keys holding escaped raw bytes (see byte-string.ts) compare by their bytes, as Go does.
  if (a.includes("\ufdd0") || b.includes("\ufdd0")) return compareByteStrings(a, b);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF: they sort after 0xE000-0xFFFF.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy && (x >= 0xe000 || y >= 0xe000)) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
