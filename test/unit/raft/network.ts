// A small in-memory cluster of RawNodes for the Raft tests (in the style of etcd's raft tests):
// each node persists its Ready into a MemoryStorage, applies committed entries to a toy state
// machine (the list of applied entries), and its messages go through a queue that tests can
// inspect, filter, cut (partitions) or deliver.
import { coalesceMessages } from "../../../core/raft/coalesce.ts";
import { RawNode } from "../../../core/raft/raw-node.ts";
import { MemoryStorage } from "../../../core/raft/storage.ts";
import { bootstrapEntries } from "../../../core/raft/bootstrap.ts";
import { decodeConfChange } from "../../../core/raft/conf-change.ts";
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, RaftConfig, ReadState, Ready, Snapshot, StateType } from "../../../core/raft/types.ts";

export interface NodeOptions {
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxInflightMsgs?: number;
  maxSizePerMsg?: number;
  unsafeCommitOldTerms?: boolean;
}

/** What the toy state machine remembers of an applied entry. */
export interface AppliedEntry {
  index: number;
  term: number;
  data: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

export function text(b: Uint8Array): string {
  return dec.decode(b);
}

/** Deterministic PRNG (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A storage holding the bootstrap entries of `voters` (term 1, all committed). */
export function bootstrappedStorage(voters: NodeId[]): MemoryStorage {
  const s = new MemoryStorage();
  s.append(bootstrapEntries(voters));
  s.setHardState({ term: 1, vote: "", commit: voters.length });
  return s;
}

/** Appends entries with the given terms after the storage's last index (preset logs). */
export function appendTerms(s: MemoryStorage, terms: number[], data = ""): void {
  let i = s.lastIndex();
  s.append(terms.map((term) => ({ index: ++i, term, type: "normal" as const, data: bytes(data ? `${data}${i}` : "") })));
}

export class TestNode {
  rn!: RawNode;
  /** The toy state machine: applied entries with data (empty entries are skipped). */
  state: AppliedEntry[] = [];
  appliedIndex = 0;
  /** Every entry applied, including empty and conf entries (for committed-log checks). */
  appliedLog: { index: number; term: number }[] = [];
  confState: ConfState;
  readStates: ReadState[] = [];
  snapshotsInstalled = 0;
  /** Conf changes applied through committed entries. */
  confChanges: ConfChange[] = [];
  stateType: StateType = "StateFollower";
  lead: NodeId = "";
  /** Every Ready this node produced (tests may inspect the latest ones). */
  readies: Ready[] = [];

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    readonly opts: NodeOptions,
    private readonly seed: number,
    applied: number,
  ) {
    this.appliedIndex = applied;
    this.confState = storage.initialState().confState;
    // Bootstrapped members: the conf entries up to `applied` are part of the app state.
    if (applied > 0) {
      const voters = new Set(this.confState.voters);
      for (const e of storage.entries(storage.firstIndex(), applied + 1, Infinity)) {
        this.appliedLog.push({ index: e.index, term: e.term });
        if (e.type === "conf") {
          const cc = decodeConfChange(e.data);
          if (cc.type === "addNode") voters.add(cc.nodeId);
          if (cc.type === "removeNode") voters.delete(cc.nodeId);
        }
      }
      this.confState = { voters: [...voters].sort() };
    }
    this.start(applied);
  }

  config(applied: number): RaftConfig {
    return {
      id: this.id,
      electionTick: this.opts.electionTick ?? 10,
      heartbeatTick: this.opts.heartbeatTick ?? 1,
      storage: this.storage,
      applied,
      maxSizePerMsg: this.opts.maxSizePerMsg ?? Infinity,
      maxInflightMsgs: this.opts.maxInflightMsgs ?? 256,
      checkQuorum: this.opts.checkQuorum ?? false,
      preVote: this.opts.preVote ?? false,
      random: seeded(this.seed),
      unsafeCommitOldTerms: this.opts.unsafeCommitOldTerms ?? false,
    };
  }

  /** (Re)creates the RawNode from storage, as a restarted member would. */
  start(applied = this.appliedIndex): void {
    this.rn = new RawNode(this.config(applied));
    this.stateType = "StateFollower";
    this.lead = "";
  }

