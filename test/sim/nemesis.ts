// The fault schedule: at random intervals the nemesis picks a fault from the run's menu,
// injects it, and schedules its repair. Every fault goes into a list (the "fault schedule"
// printed with a failure) and into the trace.
//
// Faults: partitions (majority/minority split, isolating the leader, one-way cuts, a bridge
// node, "swizzle" = rotating partial connectivity), message chaos (more loss, duplication,
// delay for a while), crashes (one member, the leader, a majority at once; with or without a
// torn last write; restart after a downtime), pauses (SIGSTOP-like), wall-clock jumps, disk
// failures (ENOSPC/EIO: the member stops; repaired by a restart), membership changes (add and
// remove members through the client API), and the adaptive "figure8" scenario below.
//
// figure8 (Figure 8 of the Raft paper) steers elections so that a leader must not commit an
// entry of an earlier term by counting replicas: L1 wins and is cut off with at most one
// follower F (its entries reach F only); the others elect L2 which is cut off at once (its
// entry stays on L2 alone); L1's side and the rest (without L2) elect W (L1 or F); W catches
// one follower X up entry by entry (maxSizePerMsg small) while the last member Y is cut off;
// the moment W's commit index moves, W and F are cut off and L2 is joined with X and Y. A
// correct Raft commits there only once X holds an entry of W's term, so L2 cannot win; with
// unsafeCommitOldTerms W commits the old entry as soon as X has it, and L2 then wins and
// overwrites it — committed entries change.
import type { SimCluster, Slot } from "./cluster.ts";
import type { NetConfig, Network } from "./network.ts";
import { raftStatus } from "./probe.ts";
import { fmtTime, type Rng, type Scheduler } from "./scheduler.ts";

export type FaultKind =
  | "partition"
  | "isolate-leader"
  | "one-way"
  | "bridge"
  | "swizzle"
  | "net-chaos"
  | "crash"
  | "crash-leader"
  | "crash-majority"
  | "pause"
  | "clock-jump"
  | "disk-fault"
  | "membership"
  | "figure8";

export const FAULT_KINDS: readonly FaultKind[] = [
  "partition", "isolate-leader", "one-way", "bridge", "swizzle", "net-chaos", "crash", "crash-leader",
  "crash-majority", "pause", "clock-jump", "disk-fault", "membership", "figure8",
];

export interface NemesisOptions {
  /** Mean time between faults, ms. */
  meanIntervalMs: number;
  weights: Partial<Record<FaultKind, number>>;
  /** Most members down, failed or paused at once (outside crash-majority). */
  maxDown: number;
  /** Wall-clock jumps stay within ±this (the model's clock skew allowance accounts for it). */
  clockSkewMs: number;
  /** Membership: keep the number of members in [minMembers, maxMembers]. */
  minMembers: number;
  maxMembers: number;
  /** Request timeout for membership changes, ms. */
  memberTimeoutMs: number;
}

export interface FaultRecord {
  time: number;
  kind: FaultKind | "heal" | "restart" | "repair" | "end";
  detail: string;
}

export interface NemesisCounters {
  injected: number;
  byKind: Partial<Record<FaultKind, number>>;
  figure8Completed: number;
}

export class Nemesis {
  readonly schedule: FaultRecord[] = [];
  readonly counters: NemesisCounters = { injected: 0, byKind: {}, figure8Completed: 0 };
  private running = false;
  /** A partition-type fault is in place (one at a time). */
  private partitioned = false;
  private partitionEpoch = 0;
  private chaos = false;
  private readonly baseNet: NetConfig;
  private scenario: Figure8 | null = null;

  constructor(
    private readonly sched: Scheduler,
    private readonly cluster: SimCluster,
    private readonly net: Network,
    private readonly rng: Rng,
    readonly opts: NemesisOptions,
  ) {
    this.baseNet = { ...net.cfg };
  }

  record(kind: FaultRecord["kind"], detail: string): void {
    this.schedule.push({ time: this.sched.now, kind, detail });
    this.sched.log(`nemesis: ${kind} ${detail}`);
  }

  private count(kind: FaultKind): void {
    this.counters.injected++;
    this.counters.byKind[kind] = (this.counters.byKind[kind] ?? 0) + 1;
  }

  start(delayMs: number): void {
    this.running = true;
    this.sched.after(delayMs, () => this.tick(), "nemesis");
  }

