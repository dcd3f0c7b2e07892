// A fault-injecting TCP proxy for the peer links of a cluster (node:net), to partition members.
//
// Each member gets a proxy that listens on the member's *advertised* peer port and forwards to
// the port the member really listens on (--listen-peer-urls), so every peer connection to that
// member goes through the proxy. Members advertise the proxy ports (--initial-advertise-peer-urls
// and --initial-cluster), which both etcd and our members accept since the listen URL may differ
// from the advertised one. Use PeerNet.ports() as ClusterOptions.ports.
//
// Who is talking: all peers reach a member through the same proxy, so the proxy reads the head of
// the first request on each connection and takes the sender from X-Server-From (etcd's rafthttp
// and our transport send it on every raft request: streams, POST /raft, snapshots). A connection
// is used by one process only, so its first request names it for its whole life. Requests that
// carry no X-Server-From (GET /version, /members, /raft/probing) leave the connection "unknown";
// unknown connections are allowed only while no fault touches their destination (conservative:
// raft traffic cannot sneak through a cut on a connection first used for /version).
//
// Directions: on a connection from S to the proxy of D, request bytes carry S→D traffic (POST
// bodies; a stream GET's head) and response bytes carry D→S traffic (the messages of a stream
// GET /raft/stream/<S>, which S opened to receive D's messages). Faults, per ordered pair:
//   cut(a, b)         both directions between a and b: existing connections destroyed, new ones
//                     closed as soon as their sender is known ("refused");
//   drop(from, to)    one way: bytes from→to are read and thrown away (a black hole, like lost
//                     packets, on both kinds of connection); traffic to→from still flows;
//   delay(from, to)   bytes from→to are held for ms milliseconds (order kept);
//   heal()            all links restored; connections that lost bytes are closed (their HTTP
//                     framing is broken), so the members reconnect cleanly.
// Helpers: isolate(name), partition([...], [...]).
//
// The proxy must learn the member ids (hex, as /v2/members shows them) to name senders: call
// setIds({ name: id }) once the cluster is up; until then every sender is unknown (and faults
// should not be set before).
import { createServer, connect } from "node:net";
import type { Server, Socket } from "node:net";
import { freePorts } from "./processes.ts";

export interface LinkRule {
  /** Bytes are thrown away. */
  drop: boolean;
  /** Connections are closed and refused (always set on both directions). */
  cut: boolean;
  /** Extra latency (ms). */
  delayMs: number;
}

const PASS: LinkRule = { drop: false, cut: false, delayMs: 0 };
const HEAD_LIMIT = 64 * 1024;

/** One direction of a proxied connection: keeps chunk order across delay changes. */
class Pipe {
  private queue: Array<{ at: number; chunk: Buffer }> = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ending = false;
  /** Bytes thrown away since the connection opened. */
  dropped = 0;
  forwarded = 0;

  constructor(private readonly out: Socket) {}

  push(chunk: Buffer, rule: LinkRule): void {
    if (rule.drop || rule.cut) {
      this.dropped += chunk.length;
      return;
    }
    const now = Date.now();
    let at = now + rule.delayMs;
    const tail = this.queue[this.queue.length - 1];
    if (tail && tail.at > at) at = tail.at;
    if (at <= now && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    this.queue.push({ at, chunk });
    this.schedule();
  }

  private write(chunk: Buffer): void {
    if (this.out.destroyed) return;
    this.forwarded += chunk.length;
    this.out.write(chunk);
  }

  private schedule(): void {
    if (this.timer !== null || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0]!.at - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = Date.now();
      while (this.queue.length && this.queue[0]!.at <= now) this.write(this.queue.shift()!.chunk);
      if (this.queue.length === 0 && this.ending && !this.out.destroyed) this.out.end();
      this.schedule();
    }, wait);
  }

  /** The sender half-closed: end the other side once everything queued is written. */
  end(): void {
    this.ending = true;
    if (this.queue.length === 0 && !this.out.destroyed) this.out.end();
  }

  /** Nothing waiting in a delay queue. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }
}

interface Conn {
  /** Sender id (hex) from X-Server-From; null until the head is read or if it has none. */
  fromId: string | null;
  /** The head was read (sender known or definitely unknown). */
  identified: boolean;
  dest: string;
  client: Socket;
  upstream: Socket;
  /** client → member (sender → dest). */
  req: Pipe;
  /** member → client (dest → sender). */
  res: Pipe;
  closed: boolean;
  path: string;
}

