// A cluster of full members in one process: each member is the production Member (Raft, WAL,
// snapshots, store) on its own SimRuntime (clock, disk) and SimTransport (network). Machines
// ("slots": n1, n2, ...) keep their disk and clock across process incarnations; the simulator
// crashes a process (the disk keeps only what was synced, optionally a torn last write),
// restarts it from that disk, pauses it, fails its disk, and adds or removes members through
// the client API (POST/DELETE /v2/members), as an operator would.
//
// A new member joining at run time starts from the identity the cluster gave it (the POST
// answer and the member list), as etcd's --initial-cluster-state=existing would fetch it.
import { parseConfig, type Config } from "../../core/config.ts";
import { MemoryFileSystem } from "../../core/fs/memory.ts";
import { createClientApp } from "../../core/http/app.ts";
import type { Identity } from "../../core/server/bootstrap.ts";
import { Member, type MemberOptions } from "../../core/server/member.ts";
import { openMemberData } from "../../core/server/open.ts";
import { createNew, hasData, type OpenedData } from "../../core/server/storage.ts";
import type { StoreEvent } from "../../core/store/types.ts";
import type { TransportOptions } from "../../core/transport/transport.ts";
import type { Network } from "./network.ts";
import { observeStoreEvents, raftOverridesActive, raftStatus, type RaftOverrides } from "./probe.ts";
import { type DiskLatency, FAST_DISK, SimClock, SimRuntime } from "./runtime.ts";
import type { Rng, Scheduler } from "./scheduler.ts";
import { SimTransport } from "./sim-transport.ts";

export type SlotState = "starting" | "up" | "down" | "failed" | "removed";

/** One machine. */
export class Slot {
  state: SlotState = "down";
  incarnation = 0;
  rt: SimRuntime | null = null;
  member: Member | null = null;
  transport: SimTransport | null = null;
  /**
   * The member's client API as startMember serves it: createClientApp(member), with requests
   * held until the member has published itself (as etcd, and core/server/start.ts).
   */
  app: { fetch(req: Request): Response | Promise<Response> } | null = null;
  /** The member has published itself through the log (it then serves at once). */
  published = false;
  /** Hex member ID (known once bootstrapped or added). */
  memberId = "";
  /** Set for members added at run time: the identity to bootstrap from. */
  joinIdentity: Identity | null = null;
  /** Virtual time of the last state change. */
  since = 0;
  /** Why it is failed/removed. */
  note = "";
  /** Paused (SIGSTOP). */
  paused = false;
  /** The disk was made to fail (a member failure is then expected). */
  diskFault = false;

  constructor(
    readonly name: string,
    readonly cfg: Config,
    public disk: MemoryFileSystem,
    readonly clock: SimClock,
  ) {}

  get peerURL(): string {
    return `http://${this.name}:2380`;
  }

  get clientURL(): string {
    return `http://${this.name}:2379`;
  }

  /** Up, with a member that answers. */
  get live(): boolean {
    return this.state === "up" && this.member !== null && !this.paused;
  }
}

export interface ClusterOptions {
  size: number;
  snapshotCount: number;
  heartbeatMs: number;
  electionMs: number;
  /** Max |wall clock offset| per machine at start, ms. */
  clockSkewMs: number;
  /** Max |drift| (fraction: 0.001 = 0.1 %). */
  driftMax: number;
  diskLatency?: DiskLatency;
  raft?: RaftOverrides;
  preVote?: boolean;
  traceLevel?: "debug" | "info" | "warn" | "error";
}

export interface ClusterHooks {
  /** A member process started (before it replays its log). */
  started?(slot: Slot, incarnation: number): void;
  /** A store event recorded by a member, as it applies it. */
  storeEvent?(slot: Slot, incarnation: number, e: StoreEvent, refresh: boolean): void;
  /** A member log line at warn or error, or a member/bootstrap failure. */
  problem?(slot: Slot, kind: string, message: string): void;
  /** A log line of a member (all levels). */
  log?(slot: Slot, level: string, msg: string): void;
}

export interface ClusterCounters {
  starts: number;
  crashes: number;
  tornCrashes: number;
  pauses: number;
  diskFaults: number;
  adds: number;
  removes: number;
}

function config(args: string[]): Config {
  const r = parseConfig(args, {});
  if (r.kind !== "ok") throw new Error(`sim: bad member config ${args.join(" ")}: ${JSON.stringify(r)}`);
  return r.config;
}