  /** Start the figure8 scenario now (tests that target it). */
  startScenario(): boolean {
    if (this.scenario) return false;
    const s = new Figure8(this, this.cluster, this.net, this.rng.fork(`f8/${this.sched.now}`));
    if (!s.begin()) return false;
    this.scenario = s;
    this.count("figure8");
    return true;
  }

  /** Called after every scheduler event: lets the adaptive scenario react at once. */
  observe(): void {
    if (this.scenario) {
      this.scenario.step();
      if (this.scenario.finished) {
        if (this.scenario.completed) this.counters.figure8Completed++;
        this.scenario = null;
      }
    }
  }

  get scenarioRunning(): boolean {
    return this.scenario !== null;
  }

  private tick(): void {
    if (!this.running) return;
    this.sched.after(this.rng.exp(this.opts.meanIntervalMs), () => this.tick(), "nemesis");
    void this.cluster.adopt();
    if (this.scenario) return;
    const options = FAULT_KINDS.filter((k) => (this.opts.weights[k] ?? 0) > 0 && this.applicable(k)).map((k) => [k, this.opts.weights[k]!] as const);
    if (options.length === 0) return;
    this.inject(this.rng.weighted(options));
  }

  private down(): number {
    return this.cluster.current().filter((s) => s.state !== "up" || s.paused).length;
  }

  private ids(): string[] {
    return this.cluster.ids();
  }

  private applicable(k: FaultKind): boolean {
    const up = this.cluster.live();
    switch (k) {
      case "partition":
      case "isolate-leader":
      case "one-way":
      case "bridge":
      case "swizzle":
        return !this.partitioned && this.cluster.current().length >= 3;
      case "net-chaos":
        return !this.chaos;
      case "crash":
      case "crash-leader":
      case "pause":
      case "disk-fault":
        return this.down() < this.opts.maxDown && up.length > 0;
      case "crash-majority":
        return this.down() === 0;
      case "clock-jump":
        return up.length > 0;
      case "membership":
        return !this.cluster.changing && this.down() === 0 && up.length > 0;
      case "figure8": {
        const cur = this.cluster.current();
        return !this.partitioned && !this.cluster.changing && (cur.length === 3 || cur.length === 5) && cur.every((s) => s.live);
      }
    }
  }

