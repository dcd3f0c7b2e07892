// Follower latency and counts as /v2/stats/leader shows them, measured by the leader from
// heartbeat round trips (milliseconds).

interface FollowerStats {
  latency: { current: number; average: number; standardDeviation: number; minimum: number; maximum: number };
  counts: { fail: number; success: number };
}

class Follower {
  private n = 0;
  private sum = 0;
  private sumSquares = 0;
  current = 0;
  minimum = Number.MAX_VALUE;
  maximum = 0;
  fail = 0;
  success = 0;
  sentAt: number | null = null;

  succeed(ms: number): void {
    this.current = ms;
    this.n++;
    this.sum += ms;
    this.sumSquares += ms * ms;
    this.minimum = Math.min(this.minimum, ms);
    this.maximum = Math.max(this.maximum, ms);
    this.success++;
  }

  view(): FollowerStats {
    const average = this.n === 0 ? 0 : this.sum / this.n;
    const variance = this.n === 0 ? 0 : this.sumSquares / this.n - average * average;
    return {
      latency: {
        current: this.current,
        average,
        standardDeviation: Math.sqrt(Math.max(0, variance)),
        minimum: this.n === 0 ? 0 : this.minimum,
        maximum: this.maximum,
      },
      counts: { fail: this.fail, success: this.success },
    };
  }
}

export class LeaderStats {
  private followers = new Map<string, Follower>();

  constructor(private readonly monotonic: () => number) {}

  private follower(id: string): Follower {
    let f = this.followers.get(id);
    if (!f) this.followers.set(id, (f = new Follower()));
    return f;
  }

  heartbeatSent(to: string): void {
    const f = this.follower(to);
    if (f.sentAt === null) f.sentAt = this.monotonic();
  }

  heartbeatAnswered(from: string): void {
    const f = this.follower(from);
    if (f.sentAt === null) return;
    f.succeed(this.monotonic() - f.sentAt);
    f.sentAt = null;
  }

  failed(to: string): void {
    this.follower(to).fail++;
  }

  /** Start over (a new term of leadership), keeping only current members. */
  reset(): void {
    this.followers.clear();
  }

  view(leader: string, followerIds: string[]): { leader: string; followers: Record<string, FollowerStats> } {
    const followers: Record<string, FollowerStats> = {};
    for (const id of followerIds) followers[id] = this.follower(id).view();
    return { leader, followers };
  }
}
