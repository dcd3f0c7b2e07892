// Peer transport: Raft messages between members, msgpack over HTTP on the peer URLs.
//
//   GET  /raft/stream/<dialer id>  long-lived: the dialer RECEIVES the answering member's
//                                  messages as length-prefixed frames (framing.ts) in the body
//   POST /raft                     a msgpack array of messages (used while no stream is up,
//                                  and for messages over streamMessageMaxBytes); 204
//   POST /raft/snapshot            one msgpack MsgSnap with its snapshot data; 204 once handed
//                                  to the member
//   GET  /raft/probing             200 "OK" (reachability)
//
// Every request carries X-Etcd-Cluster-ID, X-Server-From, X-Server-Version and X-Raft-To;
// the handler refuses another cluster (412 "cluster ID mismatch"), a removed member (410),
// a request meant for another member (412 "raft to mismatch"), and a malformed or oversized
// body (400). core/transport/README.md has the whole picture.
import type { Message } from "../raft/types.ts";
import type { Runtime } from "../runtime.ts";
import { decodeBatch, decodeMessage, MalformedMessageError } from "./codec.ts";
import { Peer } from "./peer.ts";
import { errText } from "./reader.ts";
import type { Shared } from "./shared.ts";
import {
  CONTENT_TYPE_STREAM,
  DEFAULT_TUNING,
  HEADER,
  MIN_CLUSTER_VERSION,
  PATH,
  SERVER_VERSION,
  type TransportOptions,
  type TransportTuning,
} from "./types.ts";
import { BodyTooLargeError, canonicalId, LogLimiter, readBody } from "./util.ts";

export type { TransportOptions, TransportTuning } from "./types.ts";

export class Transport {
  private readonly rt: Runtime;
  private readonly memberId: string;
  private readonly clusterId: string;
  private readonly tuning: TransportTuning;
  private readonly logs: LogLimiter;
  private readonly sh: Shared;
  private readonly peers = new Map<string, Peer>();
  /** Members known only from their requests (not yet in this member's membership): POST only. */
  private readonly remotes = new Map<string, Peer>();
  /** Peers removed and still closing: stop() waits for them too. */
  private readonly closing = new Set<Promise<void>>();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private removedSelfReported = false;
  private inboundPipeline = 0;
  private inboundSnapshot = 0;

  constructor(private readonly opts: TransportOptions) {
    this.rt = opts.rt;
    const mid = canonicalId(opts.memberId);
    const cid = canonicalId(opts.clusterId);
    if (mid === null) throw new Error(`transport: bad member id ${JSON.stringify(opts.memberId)}`);
    if (cid === null) throw new Error(`transport: bad cluster id ${JSON.stringify(opts.clusterId)}`);
    this.memberId = mid;
    this.clusterId = cid;
    this.tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    this.logs = new LogLimiter(this.rt.log, () => this.rt.monotonic(), this.tuning.logIntervalMs);
    const self = this;
    const headers = {
      [HEADER.clusterId]: this.clusterId,
      [HEADER.from]: this.memberId,
      [HEADER.version]: SERVER_VERSION,
      [HEADER.minClusterVersion]: MIN_CLUSTER_VERSION,
      ...(opts.peerURLs && opts.peerURLs.length > 0 ? { [HEADER.peerURLs]: opts.peerURLs.join(",") } : {}),
    };
    this.sh = {
      rt: this.rt,
      memberId: this.memberId,
      clusterId: this.clusterId,
      tuning: this.tuning,
      logs: this.logs,
      isStopped: () => self.stopped,
      requestHeaders: (to) => ({ ...headers, [HEADER.to]: to }),
      isRemoved: (id) => self.removedId(id),
      deliver: (m) => self.deliver(m),
      sent: (id, ok, count = 1) => {
        const f = opts.onSent;
        if (f) self.later(() => { for (let i = 0; i < count; i++) f(id, ok); });
      },
      unreachable: (id) => {
        const f = opts.onUnreachable;
        if (f) self.later(() => f(id));
      },
      snapshotStatus: (id, ok) => {
        const f = opts.onSnapshotStatus;
        if (f) self.later(() => f(id, ok));
      },
      removedSelf: (by) => {
        if (self.removedSelfReported) return;
        self.removedSelfReported = true;
        const f = opts.onRemovedSelf;
        if (f) self.later(() => f(by));
      },
    };
  }

