// Min-heap of nodes that carry a TTL, ordered by expiry (etcd's ttl_key_heap.go).
// Each node remembers its own slot (heapIndex), so update and remove are O(log n).
// Ties on expireAt are broken by path, so the expiry order never depends on the order
// nodes were pushed (a restored store expires in the same order as the original).

import type { Node } from "./node.ts";

function before(a: Node, b: Node): boolean {
  const ea = a.expireAt as number;
  const eb = b.expireAt as number;
  if (ea !== eb) return ea < eb;
  return a.path < b.path;
}

export class TTLHeap {
  private readonly items: Node[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): Node | null {
    return this.items.length > 0 ? this.items[0]! : null;
  }

  push(n: Node): void {
    if (n.heapIndex >= 0) {
      this.update(n);
      return;
    }
    n.heapIndex = this.items.length;
    this.items.push(n);
    this.up(n.heapIndex);
  }

  pop(): Node | null {
    const top = this.top();
    if (top !== null) this.remove(top);
    return top;
  }

  /** Restore the order after n.expireAt changed. */
  update(n: Node): void {
    const i = n.heapIndex;
    if (i < 0) return;
    if (!this.down(i)) this.up(i);
  }

  /** No-op when n is not in the heap. */
  remove(n: Node): void {
    const i = n.heapIndex;
    if (i < 0) return;
    const last = this.items.length - 1;
    if (i !== last) this.swap(i, last);
    this.items.pop();
    n.heapIndex = -1;
    if (i !== last && !this.down(i)) this.up(i);
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    b.heapIndex = i;
    a.heapIndex = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(this.items[i]!, this.items[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Sift down; true if the element moved. */
  private down(i0: number): boolean {
    const n = this.items.length;
    let i = i0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      const r = l + 1;
      if (r < n && before(this.items[r]!, this.items[l]!)) m = r;
      if (!before(this.items[m]!, this.items[i]!)) break;
      this.swap(i, m);
      i = m;
    }
    return i > i0;
  }
}
