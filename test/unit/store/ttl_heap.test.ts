import { test } from "uvu";
import * as assert from "uvu/assert";
import { Node } from "../../../core/store/node.ts";
import { TTLHeap } from "../../../core/store/ttl_heap.ts";

const file = (path: string, expireAt: number): Node => new Node(path, path.slice(path.lastIndexOf("/") + 1), 1, null, expireAt, false, "");

function drain(h: TTLHeap): string[] {
  const out: string[] = [];
  for (let n = h.pop(); n !== null; n = h.pop()) {
    assert.is(n.heapIndex, -1);
    out.push(n.path);
  }
  return out;
}

test("pops in expiry order, ties by path", () => {
  const h = new TTLHeap();
  for (const [p, t] of [["/c", 30], ["/a", 10], ["/b", 20], ["/z", 10], ["/y", 10]] as const) h.push(file(p, t));
  assert.is(h.size, 5);
  assert.is(h.top()!.path, "/a");
  assert.equal(drain(h), ["/a", "/y", "/z", "/b", "/c"]);
  assert.is(h.top(), null);
});

test("update moves a node up or down; remove takes it out; both are no-ops when absent", () => {
  const h = new TTLHeap();
  const nodes = [file("/a", 10), file("/b", 20), file("/c", 30), file("/d", 40)];
  for (const n of nodes) h.push(n);
  nodes[3]!.expireAt = 5;
  h.update(nodes[3]!);
  assert.is(h.top()!.path, "/d");
  nodes[3]!.expireAt = 50;
  h.update(nodes[3]!);
  h.remove(nodes[1]!);
  h.remove(nodes[1]!); // already out
  const outside = file("/x", 1);
  h.remove(outside);
  h.update(outside);
  assert.equal(drain(h), ["/a", "/c", "/d"]);
});

test("matches a sorted reference under random pushes, updates and removes", () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const h = new TTLHeap();
  const live = new Set<Node>();
  for (let i = 0; i < 3000; i++) {
    const r = rand(10);
    if (r < 5 || live.size === 0) {
      const n = file("/k" + i, rand(500));
      h.push(n);
      live.add(n);
    } else if (r < 7) {
      const n = [...live][rand(live.size)]!;
      n.expireAt = rand(500);
      h.update(n);
    } else if (r < 9) {
      const n = [...live][rand(live.size)]!;
      h.remove(n);
      live.delete(n);
    } else {
      const n = h.pop()!;
      const min = Math.min(...[...live].map((x) => x.expireAt!));
      assert.is(n.expireAt, min);
      live.delete(n);
    }
    assert.is(h.size, live.size);
  }
  const want = [...live].sort((a, b) => a.expireAt! - b.expireAt! || (a.path < b.path ? -1 : 1)).map((n) => n.path);
  assert.equal(drain(h), want);
});

test.run();
