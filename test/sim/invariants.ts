// The checks. Continuous ones run after every scheduler event:
//   * election safety: at most one leader per term (from each member's Raft status);
//   * committed entries never change: every entry a member applies is hashed (index → hash of
//     term, type and data); every member, every incarnation, must apply the same entry at an
//     index, so every member's applied sequence is a prefix of one common sequence;
//   * deterministic apply: every store event (index → key, action, value) a member records
//     is the same on every member;
//   * no member applies backwards within a process lifetime.
// Final ones, once the cluster has been quiet and converged:
//   * convergence: every member ends at the same store index and the same keys;
//   * durability: every acknowledged write is in the committed history at the index its
//     answer gave, and the final state of each key is its last committed event (so an
//     acknowledged write is present or superseded by a later one);
//   * linearizability of the client history (test/check: checkLinearizable, model-v2);
//   * watch guarantees (test/check/watch.ts): in order, no gaps or duplicates, what was committed.
import { EtcdError } from "../../core/errors.ts";
import type { Member } from "../../core/server/member.ts";
import type { StoreEvent } from "../../core/store/types.ts";
import { eventIndex } from "../../core/watch/history.ts";
import { describeOperation, isIndeterminate, type Operation } from "../check/history.ts";
import { checkLinearizable, lastStats } from "../check/linearizability.ts";
import { createV2Model } from "../check/model-v2.ts";
import { checkWatches, type CommittedEvent, type WatchAction } from "../check/watch.ts";
import type { SimCluster, Slot } from "./cluster.ts";
import type { WatchState } from "./client.ts";
import { appliedIndex, logEntries, raftStatus } from "./probe.ts";
import { fmtTime, hash32, hashBytes, type Scheduler } from "./scheduler.ts";

export interface Violation {
  time: number;
  kind: string;
  message: string;
  /** For violations found by the final checks: when the offending operation happened. */
  focus?: number;
}

interface EntryRecord {
  hash: number;
  term: number;
  type: string;
  by: string;
  at: number;
}

interface EventRecord {
  key: string;
  action: string;
  value: string | undefined;
  dir: boolean;
  refresh: boolean;
  by: string;
  at: number;
}

export interface CheckCounters {
  entriesApplied: number;
  entriesChecked: number;
  eventsChecked: number;
  terms: number;
  opsChecked: number;
  watchesChecked: number;
  watchEventsChecked: number;
  linearizability: "ok" | "fail" | "timeout" | "skipped";
  linearizabilityMs: number;
}

export class Invariants {
  readonly violations: Violation[] = [];
  /** term → leader ID */
  private readonly leaders = new Map<number, string>();
  /** Raft index → the entry applied there. */
  private readonly entries = new Map<number, EntryRecord>();
  /** Store index → the event recorded there. */
  private readonly events = new Map<number, EventRecord>();
  /** Per process (slot name#incarnation): last applied index hashed. */
  private readonly progress = new Map<string, number>();
  readonly counters: CheckCounters = {
    entriesApplied: 0, entriesChecked: 0, eventsChecked: 0, terms: 0, opsChecked: 0, watchesChecked: 0, watchEventsChecked: 0,
    linearizability: "skipped", linearizabilityMs: 0,
  };

  constructor(
    private readonly sched: Scheduler,
    private readonly cluster: SimCluster,
  ) {}