export class SimCluster {
  readonly slots = new Map<string, Slot>();
  readonly counters: ClusterCounters = { starts: 0, crashes: 0, tornCrashes: 0, pauses: 0, diskFaults: 0, adds: 0, removes: 0 };
  private nextIndex: number;
  /** A membership change is in progress. */
  changing = false;
  hooks: ClusterHooks = {};

  constructor(
    readonly sched: Scheduler,
    readonly net: Network,
    private readonly rng: Rng,
    readonly opts: ClusterOptions,
  ) {
    const names = Array.from({ length: opts.size }, (_, i) => `n${i + 1}`);
    const initial = names.map((n) => `${n}=http://${n}:2380`).join(",");
    for (const name of names) this.slots.set(name, this.newSlot(name, ["--initial-cluster", initial, "--initial-cluster-state", "new"]));
    this.nextIndex = opts.size + 1;
  }

  private newSlot(name: string, extra: string[]): Slot {
    const o = this.opts;
    const cfg = config([
      "--name", name,
      "--data-dir", `/data/${name}`,
      "--initial-advertise-peer-urls", `http://${name}:2380`,
      "--advertise-client-urls", `http://${name}:2379`,
      "--initial-cluster-token", "sim",
      "--snapshot-count", String(o.snapshotCount),
      "--heartbeat-interval", String(o.heartbeatMs),
      "--election-timeout", String(o.electionMs),
      ...(o.preVote ? ["--pre-vote"] : []),
      ...extra,
    ]);
    const r = this.rng.fork(`clock/${name}`);
    const clock = new SimClock(r.range(-o.driftMax, o.driftMax), r.range(-o.clockSkewMs, o.clockSkewMs), r.range(0, 1e6));
    return new Slot(name, cfg, new MemoryFileSystem(), clock);
  }

  // ---- queries

  all(): Slot[] {
    return [...this.slots.values()];
  }

  /** Slots whose member is running (up and not paused). */
  live(): Slot[] {
    return this.all().filter((s) => s.live);
  }

  /** Slots that are part of the cluster (not removed). */
  current(): Slot[] {
    return this.all().filter((s) => s.state !== "removed");
  }

  byId(id: string): Slot | undefined {
    return this.all().find((s) => s.memberId === id);
  }

  /** Member IDs of every slot ever started (network endpoints). */
  ids(): string[] {
    return this.all().map((s) => s.memberId).filter((id) => id !== "");
  }

  /** The live member Raft says leads at the highest term, if any. */
  leader(): Slot | undefined {
    let best: Slot | undefined;
    let bestTerm = -1;
    for (const s of this.live()) {
      const st = raftStatus(s.member!);
      if (st.softState.state === "StateLeader" && st.hardState.term > bestTerm) {
        best = s;
        bestTerm = st.hardState.term;
      }
    }
    return best;
  }

  // ---- lifecycle

  /** Starts every initial member (at the current virtual time). */
  async bootstrap(): Promise<void> {
    await Promise.all(this.all().map((s) => this.start(s)));
  }