  get status() {
    return this.rn.status();
  }

  get term(): number {
    return this.rn.status().hardState.term;
  }

  get committed(): number {
    return this.rn.status().hardState.commit;
  }

  get lastIndex(): number {
    return this.storage.lastIndex();
  }

  /** Terms of the stored log from firstIndex to lastIndex. */
  logTerms(): number[] {
    const out: number[] = [];
    for (let i = this.storage.firstIndex(); i <= this.storage.lastIndex(); i++) out.push(this.storage.term(i));
    return out;
  }

  data(): string[] {
    return this.state.map((e) => e.data);
  }

  /** Takes a snapshot of the state machine at the applied index and compacts the log to it. */
  compact(keep = 0): Snapshot {
    const data = bytes(JSON.stringify({ state: this.state, log: this.appliedLog }));
    const snap = this.storage.createSnapshot(this.appliedIndex, this.confState, data);
    this.storage.compact(Math.max(this.appliedIndex - keep, this.storage.firstIndex()));
    return snap;
  }

  /** Persists, applies and advances one Ready; returns its messages. */
  handleReady(): Message[] {
    const rd = this.rn.ready();
    this.readies.push(rd);
    if (this.readies.length > 50) this.readies.shift();
    if (rd.softState) {
      this.stateType = rd.softState.state;
      this.lead = rd.softState.lead;
    }
    // 1. persist
    if (rd.snapshot) {
      this.storage.applySnapshot(rd.snapshot);
    }
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    // 2. messages leave after persisting (returned to the network)
    for (const m of rd.messages) {
      if (m.to === this.id) throw new Error(`${this.id}: message to self in Ready: ${m.type}`);
      if (m.from !== this.id) throw new Error(`${this.id}: message from ${m.from} in own Ready`);
    }
    // 3. apply
    if (rd.snapshot) {
      const s = JSON.parse(text(rd.snapshot.data)) as { state: AppliedEntry[]; log: { index: number; term: number }[] };
      this.state = s.state;
      this.appliedLog = s.log;
      this.appliedIndex = rd.snapshot.metadata.index;
      this.confState = rd.snapshot.metadata.confState;
      this.snapshotsInstalled++;
    }
    for (const e of rd.committedEntries) this.apply(e);
    this.readStates.push(...rd.readStates);
    this.rn.advance(rd);
    return rd.messages;
  }

  private apply(e: Entry): void {
    if (e.index !== this.appliedIndex + 1) throw new Error(`${this.id}: applying ${e.index} after ${this.appliedIndex}`);
    this.appliedIndex = e.index;
    this.appliedLog.push({ index: e.index, term: e.term });
    if (e.type === "conf") {
      const cc = decodeConfChange(e.data);
      this.confChanges.push(cc);
      this.confState = this.rn.applyConfChange(cc);
    } else if (e.data.length > 0) {
      this.state.push({ index: e.index, term: e.term, data: text(e.data) });
    }
  }
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages sent and not yet delivered, in order. */
  queue: Message[] = [];
  /** Every message that entered the queue (after filters), for assertions. */
  sent: Message[] = [];
  /** Nodes whose messages (both ways) are dropped; also not processed while "down". */
  private readonly isolated = new Set<NodeId>();
  private readonly down = new Set<NodeId>();
  /** Directed links that drop messages: "a>b". */
  private readonly cuts = new Set<string>();
  /** Optional hook: return the message to deliver (possibly changed) or null to drop it. */
  intercept: ((m: Message) => Message | null) | undefined;
  /** When set, each Ready's messages go through coalesceMessages with this byte limit (as the member sends them). */
  coalesceBytes: number | undefined;

  constructor(ids: NodeId[], opts: NodeOptions = {}, voters: NodeId[] = ids) {
    ids.forEach((id, i) => this.add(id, voters.includes(id) ? bootstrappedStorage(voters) : new MemoryStorage(), opts, i + 1));
  }