  private inject(k: FaultKind): void {
    const r = this.rng;
    const ids = this.ids();
    const name = (id: string): string => this.net.name(id);
    switch (k) {
      case "partition": {
        const members = r.shuffle(this.cluster.current().map((s) => s.memberId).filter((id) => id !== ""));
        const cut = r.int(1, Math.floor(members.length / 2));
        const a = members.slice(0, cut);
        const b = members.slice(cut);
        this.net.split([a, b], ids);
        this.partitionFor(k, `${a.map(name).join(",")} | ${b.map(name).join(",")}`);
        return;
      }
      case "isolate-leader": {
        const l = this.cluster.leader() ?? r.pick(this.cluster.current().filter((s) => s.memberId !== ""));
        this.net.isolate(l.memberId, ids);
        this.partitionFor(k, `${l.name} cut off`);
        return;
      }
      case "one-way": {
        const members = this.cluster.current().map((s) => s.memberId).filter((id) => id !== "");
        const links: string[] = [];
        const n = r.int(1, members.length);
        for (let i = 0; i < n; i++) {
          const a = r.pick(members);
          const b = r.pick(members.filter((x) => x !== a));
          this.net.cut(a, b, true);
          links.push(`${name(a)}↛${name(b)}`);
        }
        this.partitionFor(k, links.join(" "));
        return;
      }
      case "bridge": {
        const members = r.shuffle(this.cluster.current().map((s) => s.memberId).filter((id) => id !== ""));
        const bridge = members[0]!;
        const rest = members.slice(1);
        const half = Math.ceil(rest.length / 2);
        const a = rest.slice(0, half);
        const b = rest.slice(half);
        for (const x of a) for (const y of b) this.net.cut(x, y);
        this.partitionFor(k, `${a.map(name).join(",")} | ${b.map(name).join(",")} bridged by ${name(bridge)}`);
        return;
      }
      case "swizzle": {
        // Rotating partial connectivity: each step, one member (in a random order) loses its
        // links to the next two in the ring; the ring turns every few hundred ms.
        const members = r.shuffle(this.cluster.current().map((s) => s.memberId).filter((id) => id !== ""));
        const steps = r.int(3, 12);
        const every = r.range(150, 600);
        this.partitioned = true;
        const epoch = ++this.partitionEpoch;
        this.count(k);
        this.record(k, `${steps} steps of ${every.toFixed(0)} ms over ring ${members.map(name).join(",")}`);
        const step = (i: number): void => {
          if (!this.running || this.partitionEpoch !== epoch) return;
          if (i >= steps) return this.healPartition(epoch);
          this.net.healAll();
          const n = members.length;
          const a = members[i % n]!;
          for (let d = 1; d <= 2 && d < n; d++) this.net.cut(a, members[(i + d) % n]!);
          if (r.chance(0.5)) this.net.cut(members[(i + 2) % n]!, members[(i + 3) % n]!, true);
          this.sched.log(`nemesis: swizzle step ${i}: ${this.net.describe()}`);
          this.sched.after(every, () => step(i + 1), "nemesis");
        };
        step(0);
        return;
      }
      case "net-chaos": {
        this.chaos = true;
        this.count(k);
        const c = { ...this.baseNet };
        c.drop = r.range(0.05, 0.3);
        c.dup = r.range(0, 0.1);
        c.maxDelay = r.range(5, 50);
        c.tailChance = r.range(0.01, 0.1);
        c.tailMax = r.range(100, 800);
        this.net.cfg = c;
        const dur = r.range(500, 6000);
        this.record(k, `drop ${(c.drop * 100).toFixed(0)}% dup ${(c.dup * 100).toFixed(0)}% delay ≤${c.maxDelay.toFixed(0)} ms for ${dur.toFixed(0)} ms`);
        this.sched.after(dur, () => {
          this.net.cfg = { ...this.baseNet };
          this.chaos = false;
          this.record("heal", "network back to normal");
        }, "nemesis");
        return;
      }
      case "crash":
      case "crash-leader": {
        const s = k === "crash-leader" ? (this.cluster.leader() ?? r.pick(this.cluster.live())) : r.pick(this.cluster.live());
        this.crashAndRestart(k, [s]);
        return;
      }
      case "crash-majority": {
        const live = r.shuffle(this.cluster.live());
        const n = Math.min(live.length, Math.floor(this.cluster.current().length / 2) + 1 + (r.chance(0.3) ? 1 : 0));
        this.crashAndRestart(k, live.slice(0, n));
        return;
      }
      case "pause": {
        const s = r.chance(0.5) ? (this.cluster.leader() ?? r.pick(this.cluster.live())) : r.pick(this.cluster.live());
        const dur = r.range(200, 5000);
        this.count(k);
        this.cluster.pause(s);
        this.record(k, `${s.name} for ${dur.toFixed(0)} ms`);
        this.sched.after(dur, () => {
          if (!s.paused) return;
          this.cluster.resume(s);
          this.record("heal", `${s.name} resumed`);
        }, "nemesis");
        return;
      }
      case "clock-jump": {
        const s = r.pick(this.cluster.live());
        const target = r.range(-this.opts.clockSkewMs, this.opts.clockSkewMs);
        const delta = target - s.clock.offset;
        s.clock.jump(delta);
        this.count(k);
        this.record(k, `${s.name} wall clock ${delta >= 0 ? "+" : ""}${delta.toFixed(0)} ms (offset now ${target.toFixed(0)} ms)`);
        return;
      }
      case "disk-fault": {
        const s = r.pick(this.cluster.live());
        const code = r.chance(0.5) ? "ENOSPC" : "EIO";
        this.count(k);
        this.cluster.failDisk(s, code);
        const dur = r.range(200, 4000);
        this.record(k, `${s.name} ${code}; repaired (power cycle) after ${dur.toFixed(0)} ms`);
        this.sched.after(dur, () => {
          if (s.state === "removed") return;
          s.disk.failWith(null);
          this.cluster.crash(s, false);
          this.record("repair", `${s.name} disk repaired, restarting`);
          void this.cluster.start(s);
        }, "nemesis");
        return;
      }
      case "membership":
        void this.membership();
        return;
      case "figure8":
        if (this.startScenario()) this.record(k, "scenario started");
        return;
    }
  }

  private partitionFor(k: FaultKind, detail: string): void {
    this.partitioned = true;
    const epoch = ++this.partitionEpoch;
    this.count(k);
    const dur = this.rng.range(300, 8000);
    this.record(k, `${detail} for ${dur.toFixed(0)} ms`);
    this.sched.after(dur, () => this.healPartition(epoch), "nemesis");
  }

