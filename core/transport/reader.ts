// The receiving end of a peer stream: dials GET <peerURL>/raft/stream/<own id>, reads frames
// from the response body and hands each message to the member, in order. Silence longer than
// deadMs (the writer sends a keepalive every keepaliveMs) counts as a dead connection. Redials
// with a doubling backoff while the peer is known; a failed dial moves to the peer's next URL.
//
// stop(), restart() and the dead-stream watchdog end a connection by aborting it, and do not
// count on fetch() to end every pending step: the dial is raced against the abort, and the
// abort cancels our own reader of the body, which settles a pending read() on any runtime.
// Node's fetch needs both: an abort landing after the peer ended the body but before the
// reader saw the end (the peer's last message made the member stop) left the next read()
// pending forever; and once the Request was garbage collected, its signal no longer reached
// the fetch at all, so the Request is also held while its connection lives.
import { decodeMessage } from "./codec.ts";
import { FrameDecoder, FrameTooLargeError } from "./framing.ts";
import type { Shared } from "./shared.ts";
import { CONTENT_TYPE_STREAM, HEADER, PATH } from "./types.ts";
import { abortReason, canonicalId, cancelOnAbort, discardResponse, readBody, untilAborted } from "./util.ts";

export interface ReaderHooks {
  /** The URL to dial now (undefined: the peer has none). */
  pickURL(): string | undefined;
  /** A dial to this URL failed: try the next one. */
  urlFailed(url: string): void;
  /** The stream came up or went down. */
  activeChanged(): void;
}

export class StreamReader {
  private stoppedFlag = false;
  private activeFlag = false;
  private ac: AbortController | undefined;
  /** Held (never read) while its connection lives: see the note at the top. */
  private request: Request | undefined;
  /** Set by restart(): the current connection was cut on purpose, redial at once. */
  private restarting = false;
  private sleeping: { cancel: () => void; resolve: () => void } | undefined;
  private loop: Promise<void> | undefined;
  private currentURL: string | undefined;

  constructor(
    private readonly sh: Shared,
    readonly peerId: string,
    private readonly hooks: ReaderHooks,
  ) {}

  get active(): boolean {
    return this.activeFlag;
  }

  /** The URL of the connection being made or held. */
  get url(): string | undefined {
    return this.currentURL;
  }

  start(): void {
    this.loop ??= this.run().catch((e) => {
      this.sh.rt.log.error("rafthttp: stream reader failed", { peer: this.peerId, error: e instanceof Error ? e.message : String(e) });
    });
  }

  /** Drop the current connection (if any) and redial now, e.g. after the peer's URLs changed. */
  restart(): void {
    if (this.stoppedFlag) return;
    this.restarting = true;
    this.ac?.abort();
    this.wakeUp();
  }

  /** Stop for good; resolves when the loop has ended. */
  stop(): Promise<void> {
    this.stoppedFlag = true;
    this.ac?.abort();
    this.wakeUp();
    return this.loop ?? Promise.resolve();
  }

