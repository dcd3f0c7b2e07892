// The voter set with the leader's Progress for each voter, election votes, and the majority
// arithmetic over them. (No learners or joint consensus: membership changes one voter at a time.)
import { Progress } from "./progress.ts";
import type { ConfState, NodeId } from "./types.ts";

export type VoteResult = "won" | "lost" | "pending";

export class ProgressTracker {
  /** One entry per voter. Visited in sorted id order so message order is deterministic. */
  private readonly progress = new Map<NodeId, Progress>();
  private sortedIds: NodeId[] = [];
  private readonly votes = new Map<NodeId, boolean>();

  constructor(readonly maxInflight: number) {}

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  has(id: NodeId): boolean {
    return this.progress.has(id);
  }

  ids(): readonly NodeId[] {
    return this.sortedIds;
  }

  get size(): number {
    return this.progress.size;
  }

  isSingleton(): boolean {
    return this.progress.size === 1;
  }

  visit(fn: (id: NodeId, pr: Progress) => void): void {
    for (const id of this.sortedIds) fn(id, this.progress.get(id)!);
  }

  /** Adds a voter (no-op if present); a fresh follower is probed from `next`. */
  addVoter(id: NodeId, next: number): Progress {
    let pr = this.progress.get(id);
    if (pr) return pr;
    pr = new Progress(Math.max(next, 1), this.maxInflight);
    // Count a new member as active so that checkQuorum does not fire before it has had a chance to answer.
    pr.recentActive = true;
    this.progress.set(id, pr);
    this.sortedIds = [...this.progress.keys()].sort();
    return pr;
  }

  removeVoter(id: NodeId): void {
    if (!this.progress.delete(id)) return;
    this.votes.delete(id);
    this.sortedIds = [...this.progress.keys()].sort();
  }

  confState(): ConfState {
    return { voters: [...this.sortedIds] };
  }

  private quorum(): number {
    return Math.floor(this.progress.size / 2) + 1;
  }

  /** The highest index replicated on a majority of voters (0 without voters). */
  committed(): number {
    const n = this.progress.size;
    if (n === 0) return 0;
    const matches = [...this.progress.values()].map((p) => p.match).sort((a, b) => b - a);
    return matches[this.quorum() - 1]!;
  }

  /** Whether a majority was heard from recently (the leader counts itself as active). */
  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) active.set(id, pr.recentActive);
    return this.voteResult(active) === "won";
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote; the first one from each voter counts. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.progress.keys()) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: this.voteResult(this.votes) };
  }

  /** Majority outcome of yes/no answers (missing voters may still answer). */
  voteResult(answers: ReadonlyMap<NodeId, boolean>): VoteResult {
    const n = this.progress.size;
    if (n === 0) return "won"; // by convention, as etcd: an empty config wins
    let yes = 0;
    let missing = 0;
    for (const id of this.progress.keys()) {
      const v = answers.get(id);
      if (v === undefined) missing++;
      else if (v) yes++;
    }
    const q = this.quorum();
    if (yes >= q) return "won";
    if (yes + missing >= q) return "pending";
    return "lost";
  }
}