  /** Back to full connectivity (the scenario also uses this). */
  healPartition(epoch = this.partitionEpoch): void {
    if (epoch !== this.partitionEpoch) return;
    this.partitionEpoch++;
    this.partitioned = false;
    this.net.healAll();
    this.record("heal", "network fully connected");
  }

  /** Marks the network as taken (by the scenario). */
  takeNetwork(): void {
    this.partitioned = true;
    this.partitionEpoch++;
  }

  private crashAndRestart(k: FaultKind, slots: Slot[]): void {
    this.count(k);
    const r = this.rng;
    const parts: string[] = [];
    for (const s of slots) {
      const tear = r.chance(0.5);
      const down = r.chance(0.2) ? r.range(3000, 12000) : r.range(50, 3000);
      this.cluster.crash(s, tear);
      parts.push(`${s.name}${tear ? " (torn)" : ""} down ${down.toFixed(0)} ms`);
      this.sched.after(down, () => {
        if (s.state !== "down") return;
        this.record("restart", s.name);
        void this.cluster.start(s);
      }, "nemesis");
    }
    this.record(k, parts.join(", "));
  }

  private async membership(): Promise<void> {
    const cur = this.cluster.current();
    const live = this.cluster.live();
    if (live.length === 0) return;
    const canAdd = cur.length < this.opts.maxMembers;
    const canRemove = cur.length > this.opts.minMembers;
    if (!canAdd && !canRemove) return;
    this.cluster.changing = true;
    this.count("membership");
    try {
      const via = this.cluster.leader() ?? this.rng.pick(live);
      if (canAdd && (!canRemove || this.rng.chance(0.5))) {
        this.record("membership", `add a member via ${via.name}`);
        const s = await this.cluster.addMember(via, this.opts.memberTimeoutMs);
        this.record("membership", s ? `${s.name} added (${s.memberId})` : "add failed or unknown");
      } else {
        const target = this.rng.pick(cur.filter((s) => s.memberId !== ""));
        this.record("membership", `remove ${target.name} via ${via.name}`);
        const ok = await this.cluster.removeMember(via, target, this.opts.memberTimeoutMs);
        this.record("membership", `remove ${target.name} ${ok ? "done" : "failed or unknown"}`);
      }
    } finally {
      // Let the change settle before another one.
      this.sched.after(2000, () => (this.cluster.changing = false), "nemesis");
    }
  }

  /**
   * No more faults: heal the network, resume and restart everything, repair disks. The
   * cluster then gets a quiet period to converge before the final checks.
   */
  stop(): void {
    this.running = false;
    if (this.scenario) {
      this.scenario.abort("run ending");
      this.scenario = null;
    }
    this.partitionEpoch++;
    this.partitioned = false;
    this.net.healAll();
    this.net.cfg = { ...this.baseNet };
    this.chaos = false;
    for (const s of this.cluster.all()) {
      if (s.paused) this.cluster.resume(s);
      if (s.state === "failed") {
        s.disk.failWith(null);
        this.cluster.crash(s, false);
      }
      if (s.state === "down") void this.cluster.start(s);
    }
    void this.cluster.adopt();
    this.record("end", "faults stopped; network healed; every member restarted");
  }
}

type F8Phase = "await-l1" | "await-l2" | "await-w" | "await-commit" | "await-overwrite" | "hold";

/** The adaptive Figure 8 schedule (see the header). */
class Figure8 {
  finished = false;
  completed = false;
  private phase: F8Phase = "await-l1";
  private deadline = 0;
  private l0: Slot | null = null;
  private l1: Slot | null = null;
  private l2: Slot | null = null;
  private w: Slot | null = null;
  private side: Slot[] = [];
  private rest: Slot[] = [];
  private x: Slot | null = null;
  private y: Slot | null = null;
  private term = 0;
  private commit0 = 0;

  constructor(
    private readonly nem: Nemesis,
    private readonly cluster: SimCluster,
    private readonly net: Network,
    private readonly rng: Rng,
  ) {}

  private get now(): number {
    return this.cluster.sched.now;
  }

  private ids(): string[] {
    return this.cluster.ids();
  }

  private split(groups: Slot[][]): void {
    this.net.split(groups.map((g) => g.map((s) => s.memberId)), this.ids());
    this.nem.record("figure8", `${this.phase}: ${groups.map((g) => g.map((s) => s.name).join(",")).join(" | ")}`);
  }

