// Linearizable reads through Raft's ReadIndex, batched as etcd does: every read that arrives
// while a round is in flight joins the next round, so many concurrent reads share one
// heartbeat exchange. A read is released once the member has applied the round's index.

export interface ReadIndexSource {
  /** Ask Raft for a read index; the answer comes back through onReadState. */
  readIndex(ctx: Uint8Array): void;
  appliedIndex(): number;
}

interface Round {
  ctx: string;
  waiters: Array<() => void>;
  index: number | null;
}

export class LinearizableReads {
  private queued: Array<() => void> = [];
  private inflight: Round | null = null;
  /** Rounds whose index is known, waiting for apply to reach it. */
  private awaitingApply: Round[] = [];
  private roundCounter = 0;
  private readonly encoder = new TextEncoder();

  constructor(private readonly source: ReadIndexSource) {}

  /** Resolves when a local read would be linearizable. The caller bounds it with a timeout. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.queued.push(resolve);
      if (!this.inflight) this.startRound();
    });
  }

  /** Re-asks for the in-flight round (after a leader change, or when Raft dropped it). */
  retry(): void {
    if (this.inflight) this.source.readIndex(this.encoder.encode(this.inflight.ctx));
    else if (this.queued.length > 0) this.startRound();
  }

  onReadState(ctx: Uint8Array, index: number): void {
    const round = this.inflight;
    if (!round || new TextDecoder().decode(ctx) !== round.ctx) return;
    round.index = index;
    this.inflight = null;
    this.awaitingApply.push(round);
    this.onApplied();
    if (this.queued.length > 0) this.startRound();
  }

  onApplied(): void {
    const applied = this.source.appliedIndex();
    const ready = this.awaitingApply.filter((r) => r.index! <= applied);
    if (ready.length === 0) return;
    this.awaitingApply = this.awaitingApply.filter((r) => r.index! > applied);
    for (const r of ready) for (const w of r.waiters) w();
  }

  private startRound(): void {
    const round: Round = { ctx: `r${++this.roundCounter}`, waiters: this.queued, index: null };
    this.queued = [];
    this.inflight = round;
    this.source.readIndex(this.encoder.encode(round.ctx));
  }
}