  add(id: NodeId, storage: MemoryStorage, opts: NodeOptions = {}, seed = this.nodes.size + 1, applied?: number): TestNode {
    const n = new TestNode(id, storage, opts, seed, applied ?? storage.initialState().hardState.commit);
    this.nodes.set(id, n);
    return n;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  /** The id of the node that believes it is leader with the highest term ("" if none). */
  leader(): NodeId {
    let best = "";
    let term = -1;
    for (const [id, n] of this.nodes) {
      if (this.down.has(id)) continue;
      const st = n.rn.status();
      if (st.softState.state === "StateLeader" && st.hardState.term > term) {
        best = id;
        term = st.hardState.term;
      }
    }
    return best;
  }

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}>${b}`);
    this.cuts.add(`${b}>${a}`);
  }

  /** Crashes a node: it processes nothing and its messages are lost. */
  crash(id: NodeId): void {
    this.down.add(id);
  }

  /** Restarts a crashed node from its storage. */
  restart(id: NodeId): void {
    this.down.delete(id);
    this.node(id).start();
  }

  heal(): void {
    this.isolated.clear();
    this.cuts.clear();
  }

  private dropped(m: Message): boolean {
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return true;
    if (this.down.has(m.from) || this.down.has(m.to)) return true;
    return this.cuts.has(`${m.from}>${m.to}`);
  }

  /** Like a transport: report each MsgSnap's fate to its sender (reportSnapshot). */
  reportSnapshots = true;

  private snapshotDone(m: Message, ok: boolean): void {
    if (m.type === "MsgSnap" && this.reportSnapshots && !this.down.has(m.from)) this.node(m.from).rn.reportSnapshot(m.to, ok);
  }

  enqueue(msgs: Message[]): void {
    for (const orig of msgs) {
      if (this.dropped(orig)) {
        this.snapshotDone(orig, false);
        continue;
      }
      let m: Message | null = structuredClone(orig);
      if (this.intercept) m = this.intercept(m);
      if (!m) {
        this.snapshotDone(orig, false);
        continue;
      }
      this.queue.push(m);
      this.sent.push(m);
    }
  }

  /** Processes every pending Ready (repeatedly); returns whether there was any. */
  flush(): boolean {
    let any = false;
    for (let again = true; again; ) {
      again = false;
      for (const [id, n] of this.nodes) {
        if (this.down.has(id) || !n.rn.hasReady()) continue;
        const msgs = n.handleReady();
        this.enqueue(this.coalesceBytes === undefined ? msgs : coalesceMessages(msgs, this.coalesceBytes));
        again = any = true;
      }
    }
    return any;
  }

  /** Delivers the messages queued now (new ones wait for the next call). */
  deliver(pred: (m: Message) => boolean = () => true): number {
    const batch = this.queue;
    this.queue = [];
    let n = 0;
    for (const m of batch) {
      if (!pred(m)) {
        this.queue.push(m);
        continue;
      }
      if (this.deliverOne(m)) n++;
    }
    return n;
  }

  /** Steps one message into its target (unless it is cut off); returns whether it arrived. */
  deliverOne(m: Message): boolean {
    if (this.dropped(m) || !this.nodes.has(m.to)) {
      this.snapshotDone(m, false);
      return false;
    }
    this.nodes.get(m.to)!.rn.step(m);
    this.snapshotDone(m, true);
    return true;
  }

  isDown(id: NodeId): boolean {
    return this.down.has(id);
  }

  /** Drops queued messages matching pred. */
  drop(pred: (m: Message) => boolean): void {
    const gone = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    for (const m of gone) this.snapshotDone(m, false);
  }

  /** Runs until no node has a Ready and no message is queued. */
  stabilize(maxRounds = 10000): void {
    for (let i = 0; i < maxRounds; i++) {
      this.flush();
      if (this.queue.length === 0) return;
      this.deliver();
    }
    throw new Error("network did not stabilize");
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).rn.tick();
  }

  /** Ticks every live node n times, stabilizing after each tick. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const [id, node] of this.nodes) if (!this.down.has(id)) node.rn.tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign and runs the election to completion. */
  elect(id: NodeId): void {
    this.node(id).rn.campaign();
    this.stabilize();
  }

  propose(id: NodeId, data: string): void {
    this.node(id).rn.propose(bytes(data));
    this.stabilize();
  }

  hardState(id: NodeId): HardState {
    return this.node(id).storage.initialState().hardState;
  }
}