  /** Starts a process on the slot from its disk. */
  async start(slot: Slot): Promise<void> {
    if (slot.state === "up" || slot.state === "starting" || slot.state === "removed") return;
    const inc = ++slot.incarnation;
    this.counters.starts++;
    const rt = new SimRuntime(this.sched, {
      node: slot.name,
      disk: slot.disk,
      clock: slot.clock,
      rng: this.rng.fork(`rt/${slot.name}/${inc}`),
      latency: this.opts.diskLatency ?? FAST_DISK,
      traceLevel: this.opts.traceLevel ?? "info",
    });
    slot.rt = rt;
    slot.state = "starting";
    slot.since = this.sched.now;
    slot.paused = false;
    rt.onLog((level, msg) => {
      this.hooks.log?.(slot, level, msg);
      if (level === "error") this.hooks.problem?.(slot, "log-error", msg);
    });
    this.sched.log(`${slot.name} start #${inc}`);
    let data: OpenedData;
    try {
      data = slot.joinIdentity !== null && !(await hasData(rt, slot.cfg)) ? await createNew(rt, slot.cfg, slot.joinIdentity) : await openMemberData(rt, slot.cfg);
    } catch (e) {
      if (slot.rt !== rt || !rt.isAlive) return; // crashed while opening
      slot.state = "failed";
      slot.note = `open failed: ${(e as Error).message}`;
      this.sched.log(`${slot.name} ${slot.note}`);
      this.hooks.problem?.(slot, "open", slot.note);
      return;
    }
    if (slot.rt !== rt || !rt.isAlive) return;
    slot.memberId = data.memberId;
    let transport: SimTransport | null = null;
    const seam: MemberOptions = { transport: (o: TransportOptions) => (transport = new SimTransport(o, this.net, slot.name)) };
    const raft = this.opts.raft;
    if (raft) seam.raft = raft;
    let member: Member;
    try {
      member = new Member(rt, slot.cfg, data, seam);
      if (transport === null) throw new Error("the member did not build its transport through MemberOptions.transport");
      if (raft && !raftOverridesActive(member, raft)) throw new Error("the member's Raft did not take MemberOptions.raft");
    } catch (e) {
      slot.state = "failed";
      slot.note = `member construction failed: ${(e as Error).stack ?? e}`;
      this.sched.log(`${slot.name} ${slot.note}`);
      this.hooks.problem?.(slot, "open", slot.note);
      return;
    }
    slot.member = member;
    slot.transport = transport;
    const clientApp = createClientApp(member);
    let ready: Promise<void> = new Promise<void>(() => {});
    slot.published = false;
    slot.app = {
      fetch: (req) => (slot.published && slot.incarnation === inc ? clientApp.fetch(req) : ready.then(() => clientApp.fetch(req))),
    };
    this.hooks.started?.(slot, inc);
    observeStoreEvents(member.store, (e, refresh) => {
      if (slot.incarnation === inc && rt.isAlive) this.hooks.storeEvent?.(slot, inc, e, refresh);
    });
    member.done.then(
      () => {
        if (slot.incarnation !== inc) return;
        this.sched.log(`${slot.name} stopped: removed from the cluster`);
        this.retire(slot, "removed", "removed from the cluster");
      },
      (e: Error) => {
        if (slot.incarnation !== inc || !rt.isAlive) return;
        slot.state = "failed";
        slot.note = `fatal: ${e.message}`;
        slot.since = this.sched.now;
        this.sched.log(`${slot.name} failed: ${e.message}`);
        if (!slot.diskFault) this.hooks.problem?.(slot, "fatal", `stopped on a fatal error with a healthy disk: ${e.message}`);
      },
    );
    try {
      await member.start();
    } catch (e) {
      if (slot.incarnation !== inc || !rt.isAlive) return;
      slot.state = "failed";
      slot.note = `start failed: ${(e as Error).message}`;
      this.hooks.problem?.(slot, "start", slot.note);
      return;
    }
    if (slot.incarnation !== inc || !rt.isAlive || slot.state !== "starting") return;
    slot.state = "up";
    slot.since = this.sched.now;
    ready = member.publish().then(() => {
      if (slot.incarnation === inc) slot.published = true;
    });
    ready.catch(() => {});
  }

  private retire(slot: Slot, state: "down" | "removed", note: string): void {
    slot.rt?.kill();
    if (slot.transport) this.net.unregister(slot.memberId, slot.transport);
    slot.member = null;
    slot.app = null;
    slot.transport = null;
    slot.state = state;
    slot.note = note;
    slot.since = this.sched.now;
    slot.paused = false;
  }

  /**
   * Power loss: the process vanishes and the disk keeps what was synced (with `tear`, a random
   * prefix of the last unsynced append survives too).
   */
  crash(slot: Slot, tear: boolean): void {
    if (slot.state === "removed" || slot.rt === null) return;
    this.counters.crashes++;
    if (tear) this.counters.tornCrashes++;
    const old = slot.disk;
    this.retire(slot, "down", tear ? "crashed (torn write)" : "crashed");
    const r = this.rng.fork(`tear/${slot.name}/${slot.incarnation}`);
    old.failWith(null);
    slot.diskFault = false;
    slot.disk = old.crash({ tearLastWrite: tear, random: () => r.next() });
    this.sched.log(`${slot.name} CRASH${tear ? " (tear last write)" : ""}`);
  }

  pause(slot: Slot): void {
    if (!slot.live || !slot.rt) return;
    this.counters.pauses++;
    slot.paused = true;
    slot.rt.pause();
    this.sched.log(`${slot.name} PAUSE`);
  }

  resume(slot: Slot): void {
    if (!slot.paused || !slot.rt) return;
    slot.paused = false;
    this.sched.log(`${slot.name} RESUME`);
    slot.rt.resume();
  }

