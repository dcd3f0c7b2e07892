// The sending end of a peer stream. The peer dialed GET /raft/stream/<its id>; the response
// body is this writer's ReadableStream, into which queued messages are written as frames.
//
// Backpressure: the body stream has highWaterMark 0, so pull() runs only while the HTTP
// server waits to write more. Messages wait in a bounded queue (count and bytes) and are
// refused beyond it, so a stuck connection never grows memory. A zero-length frame is written
// after keepaliveMs of quiet; a consumer that has not read for writerStallMs is cut off.
import { encodeFrames, KEEPALIVE_FRAME } from "./framing.ts";
import type { Shared } from "./shared.ts";
import type { Outgoing } from "./types.ts";
import { Fifo } from "./util.ts";

export type WriterCloseReason = "replaced" | "gone" | "stalled" | "removed" | "stopped";

export interface WriterHooks {
  /** The stream ended; `leftover` are the queued messages it never wrote. */
  closed(w: StreamWriter, reason: WriterCloseReason, leftover: Outgoing[]): void;
}

export class StreamWriter {
  readonly body: ReadableStream<Uint8Array>;
  private readonly queue = new Fifo<Outgoing>();
  private queueBytes = 0;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Resolves the pending pull(): set while the server waits for data. */
  private wake: (() => void) | undefined;
  private cancelTimer: (() => void) | undefined;
  private lastWriteAt: number;
  private lastPullAt: number;
  private closedFlag = false;

  constructor(
    private readonly sh: Shared,
    readonly peerId: string,
    private readonly hooks: WriterHooks,
    signal?: AbortSignal,
  ) {
    const now = sh.rt.monotonic();
    this.lastWriteAt = now;
    this.lastPullAt = now;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
          // Something to write at once: some servers hold the response head until the body
          // yields its first chunk, and the dialer counts silence from the start.
          c.enqueue(KEEPALIVE_FRAME.slice());
        },
        pull: () => this.pull(),
        cancel: () => this.close("gone"),
      },
      { highWaterMark: 0 },
    );
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.close("gone"));
      else signal.addEventListener("abort", () => this.close("gone"), { once: true });
    }
    this.arm(sh.tuning.keepaliveMs);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Queue a message; false when the queue is full (the caller drops it). */
  enqueue(o: Outgoing): boolean {
    const t = this.sh.tuning;
    if (this.queue.length >= t.queueMessages || this.queueBytes + o.bytes.length > t.queueBytes) return false;
    this.queue.push(o);
    this.queueBytes += o.bytes.length;
    if (this.wake) {
      const w = this.wake;
      this.wake = undefined;
      this.flush();
      w();
    }
    return true;
  }

  /** End the stream (a clean end of the body unless the consumer is gone or stuck). */
  close(reason: WriterCloseReason): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const w = this.wake;
    this.wake = undefined;
    try {
      // Stalled: error the body so the server cuts the connection. Otherwise end it cleanly
      // (when the dialer is gone the server has usually cancelled it already).
      if (reason === "stalled") this.controller.error(new Error("peer stream stalled"));
      else this.controller.close();
    } catch {
      // Already closed or cancelled by the server.
    }
    w?.();
    const leftover = this.queue.drain();
    this.queueBytes = 0;
    this.hooks.closed(this, reason, leftover);
  }

  private pull(): Promise<void> | void {
    this.lastPullAt = this.sh.rt.monotonic();
    if (this.closedFlag) return;
    if (this.queue.length > 0) {
      this.flush();
      return;
    }
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  /** Write queued frames as one chunk (up to chunkBytes, at least one frame). */
  private flush(): void {
    const batch: Outgoing[] = [];
    let bytes = 0;
    const limit = this.sh.tuning.chunkBytes;
    while (this.queue.length > 0) {
      const next = this.queue.peek()!;
      if (batch.length > 0 && bytes + next.bytes.length + 4 > limit) break;
      this.queue.shift();
      this.queueBytes -= next.bytes.length;
      batch.push(next);
      bytes += next.bytes.length + 4;
    }
    if (batch.length === 0) return;
    try {
      this.controller.enqueue(encodeFrames(batch.map((o) => o.bytes)));
    } catch {
      // The body was cancelled under us: these messages are lost like any on a dying stream.
      this.sh.sent(this.peerId, false, batch.length);
      this.close("gone");
      return;
    }
    this.lastWriteAt = this.sh.rt.monotonic();
    this.sh.sent(this.peerId, true, batch.length);
  }

  private arm(ms: number): void {
    this.cancelTimer = this.sh.rt.setTimer(Math.max(1, ms), () => this.tick());
  }

  private tick(): void {
    this.cancelTimer = undefined;
    if (this.closedFlag) return;
    const t = this.sh.tuning;
    const now = this.sh.rt.monotonic();
    if (this.wake) {
      const idle = now - this.lastWriteAt;
      if (idle >= t.keepaliveMs) {
        const w = this.wake;
        this.wake = undefined;
        try {
          this.controller.enqueue(KEEPALIVE_FRAME.slice());
        } catch {
          this.close("gone");
          return;
        }
        this.lastWriteAt = now;
        w();
        this.arm(t.keepaliveMs);
      } else {
        this.arm(t.keepaliveMs - idle);
      }
      return;
    }
    // The server is still busy writing what it pulled last: a dead or stuck peer?
    if (now - this.lastPullAt >= t.writerStallMs) {
      this.sh.logs.emit("warn", `stall:${this.peerId}`, "rafthttp: peer stream stalled, closing it", { peer: this.peerId });
      this.close("stalled");
      return;
    }
    this.arm(Math.min(t.keepaliveMs, t.writerStallMs - (now - this.lastPullAt)));
  }
}