  // ---- peers

  addPeer(id: string, peerURLs: string[]): void {
    const pid = canonicalId(id);
    if (pid === null || this.stopped) return;
    if (pid === this.memberId) return; // never dial ourselves
    const existing = this.peers.get(pid);
    if (existing) {
      this.updatePeer(pid, peerURLs);
      return;
    }
    this.dropRemote(pid);
    this.peers.set(pid, new Peer(this.sh, pid, peerURLs));
    this.rt.log.info("rafthttp: added peer", { peer: pid, urls: peerURLs.join(",") });
  }

  updatePeer(id: string, peerURLs: string[]): void {
    const pid = canonicalId(id);
    const p = pid === null ? undefined : this.peers.get(pid);
    if (!p) return;
    p.setURLs(peerURLs);
    p.urlsChanged();
    this.rt.log.info("rafthttp: updated peer", { peer: pid, urls: peerURLs.join(",") });
  }

  removePeer(id: string): void {
    const pid = canonicalId(id);
    if (pid !== null) this.dropRemote(pid);
    const p = pid === null ? undefined : this.peers.get(pid);
    if (!p) return;
    this.peers.delete(p.id);
    const closed = p.close("removed").finally(() => this.closing.delete(closed));
    this.closing.add(closed);
    this.rt.log.info("rafthttp: removed peer", { peer: p.id });
  }

  /** Whether a stream to or from this peer is up. */
  isActive(id: string): boolean {
    const pid = canonicalId(id);
    return pid !== null && (this.peers.get(pid)?.active ?? false);
  }

  /** rt.monotonic() when the peer last became active; 0 when inactive or unknown. */
  activeSince(id: string): number {
    const pid = canonicalId(id);
    return (pid !== null && this.peers.get(pid)?.activeSince) || 0;
  }

  /** Which streams are up with this peer (undefined when unknown). */
  streamState(id: string): { reading: boolean; writing: boolean } | undefined {
    const pid = canonicalId(id);
    return pid === null ? undefined : this.peers.get(pid)?.streamState;
  }

  // ---- sending

  /** Queue messages for their peers; never blocks, never throws. */
  send(msgs: Message[]): void {
    if (this.stopped) return;
    const touched = new Set<Peer>();
    for (const m of msgs) {
      try {
        const pid = canonicalId(m.to);
        const p = pid === null ? undefined : (this.peers.get(pid) ?? this.remotes.get(pid));
        if (!p) {
          if (pid !== this.memberId) {
            this.logs.emit("debug", `unknown:${m.to}`, "rafthttp: dropped a message to an unknown peer", { to: m.to, type: m.type });
          }
          continue;
        }
        p.send(m);
        touched.add(p);
      } catch (e) {
        this.logs.emit("error", "send", "rafthttp: send failed", { to: m?.to, error: errText(e) });
      }
    }
    for (const p of touched) {
      try {
        p.kickPipeline();
      } catch (e) {
        this.logs.emit("error", "send", "rafthttp: send failed", { to: p.id, error: errText(e) });
      }
    }
  }

  // ---- receiving

  /** The peer routes: a Response for paths under /raft, else null. */
  handle(req: Request): Promise<Response> | null {
    let path: string;
    try {
      path = new URL(req.url).pathname;
    } catch {
      return null;
    }
    if (path !== PATH.prefix && !path.startsWith(PATH.prefix + "/")) return null;
    return this.route(req, path).catch((e) => {
      this.rt.log.error("rafthttp: peer request failed", { path, error: errText(e) });
      return text(500, "internal server error");
    });
  }