  private wakeUp(): void {
    const s = this.sleeping;
    this.sleeping = undefined;
    if (s) {
      s.cancel();
      s.resolve();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.sh.rt.setTimer(ms, () => {
        this.sleeping = undefined;
        resolve();
      });
      this.sleeping = { cancel, resolve };
    });
  }

  private async run(): Promise<void> {
    const t = this.sh.tuning;
    let backoff = t.backoffMinMs;
    while (!this.stoppedFlag) {
      this.restarting = false;
      const url = this.hooks.pickURL();
      let connected = false;
      if (url !== undefined) {
        this.currentURL = url;
        connected = await this.connectOnce(url);
        this.currentURL = undefined;
      }
      if (this.stoppedFlag) break;
      if (this.restarting) {
        backoff = t.backoffMinMs;
        continue;
      }
      if (connected) {
        backoff = t.backoffMinMs;
      } else if (url !== undefined) {
        this.hooks.urlFailed(url);
      }
      // A little jitter so that members restarted together do not redial in lockstep.
      await this.sleep(backoff * (0.8 + 0.4 * this.sh.rt.random()));
      backoff = Math.min(backoff * 2, t.backoffMaxMs);
    }
  }

  /** One connection: true if the stream came up (whatever ended it later). */
  private async connectOnce(url: string): Promise<boolean> {
    const sh = this.sh;
    const t = sh.tuning;
    const ac = new AbortController();
    this.ac = ac;
    let lastData = sh.rt.monotonic();
    let timedOut = false;
    let cancelWatchdog: (() => void) | undefined;
    const watch = (ms: number): void => {
      cancelWatchdog = sh.rt.setTimer(ms, () => {
        const quiet = sh.rt.monotonic() - lastData;
        if (quiet >= t.deadMs) {
          cancelWatchdog = undefined;
          timedOut = true;
          ac.abort();
        } else {
          watch(t.deadMs - quiet);
        }
      });
    };
    watch(t.deadMs);
    let up = false;
    try {
      const req = new Request(`${url}${PATH.stream}${sh.memberId}`, {
        method: "GET",
        headers: { ...sh.requestHeaders(this.peerId), Accept: CONTENT_TYPE_STREAM },
        signal: ac.signal,
      });
      this.request = req;
      const res = await untilAborted(sh.rt.fetch(req), ac.signal, discardResponse);
      if (res.status !== 200) {
        await this.refused(url, res, ac.signal);
        return false;
      }
      const cid = canonicalId(res.headers.get(HEADER.clusterId));
      if (cid !== null && cid !== sh.clusterId) {
        discardResponse(res);
        sh.logs.emit("error", `cid:${this.peerId}`, "rafthttp: peer stream answered from another cluster", {
          peer: this.peerId, url, remoteCluster: cid, localCluster: sh.clusterId,
        });
        return false;
      }
      if (!res.body) return false;
      if (this.stoppedFlag || this.restarting || ac.signal.aborted) {
        discardResponse(res);
        if (ac.signal.aborted) throw abortReason(ac.signal);
        return false;
      }
      up = true;
      this.setActive(true);
      sh.rt.log.info("rafthttp: established a stream from peer", { peer: this.peerId, url });
      const reader = res.body.getReader();
      const stopReading = cancelOnAbort(reader, ac.signal);
      const frames = new FrameDecoder(t.maxMessageBytes);
      try {
        for (;;) {
          const { done, value } = await reader.read();
          // Cancelled by the abort: a dead stream is an error, a stop or restart is not.
          if (ac.signal.aborted && !this.stoppedFlag && !this.restarting) throw abortReason(ac.signal);
          if (done) break;
          lastData = sh.rt.monotonic();
          for (const payload of frames.push(value)) {
            if (payload.length === 0) continue; // keepalive
            if (this.stoppedFlag || this.restarting) break;
            this.deliver(payload);
          }
          if (this.stoppedFlag || this.restarting) break;
        }
      } finally {
        stopReading();
        reader.cancel().catch(() => {});
      }
      if (!this.stoppedFlag && !this.restarting) {
        sh.logs.emit("warn", `end:${this.peerId}`, "rafthttp: peer closed the stream", { peer: this.peerId, url });
      }
      return true;
    } catch (e) {
      if (!this.stoppedFlag && !this.restarting) {
        const why = e instanceof FrameTooLargeError ? e.message : timedOut ? `no data for ${t.deadMs} ms` : errText(e);
        if (up) sh.logs.emit("warn", `lost:${this.peerId}`, "rafthttp: lost the stream from peer", { peer: this.peerId, url, error: why });
        else sh.logs.emit("warn", `dial:${this.peerId}`, "rafthttp: failed to dial the peer stream", { peer: this.peerId, url, error: why });
      }
      return up;
    } finally {
      cancelWatchdog?.();
      ac.abort();
      if (this.ac === ac) {
        this.ac = undefined;
        this.request = undefined;
      }
      if (up) {
        this.setActive(false);
        if (!this.stoppedFlag && !this.restarting) sh.unreachable(this.peerId);
      }
    }
  }

  private deliver(payload: Uint8Array): void {
    const sh = this.sh;
    let m;
    try {
      m = decodeMessage(payload);
    } catch (e) {
      sh.logs.emit("warn", `bad:${this.peerId}`, "rafthttp: dropped a malformed message from the peer stream", { peer: this.peerId, error: errText(e) });
      return;
    }
    if (canonicalId(m.from) !== this.peerId || canonicalId(m.to) !== sh.memberId) {
      sh.logs.emit("warn", `fromto:${this.peerId}`, "rafthttp: dropped a message with a wrong sender or recipient", {
        peer: this.peerId, from: m.from, to: m.to, type: m.type,
      });
      return;
    }
    if (sh.isRemoved(this.peerId)) {
      sh.logs.emit("warn", `removed:${this.peerId}`, "rafthttp: dropped a message from a removed member", { peer: this.peerId, type: m.type });
      return;
    }
    sh.deliver(m);
  }

  private async refused(url: string, res: Response, signal: AbortSignal): Promise<void> {
    const sh = this.sh;
    let text = "";
    try {
      text = new TextDecoder().decode(await readBody(res.body, 4096, null, signal)).trim();
    } catch {
      discardResponse(res);
    }
    const fields = { peer: this.peerId, url, status: res.status, reason: text };
    switch (res.status) {
      case 410:
        sh.logs.emit("error", `gone:${this.peerId}`, "rafthttp: the peer says this member was removed from the cluster", fields);
        sh.removedSelf(this.peerId);
        break;
      case 412:
        sh.logs.emit("error", `412:${this.peerId}`, "rafthttp: the peer refused the stream", fields);
        break;
      case 404:
        // The peer has not applied the change that adds this member yet.
        sh.logs.emit("info", `404:${this.peerId}`, "rafthttp: the peer does not know this member (yet)", fields);
        break;
      default:
        sh.logs.emit("warn", `dialstatus:${this.peerId}`, "rafthttp: unexpected answer to the stream dial", fields);
    }
  }

  private setActive(v: boolean): void {
    if (this.activeFlag === v) return;
    this.activeFlag = v;
    this.hooks.activeChanged();
  }
}

export function errText(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}
