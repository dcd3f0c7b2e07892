// What the leader knows about one follower's log, and how it may send to it:
//   probe      one MsgApp per heartbeat interval until we learn where the logs match;
//   replicate  stream MsgApps optimistically, bounded by the inflight window;
//   snapshot   a snapshot is on its way; send nothing until it is reported.
import { Inflights } from "./inflights.ts";
import type { ProgressView } from "./types.ts";

export type ProgressState = ProgressView["state"];

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match = 0;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = "probe";
  /** Index of the snapshot being sent (state "snapshot"). */
  pendingSnapshot = 0;
  /** Heard from recently (reset every election timeout when checkQuorum is on). */
  recentActive = false;
  /** In probe state: a MsgApp is outstanding, so sending is paused until a reply or heartbeat. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === "snapshot") {
      // The snapshot reached the follower: probe from after it.
      const pending = this.pendingSnapshot;
      this.resetState("probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState("probe");
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to n; returns whether match moved. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /** Replicate state: entries up to n are on their way. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * A rejection of the MsgApp whose previous index was `rejected`; `matchHint` is where the logs
   * may match. Returns false for stale rejections.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probes are sent one at a time, so only a rejection of the latest one counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  view(): ProgressView {
    return { match: this.match, next: this.next, state: this.state, recentActive: this.recentActive };
  }

  toString(): string {
    return `${this.state} match=${this.match} next=${this.next}` + (this.state === "snapshot" ? ` pendingSnap=${this.pendingSnapshot}` : "") + (this.probeSent ? " paused" : "") + (this.inflights.full() ? " inflight-full" : "");
  }
}
