// One remote member as seen by the transport: its URLs (one in use, rotating on failure), the
// stream it dialed to us (writer: our messages to it), the stream we dial to it (reader: its
// messages to us), the POST /raft pipeline used while no stream is up (and for very large
// messages), and snapshot sends.
import type { Message } from "../raft/types.ts";
import { encodeBatch, encodeMessage } from "./codec.ts";
import { errText, StreamReader } from "./reader.ts";
import type { Shared } from "./shared.ts";
import { CONTENT_TYPE_MSGPACK, PATH, type Outgoing } from "./types.ts";
import { discardResponse, Fifo, readBody, untilAborted } from "./util.ts";
import { StreamWriter, type WriterCloseReason } from "./writer.ts";

export class Peer {
  private urls: string[] = [];
  private urlIndex = 0;
  private writer: StreamWriter | undefined;
  private readonly reader: StreamReader;
  private readonly pipeQueue = new Fifo<Outgoing>();
  private pipeBytes = 0;
  private readonly inflight = new Set<AbortController>();
  private readonly inflightDone = new Set<Promise<void>>();
  /** The Requests of the POSTs in flight (see request()). */
  private readonly requests = new Set<Request>();
  private snapshot: AbortController | undefined;
  private lastUnreachable = -Infinity;
  private activeSinceAt = 0;
  private removed = false;

  /**
   * `remote`: a member this one does not have in its membership yet, known only from its
   * requests (etcd's "remote"): messages to it go by POST only; no stream either way.
   */
  constructor(
    private readonly sh: Shared,
    readonly id: string,
    urls: string[],
    readonly remote = false,
  ) {
    this.setURLs(urls);
    this.reader = new StreamReader(sh, id, {
      pickURL: () => this.pickURL(),
      urlFailed: (u) => this.urlFailed(u),
      activeChanged: () => this.activeChanged(),
    });
    if (!remote) this.reader.start();
  }

  // ---- URLs

  setURLs(urls: string[]): void {
    const clean = [...new Set(urls.map((u) => u.trim().replace(/\/+$/, "")).filter((u) => u !== ""))];
    const current = this.urls[this.urlIndex];
    this.urls = clean;
    const keep = current === undefined ? -1 : clean.indexOf(current);
    this.urlIndex = keep >= 0 ? keep : 0;
  }

  /** After setURLs: redial now, unless the stream is up on a URL that is still listed. */
  urlsChanged(): void {
    if (this.remote) return;
    const u = this.reader.url;
    if (!this.reader.active || u === undefined || !this.urls.includes(u)) this.reader.restart();
  }

  pickURL(): string | undefined {
    return this.urls[this.urlIndex];
  }

  urlFailed(url: string): void {
    if (this.urls.length > 1 && this.urls[this.urlIndex] === url) this.urlIndex = (this.urlIndex + 1) % this.urls.length;
  }

  // ---- status

  get active(): boolean {
    return this.reader.active || (this.writer !== undefined && !this.writer.closed);
  }

  /** rt.monotonic() when the peer became active (a stream either way); 0 while inactive. */
  get activeSince(): number {
    return this.activeSinceAt;
  }

  get streamState(): { reading: boolean; writing: boolean } {
    return { reading: this.reader.active, writing: this.writer !== undefined };
  }

  private activeChanged(): void {
    const now = this.active;
    if (now && this.activeSinceAt === 0) {
      this.activeSinceAt = Math.max(1, this.sh.rt.monotonic());
      this.sh.rt.log.info("rafthttp: peer became active", { peer: this.id });
    } else if (!now && this.activeSinceAt !== 0) {
      this.activeSinceAt = 0;
      if (!this.removed && !this.sh.isStopped()) this.sh.rt.log.warn("rafthttp: peer became inactive", { peer: this.id });
    }
  }

  unreachable(): void {
    const now = this.sh.rt.monotonic();
    if (now - this.lastUnreachable < this.sh.tuning.unreachableIntervalMs) return;
    this.lastUnreachable = now;
    this.sh.unreachable(this.id);
  }

  // ---- the stream the peer dialed (our messages to it)

  /** A new stream from the peer: it replaces the old one, and inherits its queue. */
  attachWriter(signal?: AbortSignal): StreamWriter {
    const w = new StreamWriter(this.sh, this.id, { closed: (x, reason, leftover) => this.writerClosed(x, reason, leftover) }, signal);
    const old = this.writer;
    this.writer = w;
    old?.close("replaced");
    this.sh.rt.log.info("rafthttp: established a stream to peer", { peer: this.id });
    this.activeChanged();
    return w;
  }

