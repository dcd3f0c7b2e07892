// The pipelining window of one follower: the last index of each MsgApp sent but not yet
// acknowledged, oldest first, in a fixed-size ring.
export class Inflights {
  private start = 0;
  private count = 0;
  private readonly buffer: number[];

  constructor(readonly size: number) {
    this.buffer = new Array<number>(Math.max(size, 0)).fill(0);
  }

  get length(): number {
    return this.count;
  }

  /** Records a MsgApp whose last entry is `index` (indexes must grow). */
  add(index: number): void {
    if (this.full()) throw new Error("raft: cannot add into a full inflights");
    this.buffer[(this.start + this.count) % this.size] = index;
    this.count++;
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    if (this.count === 0 || to < this.buffer[this.start]!) return;
    let i = 0;
    let idx = this.start;
    for (; i < this.count; i++) {
      if (to < this.buffer[idx]!) break;
      idx = (idx + 1) % this.size;
    }
    this.count -= i;
    this.start = this.count === 0 ? 0 : idx;
  }

  /** Frees the oldest message (a heartbeat response proves the follower is alive). */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.buffer[this.start]!);
  }

  full(): boolean {
    return this.count >= this.size;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
  }
}
