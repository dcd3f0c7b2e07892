// Requests waiting for their log entry to be applied, keyed by request ID. IDs are unique
// across the cluster and across restarts (a prefix naming the proposing member and this run
// of it, then a counter), because every member applies every entry, only the proposer has a
// waiter for it, and entries proposed before a restart may be applied after it.

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class Waiters {
  private readonly pending = new Map<string, (o: Outcome) => void>();
  private counter = 0;

  constructor(private readonly prefix: string) {}

  /** Requests waiting now. */
  get size(): number {
    return this.pending.size;
  }

  nextId(): string {
    return `${this.prefix}-${(++this.counter).toString(36)}`;
  }

  register(id: string, settle: (o: Outcome) => void): void {
    this.pending.set(id, settle);
  }

  isWaiting(id: string): boolean {
    return this.pending.has(id);
  }

  /** Drop a waiter (timed out); its entry may still apply later, unobserved. */
  forget(id: string): boolean {
    return this.pending.delete(id);
  }

  trigger(id: string, outcome: Outcome): void {
    const settle = this.pending.get(id);
    if (!settle) return;
    this.pending.delete(id);
    settle(outcome);
  }

  failAll(error: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const settle of all) settle({ ok: false, error });
  }
}