  violate(kind: string, message: string, focus?: number): void {
    // One report per kind and message is enough.
    if (this.violations.some((v) => v.kind === kind && v.message === message)) return;
    const v: Violation = { time: this.sched.now, kind, message };
    // Final checks name operations "#id cN@nM [invoke, complete]": the trace around the first one helps.
    const named = /\[(\d+(?:\.\d+)?), /.exec(message);
    const at = focus ?? (named ? Number(named[1]) : undefined);
    if (at !== undefined && at < this.sched.now) v.focus = at;
    this.violations.push(v);
    this.sched.log(`!! VIOLATION ${kind}: ${message}`);
  }

  // ---- continuous

  /** A process started: its applied index begins at its snapshot. */
  started(slot: Slot, inc: number): void {
    this.progress.set(`${slot.name}#${inc}`, appliedIndex(slot.member!));
  }

  /** After every event. */
  observe(): void {
    for (const s of this.cluster.all()) {
      const m = s.member;
      if (m === null || s.rt === null || !s.rt.isAlive) continue;
      this.observeMember(s, m);
    }
  }

  private observeMember(s: Slot, m: Member): void {
    const st = raftStatus(m);
    if (st.softState.state === "StateLeader") {
      const term = st.hardState.term;
      const prev = this.leaders.get(term);
      if (prev === undefined) {
        this.leaders.set(term, st.id);
        this.counters.terms++;
      } else if (prev !== st.id) {
        this.violate("election-safety", `two leaders in term ${term}: ${this.cluster.byId(prev)?.name ?? prev} and ${s.name}`);
      }
    }
    const key = `${s.name}#${s.incarnation}`;
    const done = this.progress.get(key);
    if (done === undefined) return;
    const applied = appliedIndex(m);
    if (applied < done) {
      this.violate("applied-regressed", `${s.name} applied index went from ${done} back to ${applied}`);
      this.progress.set(key, applied);
      return;
    }
    if (applied === done) return;
    for (const e of logEntries(m, done + 1, applied)) {
      this.counters.entriesApplied++;
      const h = hashBytes(e.data, hash32(`${e.term}|${e.type}`));
      const prev = this.entries.get(e.index);
      if (prev === undefined) {
        this.entries.set(e.index, { hash: h, term: e.term, type: e.type, by: s.name, at: this.sched.now });
      } else {
        this.counters.entriesChecked++;
        if (prev.hash !== h) {
          this.violate(
            "committed-entry-changed",
            `entry ${e.index}: ${s.name} applied term ${e.term} ${e.type} (hash ${h.toString(16)}), ` +
              `but ${prev.by} applied term ${prev.term} ${prev.type} (hash ${prev.hash.toString(16)}) there at ${fmtTime(prev.at)}`,
          );
        }
      }
    }
    this.progress.set(key, applied);
  }

  /** A store event a member recorded as it applied an entry. */
  storeEvent(slot: Slot, e: StoreEvent, refresh: boolean): void {
    const index = eventIndex(e);
    const rec: EventRecord = {
      key: e.node.key,
      action: e.action,
      value: e.node.value,
      dir: e.node.dir === true || e.prevNode?.dir === true,
      refresh,
      by: slot.name,
      at: this.sched.now,
    };
    const prev = this.events.get(index);
    if (prev === undefined) {
      this.events.set(index, rec);
      return;
    }
    this.counters.eventsChecked++;
    if (prev.key !== rec.key || prev.action !== rec.action || prev.value !== rec.value || prev.refresh !== rec.refresh) {
      const show = (r: EventRecord) => `${r.action} ${r.key}${r.value !== undefined ? `=${JSON.stringify(r.value.slice(0, 40))}` : ""}${r.refresh ? " (refresh)" : ""}`;
      this.violate("apply-diverged", `store index ${index}: ${slot.name} recorded ${show(rec)}, ${prev.by} recorded ${show(prev)}`);
    }
  }

  // ---- final

  /** The committed user-key events, in index order, for the watch checker (keys without "/1"). */
  committedEvents(): CommittedEvent[] {
    const out: CommittedEvent[] = [];
    for (const [index, r] of [...this.events].sort((a, b) => a[0] - b[0])) {
      if (!r.key.startsWith("/1/")) continue;
      const ev: CommittedEvent = { index, key: r.key.slice(2), action: r.action as WatchAction };
      if (r.dir) ev.dir = true;
      if (r.refresh) ev.refresh = true;
      out.push(ev);
    }
    return out;
  }

  /** The highest store index with every index below it recorded. */
  private contiguousEvents(): number {
    let i = 0;
    while (this.events.has(i + 1)) i++;
    return i;
  }

  /** Every live member at the same store index with the same keys as the committed history says. */
  checkConvergence(keys: readonly string[]): void {
    const live = this.cluster.current().filter((s) => s.live);
    if (live.length === 0) return this.violate("convergence", "no member is running at the end");
    const indexes = live.map((s) => s.member!.store.index);
    const max = Math.max(...indexes);
    const behind = live.filter((s) => s.member!.store.index !== max);
    if (behind.length > 0) {
      this.violate("convergence", `members did not converge: ${live.map((s) => `${s.name}@${s.member!.store.index}`).join(" ")}`);
    }
    const upTo = this.contiguousEvents();
    if (upTo < max) this.violate("event-gap", `store events recorded without a gap only up to ${upTo} of ${max}`);
    // Expected final state from the committed events.
    const last = new Map<string, { index: number; rec: EventRecord }>();
    for (const [index, r] of this.events) {
      if (r.refresh || !r.key.startsWith("/1/")) continue;
      const cur = last.get(r.key);
      if (!cur || cur.index < index) last.set(r.key, { index, rec: r });
    }
    const internalKeys = new Set<string>([...keys.map((k) => "/1" + k), ...[...last.keys()]]);
    for (const s of live) {
      if (s.member!.store.index !== max) continue;
      for (const k of internalKeys) {
        const want = last.get(k);
        const present = want !== undefined && !["delete", "compareAndDelete", "expire"].includes(want.rec.action);
        let got: { value?: string; modifiedIndex: number; dir?: true } | null = null;
        try {
          got = s.member!.store.peek(k, false, false).node;
        } catch (e) {
          if (!(e instanceof EtcdError) || e.errorCode !== 100) throw e;
        }
        if (got?.dir) continue;
        if (present !== (got !== null) || (got && want && (got.modifiedIndex < want.index || got.value !== want.rec.value))) {
          this.violate(
            "final-state",
            `${s.name}: key ${k.slice(2)} is ${got ? `${JSON.stringify(got.value)}@${got.modifiedIndex}` : "absent"}, ` +
              `the committed history ends with ${want ? `${want.rec.action} at ${want.index}` : "nothing"}`,
          );
        }
      }
    }
  }

  /** Every acknowledged write is in the committed history where its answer said. */
  checkDurability(history: readonly Operation[]): number {
    let acked = 0;
    for (const o of history) {
      if (o.result.type !== "ok" || o.op.type === "get") continue;
      const node = o.result.node;
      if (!node) continue;
      acked++;
      const rec = this.events.get(node.modifiedIndex);
      const key = o.op.type === "createInOrder" ? (o.result.key ?? "") : o.op.key;
      const value = "value" in o.op ? o.op.value : undefined;
      const del = o.op.type === "delete" || o.op.type === "compareAndDelete";
      if (!rec) {
        this.violate("durability", `acknowledged write lost: ${describeOperation(o)} (no committed event at ${node.modifiedIndex})`);
      } else if (rec.key !== "/1" + key || (!del && rec.value !== value) || (del && !["delete", "compareAndDelete"].includes(rec.action))) {
        this.violate("durability", `acknowledged write not what was committed: ${describeOperation(o)}; index ${node.modifiedIndex} holds ${rec.action} ${rec.key.slice(2)}`);
      }
    }
    return acked;
  }

  checkHistory(history: readonly Operation[], clockSkew: number, timeoutMs: number): void {
    const t0 = performance.now();
    const model = createV2Model({ clockSkew, plainReads: "check" });
    const r = checkLinearizable(history, model, { timeoutMs });
    this.counters.linearizabilityMs = performance.now() - t0;
    this.counters.opsChecked = lastStats.ops;
    if (r.ok === true) this.counters.linearizability = "ok";
    else if (r.ok === "unknown") this.counters.linearizability = "timeout";
    else {
      this.counters.linearizability = "fail";
      this.violate(r.kind === "linearizability" ? "linearizability" : `history-${r.kind}`, `key ${r.key}:\n${r.explanation}`);
    }
  }

  checkWatches(watches: readonly WatchState[]): void {
    const committed = this.committedEvents();
    const records = watches.map((w) => {
      const rec = { ...w.record, events: [...w.record.events] };
      // Still open at the end on a member that is up: everything it applied must have arrived.
      if (w.active && !w.cut && w.slot.incarnation === w.incarnation && w.slot.live && w.record.stream) {
        rec.upTo = w.slot.member!.store.index;
      }
      return rec;
    });
    this.counters.watchesChecked = records.length;
    this.counters.watchEventsChecked = records.reduce((a, r) => a + r.events.length, 0);
    const r = checkWatches(committed, records, { allowTruncation: true, duplicateOnRemoval: "allow" });
    if (!r.ok) {
      const shown = r.all.slice(0, 5).map((f) => `watcher ${f.watcher} ${f.kind}: ${f.explanation}`).join("\n");
      this.violate("watch", shown);
    }
  }

  /** Unknown-outcome operations, for the summary. */
  static unknowns(history: readonly Operation[]): number {
    return history.filter(isIndeterminate).length;
  }
}