  private writerClosed(w: StreamWriter, reason: WriterCloseReason, leftover: Outgoing[]): void {
    if (this.writer === w) this.writer = undefined;
    if (reason === "removed" || reason === "stopped") return;
    if (reason !== "replaced") {
      this.sh.logs.emit("warn", `wclosed:${this.id}`, "rafthttp: lost the stream to peer", { peer: this.id, reason });
      this.unreachable();
    }
    // Messages the old stream never wrote go by the new one, or by POST.
    for (const o of leftover) this.route(o);
    this.kickPipeline();
    this.activeChanged();
  }

  // ---- sending

  /** Queue one message (never throws); kickPipeline() after a batch of these. */
  send(m: Message): void {
    if (m.type === "MsgSnap") {
      this.sendSnapshot(m);
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(m);
    } catch (e) {
      this.sh.logs.emit("error", `encode:${this.id}`, "rafthttp: cannot encode a raft message, dropped", { peer: this.id, type: m.type, error: errText(e) });
      this.sh.sent(this.id, false);
      return;
    }
    if (bytes.length > this.sh.tuning.maxMessageBytes) {
      this.sh.logs.emit("error", `huge:${this.id}`, "rafthttp: raft message exceeds the size limit, dropped", {
        peer: this.id, type: m.type, bytes: bytes.length, limit: this.sh.tuning.maxMessageBytes,
      });
      this.sh.sent(this.id, false);
      this.unreachable();
      return;
    }
    this.route({ type: m.type, bytes });
  }

  private route(o: Outgoing): void {
    const w = this.writer;
    if (w && !w.closed && o.bytes.length <= this.sh.tuning.streamMessageMaxBytes) {
      if (w.enqueue(o)) return;
      this.dropped(o, "stream");
      return;
    }
    const t = this.sh.tuning;
    if (this.pipeQueue.length >= t.queueMessages || this.pipeBytes + o.bytes.length > t.queueBytes) {
      this.dropped(o, "pipeline");
      return;
    }
    this.pipeQueue.push(o);
    this.pipeBytes += o.bytes.length;
  }

  private dropped(o: Outgoing, queue: string): void {
    this.sh.logs.emit("warn", `full:${this.id}:${queue}`, "rafthttp: dropped an internal raft message since the sending buffer is full", {
      peer: this.id, type: o.type, queue,
    });
    this.sh.sent(this.id, false);
    this.unreachable();
  }

  /** Start POSTs for queued messages, up to pipelineConcurrency at once. */
  kickPipeline(): void {
    const t = this.sh.tuning;
    while (!this.removed && this.pipeQueue.length > 0 && this.inflight.size < t.pipelineConcurrency) {
      const batch: Outgoing[] = [];
      let bytes = 0;
      while (this.pipeQueue.length > 0 && batch.length < t.pipelineBatchMessages) {
        const next = this.pipeQueue.peek()!;
        if (batch.length > 0 && bytes + next.bytes.length > t.pipelineBatchBytes) break;
        this.pipeQueue.shift();
        this.pipeBytes -= next.bytes.length;
        batch.push(next);
        bytes += next.bytes.length;
      }
      const ac = new AbortController();
      this.inflight.add(ac);
      const done = this.post(batch, ac).catch((e) => this.failed("pipeline", e)).finally(() => {
        this.inflight.delete(ac);
        this.inflightDone.delete(done);
        this.kickPipeline();
      });
      this.inflightDone.add(done);
    }
  }

  private async post(batch: Outgoing[], ac: AbortController): Promise<void> {
    const sh = this.sh;
    const url = this.pickURL();
    const body = encodeBatch(batch.map((o) => o.bytes));
    const ok = url !== undefined && (await this.request(url, PATH.pipeline, body, sh.tuning.requestTimeoutMs, ac, "pipeline"));
    if (this.removed || sh.isStopped()) return;
    sh.sent(this.id, ok, batch.length);
    if (!ok) {
      if (url !== undefined) this.urlFailed(url);
      this.unreachable();
    }
  }

  private sendSnapshot(m: Message): void {
    const sh = this.sh;
    if (this.snapshot) {
      sh.logs.emit("warn", `snapbusy:${this.id}`, "rafthttp: a snapshot send to this peer is in progress; refusing another", { peer: this.id });
      sh.snapshotStatus(this.id, false);
      return;
    }
    const ac = new AbortController();
    this.snapshot = ac;
    const done = this.doSnapshot(m, ac).catch((e) => this.failed("snapshot", e)).finally(() => {
      if (this.snapshot === ac) this.snapshot = undefined;
      this.inflightDone.delete(done);
    });
    this.inflightDone.add(done);
  }