  private leaderIn(group: Slot[], minTerm: number): { slot: Slot; term: number } | null {
    for (const s of group) {
      if (!s.member) continue;
      const st = raftStatus(s.member);
      if (st.softState.state === "StateLeader" && st.hardState.term > minTerm) return { slot: s, term: st.hardState.term };
    }
    return null;
  }

  begin(): boolean {
    const cur = this.cluster.current();
    const l0 = this.cluster.leader();
    if (!l0 || (cur.length !== 3 && cur.length !== 5)) return false;
    this.nem.takeNetwork();
    this.l0 = l0;
    this.term = raftStatus(l0.member!).hardState.term;
    this.phase = "await-l1";
    this.split([[l0], cur.filter((s) => s !== l0)]);
    this.deadline = this.now + 15000;
    return true;
  }

  abort(why: string): void {
    if (this.finished) return;
    this.finished = true;
    this.nem.record("figure8", `gave up in ${this.phase}: ${why}`);
    this.nem.healPartition();
  }

  step(): void {
    if (this.finished) return;
    if (this.now > this.deadline) return this.abort("timeout");
    const cur = this.cluster.current();
    if (cur.some((s) => !s.member)) return this.abort("a member went away");
    const five = cur.length === 5;
    switch (this.phase) {
      case "await-l1": {
        const others = cur.filter((s) => s !== this.l0);
        const l = this.leaderIn(others, this.term);
        if (!l) return;
        this.l1 = l.slot;
        this.term = l.term;
        const rest = others.filter((s) => s !== l.slot);
        const f = five ? this.rng.pick(rest) : null;
        this.side = f ? [l.slot, f] : [l.slot];
        this.rest = cur.filter((s) => !this.side.includes(s));
        this.phase = "await-l2";
        this.split([this.side, this.rest]);
        this.deadline = this.now + 15000;
        return;
      }
      case "await-l2": {
        const l = this.leaderIn(this.rest, this.term);
        if (!l) return;
        this.l2 = l.slot;
        this.term = l.term;
        const xy = this.rest.filter((s) => s !== l.slot);
        this.phase = "await-w";
        this.split([[...this.side, ...xy], [l.slot]]);
        this.deadline = this.now + 15000;
        return;
      }
      case "await-w": {
        const group = cur.filter((s) => s !== this.l2);
        const l = this.leaderIn(group, this.term);
        if (!l) return;
        if (!this.side.includes(l.slot)) return this.abort(`${l.slot.name} won instead of ${this.side.map((s) => s.name).join("/")}`);
        this.w = l.slot;
        this.term = l.term;
        const other = this.side.filter((s) => s !== l.slot);
        const xy = this.rng.shuffle(group.filter((s) => !this.side.includes(s)));
        this.x = xy[0]!;
        this.y = xy[1] ?? null;
        this.commit0 = raftStatus(l.slot.member!).hardState.commit;
        this.phase = "await-commit";
        const groups = [[l.slot, ...other, this.x], [this.l2!]];
        if (this.y) groups.push([this.y]);
        this.split(groups);
        this.deadline = this.now + 15000;
        return;
      }
      case "await-commit": {
        const st = raftStatus(this.w!.member!);
        if (st.softState.state !== "StateLeader") return this.abort(`${this.w!.name} lost leadership`);
        if (st.hardState.commit <= this.commit0) return;
        this.phase = "await-overwrite";
        const groups = [[this.l2!, this.x!, ...(this.y ? [this.y] : [])], ...this.side.map((s) => [s])];
        this.nem.record("figure8", `${this.w!.name} committed ${st.hardState.commit} (was ${this.commit0}) at term ${st.hardState.term}`);
        this.split(groups);
        this.deadline = this.now + 15000;
        return;
      }
      case "await-overwrite": {
        const l = this.leaderIn([this.l2!, this.x!, ...(this.y ? [this.y] : [])], this.term);
        if (!l) return;
        this.nem.record("figure8", `${l.slot.name} leads term ${l.term} without ${this.w!.name}`);
        this.phase = "hold";
        this.deadline = this.now + 2000;
        this.cluster.sched.after(1500, () => {
          if (this.finished) return;
          this.finished = true;
          this.completed = true;
          this.nem.record("figure8", `completed at ${fmtTime(this.now)}`);
          this.nem.healPartition();
        }, "figure8");
        return;
      }
      case "hold":
        return;
    }
  }
}