  private async route(req: Request, path: string): Promise<Response> {
    const method = req.method.toUpperCase();
    if (path === PATH.probing) {
      if (method !== "GET" && method !== "HEAD") return notAllowed("GET");
      return text(200, "OK");
    }
    let kind: "pipeline" | "snapshot" | "stream";
    let streamId: string | null = null;
    if (path === PATH.pipeline) kind = "pipeline";
    else if (path === PATH.snapshot) kind = "snapshot";
    else if (path.startsWith(PATH.stream) && !path.slice(PATH.stream.length).includes("/")) {
      kind = "stream";
      streamId = canonicalId(path.slice(PATH.stream.length));
      if (streamId === null) return text(400, "invalid stream path: member id expected");
    } else {
      return text(404, "404 page not found");
    }
    const want = kind === "stream" ? "GET" : "POST";
    if (method !== want) {
      await req.body?.cancel().catch(() => {});
      return notAllowed(want);
    }
    if (this.stopped) {
      await req.body?.cancel().catch(() => {});
      return text(503, "raft transport stopped");
    }
    const from = this.checkIdentity(req, path);
    if (from instanceof Response) {
      await req.body?.cancel().catch(() => {});
      return from;
    }
    if (kind === "stream") {
      if (streamId !== from) return text(400, "stream member id does not match X-Server-From");
      const p = this.peers.get(from);
      if (!p) {
        this.learnRemote(req, from);
        this.logs.emit("info", `sender404:${from}`, "rafthttp: refused a stream from an unknown member", { from });
        return text(404, "error sender not found");
      }
      const w = p.attachWriter(req.signal);
      return new Response(w.body, {
        status: 200,
        headers: {
          "Content-Type": CONTENT_TYPE_STREAM,
          "Cache-Control": "no-cache",
          [HEADER.clusterId]: this.clusterId,
          [HEADER.from]: this.memberId,
          [HEADER.version]: SERVER_VERSION,
        },
      });
    }
    if (!this.peers.has(from)) this.learnRemote(req, from);
    return kind === "pipeline" ? this.receivePipeline(req, from) : this.receiveSnapshot(req, from);
  }

  /**
   * A request from a member not in this one's membership (it joined after what this member
   * has applied, e.g. the new leader of a cluster this member fell behind): keep its URLs
   * (X-PeerURLs) so that answers can reach it, else this member could never catch up.
   */
  private learnRemote(req: Request, from: string): void {
    if (this.remotes.has(from) || this.removedId(from)) return;
    const raw = req.headers.get(HEADER.peerURLs);
    if (raw === null) return;
    const urls = raw.split(",").map((u) => u.trim()).filter((u) => /^https?:\/\/[^\s/]+/.test(u));
    if (urls.length === 0) return;
    this.remotes.set(from, new Peer(this.sh, from, urls, true));
    this.rt.log.info("rafthttp: added remote peer", { peer: from, urls: urls.join(",") });
  }

  private dropRemote(pid: string): void {
    const r = this.remotes.get(pid);
    if (!r) return;
    this.remotes.delete(pid);
    const closed = r.close("removed").finally(() => this.closing.delete(closed));
    this.closing.add(closed);
  }

  /** The sender's id if the request may proceed, else the refusal. */
  private checkIdentity(req: Request, path: string): string | Response {
    const h = req.headers;
    const rawFrom = h.get(HEADER.from);
    const cid = canonicalId(h.get(HEADER.clusterId));
    if (cid !== this.clusterId) {
      this.logs.emit("warn", `cid:${rawFrom}`, "rafthttp: request sent was ignored (cluster ID mismatch)", {
        path, remoteCluster: h.get(HEADER.clusterId) ?? "", localCluster: this.clusterId, from: rawFrom ?? "",
      });
      return text(412, "cluster ID mismatch");
    }
    const from = canonicalId(rawFrom);
    if (from === null) {
      this.logs.emit("warn", "nofrom", "rafthttp: request without a valid X-Server-From", { path, from: rawFrom ?? "" });
      return text(400, "invalid X-Server-From header");
    }
    if (this.removedId(from)) {
      this.logs.emit("warn", `removed:${from}`, "rafthttp: refused a request from a removed member", { path, from });
      return text(410, "removed member");
    }
    const to = canonicalId(h.get(HEADER.to));
    if (to !== this.memberId) {
      this.logs.emit("warn", `to:${from}`, "rafthttp: request sent was ignored (raft to mismatch)", {
        path, from, to: h.get(HEADER.to) ?? "", local: this.memberId,
      });
      return text(412, "raft to mismatch");
    }
    return from;
  }