export interface LinkStats {
  connections: number;
  refused: number;
  destroyed: number;
}

/** The proxy in front of one member's peer port. */
class MemberProxy {
  server: Server | null = null;
  readonly conns = new Set<Conn>();
  stats: LinkStats = { connections: 0, refused: 0, destroyed: 0 };

  constructor(
    readonly net: PeerNet,
    readonly name: string,
    readonly listenPort: number,
    readonly targetPort: number,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const srv = createServer({ allowHalfOpen: true }, (sock) => this.accept(sock));
      srv.on("error", reject);
      srv.listen(this.listenPort, "127.0.0.1", () => {
        srv.off("error", reject);
        srv.on("error", () => { /* keep serving */ });
        this.server = srv;
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    client.setNoDelay(true);
    const upstream = connect({ port: this.targetPort, host: "127.0.0.1", allowHalfOpen: true });
    upstream.setNoDelay(true);
    const conn: Conn = {
      fromId: null, identified: false, dest: this.name, client, upstream,
      req: new Pipe(upstream), res: new Pipe(client), closed: false, path: "",
    };
    this.conns.add(conn);
    let head: Buffer[] = [];
    let headLen = 0;
    const destroy = () => this.destroy(conn);
    client.on("error", destroy);
    upstream.on("error", destroy);
    client.on("close", destroy);
    upstream.on("close", destroy);
    client.on("end", () => conn.req.end());
    upstream.on("end", () => conn.res.end());
    client.on("data", (chunk: Buffer) => {
      if (conn.closed) return;
      if (!conn.identified) {
        head.push(chunk);
        headLen += chunk.length;
        const all = Buffer.concat(head);
        const end = all.indexOf("\r\n\r\n");
        if (end < 0 && headLen < HEAD_LIMIT) return;
        const text = all.subarray(0, end < 0 ? all.length : end).toString("latin1");
        const m = /\r\nx-server-from:\s*([0-9a-fA-F]+)/i.exec(text);
        conn.fromId = m ? normId(m[1]!) : null;
        conn.path = text.split("\r\n")[0] ?? "";
        conn.identified = true;
        head = [];
        if (!this.net.allowed(conn)) {
          this.stats.refused++;
          this.destroy(conn);
          return;
        }
        conn.req.push(all, this.net.ruleFor(conn, "req"));
        return;
      }
      conn.req.push(chunk, this.net.ruleFor(conn, "req"));
    });
    upstream.on("data", (chunk: Buffer) => {
      if (conn.closed) return;
      conn.res.push(chunk, this.net.ruleFor(conn, "res"));
    });
  }

  destroy(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    this.stats.destroyed++;
    conn.req.close();
    conn.res.close();
    conn.client.destroy();
    conn.upstream.destroy();
    this.conns.delete(conn);
  }

  close(): Promise<void> {
    for (const c of [...this.conns]) this.destroy(c);
    return new Promise((resolve) => {
      if (this.server === null) return resolve();
      this.server.close(() => resolve());
      this.server = null;
    });
  }
}

function normId(id: string): string {
  return id.toLowerCase().replace(/^0+(?=.)/, "");
}

/** The proxies of a whole cluster and the fault rules between its members. */
export class PeerNet {
  private readonly proxies = new Map<string, MemberProxy>();
  private readonly names: string[];
  private readonly clientPorts: number[];
  private idToName = new Map<string, string>();
  /** Rules keyed "from>to". */
  private rules = new Map<string, LinkRule>();
  /** What was done, with times (for the test log). */
  readonly log: string[] = [];
  private readonly t0 = Date.now();

  private constructor(names: string[], clientPorts: number[]) {
    this.names = names;
    this.clientPorts = clientPorts;
  }

  /**
   * Allocate ports and start one proxy per member name (members m1, m2, ... by default, matching
   * Cluster's names). Pass ports() to Cluster.start.
   */
  static async start(names: string[]): Promise<PeerNet> {
    const ports = await freePorts(names.length * 3);
    const net = new PeerNet(names, names.map((_, i) => ports[3 * i]!));
    try {
      for (let i = 0; i < names.length; i++) {
        const p = new MemberProxy(net, names[i]!, ports[3 * i + 1]!, ports[3 * i + 2]!);
        await p.start();
        net.proxies.set(names[i]!, p);
      }
    } catch (err) {
      await net.close();
      throw err;
    }
    return net;
  }

  /** ClusterOptions.ports: members advertise the proxy port and listen behind it. */
  ports(): Array<{ client: number; peer: number; listenPeer: number }> {
    return this.names.map((n, i) => {
      const p = this.proxies.get(n)!;
      return { client: this.clientPorts[i]!, peer: p.listenPort, listenPeer: p.targetPort };
    });
  }

  /** Member ids (hex) by name, to recognise senders. */
  setIds(ids: Record<string, string | null>): void {
    this.idToName = new Map();
    for (const [name, id] of Object.entries(ids)) if (id) this.idToName.set(normId(id), name);
  }

  private note(s: string): void {
    this.log.push(`${((Date.now() - this.t0) / 1000).toFixed(1)}s ${s}`);
  }

  rule(from: string, to: string): LinkRule {
    return this.rules.get(`${from}>${to}`) ?? PASS;
  }

  private setRule(from: string, to: string, r: Partial<LinkRule>): void {
    const cur = this.rule(from, to);
    const next = { ...cur, ...r };
    if (!next.drop && !next.cut && next.delayMs === 0) this.rules.delete(`${from}>${to}`);
    else this.rules.set(`${from}>${to}`, next);
  }

  private touches(name: string): boolean {
    for (const k of this.rules.keys()) {
      const [a, b] = k.split(">");
      if (a === name || b === name) return true;
    }
    return false;
  }

  senderOf(conn: Conn): string | null {
    return conn.fromId === null ? null : this.idToName.get(conn.fromId) ?? null;
  }

  /** Whether a connection may live under the current rules. */
  allowed(conn: Conn): boolean {
    const from = this.senderOf(conn);
    if (from === null) return !this.touches(conn.dest);
    return !this.rule(from, conn.dest).cut && !this.rule(conn.dest, from).cut;
  }

  /** The rule for one direction of a connection ("req": sender → dest, "res": dest → sender). */
  ruleFor(conn: Conn, dir: "req" | "res"): LinkRule {
    const from = this.senderOf(conn);
    if (from === null) return PASS; // unknown connections only exist while nothing touches dest
    return dir === "req" ? this.rule(from, conn.dest) : this.rule(conn.dest, from);
  }

  /** Apply the rules to live connections: close the ones not allowed, and the ones that lost bytes in a direction that now passes. */
  private enforce(): void {
    for (const p of this.proxies.values()) {
      for (const c of [...p.conns]) {
        if (!c.identified) continue;
        if (!this.allowed(c)) { p.destroy(c); continue; }
        const lostReq = c.req.dropped > 0 && !this.ruleFor(c, "req").drop;
        const lostRes = c.res.dropped > 0 && !this.ruleFor(c, "res").drop;
        if (lostReq || lostRes) p.destroy(c);
      }
    }
  }

  /** Cut both directions between a and b. */
  cut(a: string, b: string): void {
    this.setRule(a, b, { cut: true });
    this.setRule(b, a, { cut: true });
    this.note(`cut ${a} <-> ${b}`);
    this.enforce();
  }

  /** Drop everything from → to (one way). */
  drop(from: string, to: string): void {
    this.setRule(from, to, { drop: true });
    this.note(`drop ${from} -> ${to}`);
    this.enforce();
  }

  /** Delay from → to by ms (0 removes the delay). */
  delay(from: string, to: string, ms: number): void {
    this.setRule(from, to, { delayMs: ms });
    this.note(`delay ${from} -> ${to} ${ms} ms`);
    this.enforce();
  }

  /** Cut every link of one member. */
  isolate(name: string): void {
    for (const o of this.names) if (o !== name) this.cut(name, o);
  }

  /** Cut every link between the groups (members in no group keep all their links). */
  partition(...groups: string[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i]!) for (const b of groups[j]!) this.cut(a, b);
      }
    }
  }

  /** Restore every link. */
  heal(): void {
    this.rules.clear();
    this.note("heal");
    this.enforce();
  }

  /** Per proxy: connections accepted / refused / destroyed, and the live ones by sender. */
  describe(): string {
    const parts: string[] = [];
    for (const p of this.proxies.values()) {
      const live = [...p.conns].map((c) => `${this.senderOf(c) ?? (c.fromId ? c.fromId : "?")}:${c.path.split(" ").slice(0, 2).join(" ")}`);
      parts.push(`${p.name}: ${p.stats.connections} accepted, ${p.stats.refused} refused, ${p.stats.destroyed} closed; live [${live.join(", ")}]`);
    }
    return parts.join("\n");
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }
}