  /** From now on every write/sync of this machine's disk fails (the member stops on it). */
  failDisk(slot: Slot, code: "ENOSPC" | "EIO"): void {
    if (!slot.live) return;
    this.counters.diskFaults++;
    slot.diskFault = true;
    slot.disk.failWith(code);
    this.sched.log(`${slot.name} DISK ${code}`);
  }

  // ---- client requests

  /**
   * A request to a member's client API, answered within `timeoutMs` of virtual time or not at
   * all (null: timeout, or the process died). The body is read before the answer counts.
   */
  request(slot: Slot, req: Request, timeoutMs: number): Promise<{ status: number; headers: Headers; body: string } | null> {
    const app = slot.app;
    const rt = slot.rt;
    if (!slot.live || app === null || rt === null) return Promise.resolve(null);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (v: { status: number; headers: Headers; body: string } | null): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve(v);
      };
      const timer = this.sched.after(timeoutMs, () => finish(null), "request-timeout");
      rt.runTask(() => {
        Promise.resolve(app.fetch(req))
          .then(async (res) => ({ status: res.status, headers: res.headers, body: await res.text() }))
          .then((v) => {
            if (rt.isAlive) finish(v);
          })
          .catch(() => finish(null));
      });
    });
  }

  // ---- membership

  /** Adds a member (a new machine) through `via`'s client API, then starts it. */
  async addMember(via: Slot, timeoutMs: number): Promise<Slot | null> {
    const name = `n${this.nextIndex++}`;
    const slot = this.newSlot(name, ["--initial-cluster-state", "existing", "--initial-cluster", `${name}=http://${name}:2380`]);
    this.counters.adds++;
    this.sched.log(`membership: add ${name} via ${via.name}`);
    const res = await this.request(via, new Request(`${via.clientURL}/v2/members`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ peerURLs: [slot.peerURL] }),
    }), timeoutMs);
    if (res === null || res.status !== 201) {
      this.sched.log(`membership: add ${name} ${res === null ? "timed out" : `answered ${res.status} ${res.body.trim()}`}`);
      // Unknown outcome: the change may still commit; adopt() starts it if it shows up.
      if (res === null) this.pendingAdds.set(slot.peerURL, slot);
      return null;
    }
    const added = JSON.parse(res.body) as { id: string };
    return this.launchJoined(slot, via, added.id);
  }

  /** Adds whose answer never came: started if the cluster turns out to have them. */
  private readonly pendingAdds = new Map<string, Slot>();

  private async launchJoined(slot: Slot, via: Slot, id: string): Promise<Slot | null> {
    const list = await this.request(via, new Request(`${via.clientURL}/v2/members`), 2000);
    if (list === null || list.status !== 200) {
      this.sched.log(`membership: could not list members for ${slot.name}`);
      this.pendingAdds.set(slot.peerURL, slot);
      return null;
    }
    const members = (JSON.parse(list.body) as { members: { id: string; name: string; peerURLs: string[] }[] }).members;
    slot.memberId = id;
    slot.joinIdentity = {
      memberId: id,
      clusterId: via.member!.clusterId,
      peers: members.map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerURLs })),
      joining: true,
    };
    this.slots.set(slot.name, slot);
    this.pendingAdds.delete(slot.peerURL);
    await this.start(slot);
    return slot;
  }

  /**
   * Starts machines whose addition committed although its request timed out, and forgets
   * those the cluster does not have (called by the nemesis from time to time).
   */
  async adopt(): Promise<void> {
    if (this.pendingAdds.size === 0) return;
    const via = this.leader() ?? this.live()[0];
    if (!via?.member) return;
    const known = via.member.members();
    for (const [url, slot] of [...this.pendingAdds]) {
      const m = known.find((x) => x.peerURLs.includes(url));
      if (m) await this.launchJoined(slot, via, m.id);
    }
  }

  /** Removes a member through `via`'s client API. */
  async removeMember(via: Slot, target: Slot, timeoutMs: number): Promise<boolean> {
    this.counters.removes++;
    this.sched.log(`membership: remove ${target.name} via ${via.name}`);
    const res = await this.request(via, new Request(`${via.clientURL}/v2/members/${target.memberId}`, { method: "DELETE" }), timeoutMs);
    this.sched.log(`membership: remove ${target.name} ${res === null ? "timed out" : `answered ${res.status}`}`);
    return res !== null && res.status === 204;
  }

  /** Kills every process (end of a run). */
  shutdown(): void {
    for (const s of this.all()) {
      s.rt?.kill();
      s.member = null;
      s.app = null;
    }
  }
}