  private async doSnapshot(m: Message, ac: AbortController): Promise<void> {
    const sh = this.sh;
    // Yield first: send() must not spend the encoding time of a large snapshot.
    await Promise.resolve();
    let body: Uint8Array | undefined;
    try {
      body = encodeMessage(m);
    } catch (e) {
      sh.logs.emit("error", `encode:${this.id}`, "rafthttp: cannot encode a snapshot message", { peer: this.id, error: errText(e) });
    }
    if (body && body.length > sh.tuning.maxSnapshotBytes) {
      sh.rt.log.error("rafthttp: snapshot exceeds the size limit, not sent", { peer: this.id, bytes: body.length, limit: sh.tuning.maxSnapshotBytes });
      body = undefined;
    }
    const url = this.pickURL();
    const index = m.snapshot?.metadata.index;
    if (body && url !== undefined) sh.rt.log.info("rafthttp: start to send database snapshot", { peer: this.id, index, bytes: body.length });
    const ok = body !== undefined && url !== undefined && (await this.request(url, PATH.snapshot, body, sh.tuning.snapshotTimeoutMs, ac, "snapshot"));
    if (this.removed || sh.isStopped()) return;
    if (ok) sh.rt.log.info("rafthttp: sent database snapshot", { peer: this.id, index });
    else sh.rt.log.warn("rafthttp: database snapshot send failed", { peer: this.id, index });
    sh.sent(this.id, ok);
    sh.snapshotStatus(this.id, ok);
    if (!ok) {
      if (url !== undefined) this.urlFailed(url);
      this.unreachable();
    }
  }

  /** One POST; true on a 2xx answer. Times out after base + size-proportional ms. */
  private async request(url: string, path: string, body: Uint8Array, baseTimeoutMs: number, ac: AbortController, what: string): Promise<boolean> {
    const sh = this.sh;
    const timeout = baseTimeoutMs + (1000 * body.length) / sh.tuning.minBytesPerSecond;
    let timedOut = false;
    const cancel = sh.rt.setTimer(timeout, () => {
      timedOut = true;
      ac.abort();
    });
    let req: Request | undefined;
    try {
      req = new Request(url + path, {
        method: "POST",
        headers: { ...sh.requestHeaders(this.id), "Content-Type": CONTENT_TYPE_MSGPACK },
        body: body as Uint8Array<ArrayBuffer>,
        signal: ac.signal,
      });
      // Held until the request is over: Node's fetch forwards a Request's signal through weak
      // references. The abort also settles the fetch and the body read by itself
      // (untilAborted, readBody's signal), whatever fetch() does with it.
      this.requests.add(req);
      const res = await untilAborted(sh.rt.fetch(req), ac.signal, discardResponse);
      let text = "";
      try {
        text = new TextDecoder().decode(await readBody(res.body, 4096, null, ac.signal)).trim();
      } catch {
        discardResponse(res);
      }
      if (res.status >= 200 && res.status < 300) return true;
      const fields = { peer: this.id, url: url + path, status: res.status, reason: text };
      if (res.status === 410) {
        sh.logs.emit("error", `gone:${this.id}`, "rafthttp: the peer says this member was removed from the cluster", fields);
        sh.removedSelf(this.id);
      } else {
        sh.logs.emit(res.status === 412 ? "error" : "warn", `${what}status:${this.id}`, `rafthttp: the peer refused a ${what} request`, fields);
      }
      return false;
    } catch (e) {
      if (!this.removed && !sh.isStopped()) {
        sh.logs.emit("warn", `${what}fail:${this.id}`, `rafthttp: failed to send a ${what} request to the peer`, {
          peer: this.id, url: url + path, error: timedOut ? `timed out after ${Math.round(timeout)} ms` : errText(e),
        });
      }
      return false;
    } finally {
      cancel();
      if (req) this.requests.delete(req);
    }
  }

  private failed(what: string, e: unknown): void {
    this.sh.rt.log.error(`rafthttp: ${what} sender failed`, { peer: this.id, error: errText(e) });
  }

  // ---- teardown

  /** Stop everything for this peer; resolves when its requests and stream loop have ended. */
  async close(reason: "removed" | "stopped"): Promise<void> {
    this.removed = true;
    const readerDone = this.reader.stop();
    this.writer?.close(reason);
    this.writer = undefined;
    for (const ac of this.inflight) ac.abort();
    this.snapshot?.abort();
    this.pipeQueue.drain();
    this.pipeBytes = 0;
    await Promise.allSettled([readerDone, ...this.inflightDone]);
  }
}