  private async receivePipeline(req: Request, from: string): Promise<Response> {
    if (this.inboundPipeline >= this.tuning.inboundPipelineRequests) {
      await req.body?.cancel().catch(() => {});
      return text(503, "too many raft requests in progress");
    }
    this.inboundPipeline++;
    let msgs: Message[];
    try {
      const body = await readBody(req.body, this.tuning.maxMessageBytes, req.headers.get("content-length"));
      msgs = decodeBatch(body);
    } catch (e) {
      return this.badBody(e, from, "pipeline");
    } finally {
      this.inboundPipeline--;
    }
    for (const m of msgs) this.accept(m, from);
    return new Response(null, { status: 204 });
  }

  private async receiveSnapshot(req: Request, from: string): Promise<Response> {
    if (this.inboundSnapshot >= this.tuning.inboundSnapshotRequests) {
      await req.body?.cancel().catch(() => {});
      return text(503, "too many snapshot requests in progress");
    }
    this.inboundSnapshot++;
    let m: Message;
    try {
      const body = await readBody(req.body, this.tuning.maxSnapshotBytes, req.headers.get("content-length"));
      m = decodeMessage(body);
    } catch (e) {
      return this.badBody(e, from, "snapshot");
    } finally {
      this.inboundSnapshot--;
    }
    if (m.type !== "MsgSnap" || !m.snapshot) {
      this.logs.emit("warn", `notsnap:${from}`, "rafthttp: snapshot request without a snapshot message", { from, type: m.type });
      return text(400, "unexpected raft message type on snapshot path");
    }
    this.rt.log.info("rafthttp: received database snapshot", { from, index: m.snapshot.metadata.index, bytes: m.snapshot.data.length });
    if (!this.accept(m, from)) return text(400, "snapshot message does not match its sender or recipient");
    return new Response(null, { status: 204 });
  }

  private badBody(e: unknown, from: string, what: string): Response {
    if (e instanceof BodyTooLargeError || e instanceof MalformedMessageError) {
      this.logs.emit("warn", `bad${what}:${from}`, `rafthttp: refused a ${what} request`, { from, error: e.message });
      return text(400, e instanceof BodyTooLargeError ? `raft message too large: ${e.message}` : `error decoding raft message: ${e.message}`);
    }
    // The body could not be read (the sender went away).
    this.logs.emit("warn", `read${what}:${from}`, `rafthttp: failed to read a ${what} request`, { from, error: errText(e) });
    return text(400, "error reading raft message");
  }

  /** Hand one message from `from` to the member, unless it claims another sender or recipient. */
  private accept(m: Message, from: string): boolean {
    if (this.stopped) return false;
    if (canonicalId(m.from) !== from || canonicalId(m.to) !== this.memberId) {
      this.logs.emit("warn", `fromto:${from}`, "rafthttp: dropped a message with a wrong sender or recipient", {
        from, msgFrom: m.from, msgTo: m.to, type: m.type,
      });
      return false;
    }
    this.deliver(m);
    return true;
  }

  private deliver(m: Message): void {
    if (this.stopped) return;
    try {
      this.opts.receive(m);
    } catch (e) {
      this.logs.emit("error", "receive", "rafthttp: the member failed to process a raft message", { from: m.from, type: m.type, error: errText(e) });
    }
  }

  private removedId(id: string): boolean {
    try {
      return this.opts.isRemoved(id);
    } catch {
      return false;
    }
  }

  /** Run a member callback outside the current call stack; errors are logged. */
  private later(fn: () => void): void {
    queueMicrotask(() => {
      if (this.stopped) return;
      try {
        fn();
      } catch (e) {
        this.logs.emit("error", "callback", "rafthttp: a transport callback failed", { error: errText(e) });
      }
    });
  }

  // ---- shutdown

  /** Close every stream and request; resolves when all have ended (no timers left). */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = true;
    const peers = [...this.peers.values(), ...this.remotes.values()];
    this.peers.clear();
    this.remotes.clear();
    this.stopping = Promise.allSettled([...peers.map((p) => p.close("stopped")), ...this.closing]).then(() => undefined);
    return this.stopping;
  }
}

function text(status: number, body: string): Response {
  return new Response(body + "\n", { status, headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" } });
}

function notAllowed(allow: string): Response {
  return new Response("Method Not Allowed\n", { status: 405, headers: { Allow: allow, "Content-Type": "text/plain; charset=utf-8" } });
}
