// Small helpers of the peer transport: a bounded FIFO, a log limiter, id comparison, and
// reading a request/response body with a size limit.
import type { Logger, LogLevel } from "../runtime.ts";

/** FIFO with O(1) push/shift. */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: T): void {
    this.items.push(x);
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  /** Remove and return everything, in order. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }
}

/**
 * Logs a given key at most once per interval; the next line reports how many were
 * suppressed in between. Keys are few (kind of problem x peer), so the map stays small.
 */
export class LogLimiter {
  private last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly intervalMs: number,
  ) {}

  emit(level: LogLevel, key: string, msg: string, fields: Record<string, unknown> = {}): void {
    const t = this.now();
    const s = this.last.get(key);
    if (s && t - s.at < this.intervalMs) {
      s.suppressed++;
      return;
    }
    const suppressed = s?.suppressed ?? 0;
    this.last.set(key, { at: t, suppressed: 0 });
    if (this.last.size > 1024) {
      // Bounded: forget the oldest keys (only reachable with many distinct hostile ids).
      for (const k of this.last.keys()) {
        this.last.delete(k);
        if (this.last.size <= 512) break;
      }
    }
    this.log[level](msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}

/** Canonical form of a hex member/cluster id ("00ab" and "AB" are "ab"); null if not hex. */
export function canonicalId(s: string | null | undefined): string | null {
  if (!s || !/^[0-9a-fA-F]{1,16}$/.test(s)) return null;
  const t = s.toLowerCase().replace(/^0+(?=.)/, "");
  return t;
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body exceeds the limit of ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Reads a whole body, refusing (and cancelling) past `limit` bytes. With `signal`, an abort
 * cancels the read and rejects with the signal's reason: fetch() ties a response body to the
 * request's signal, but Node's fetch can leave a read pending forever when the abort lands
 * after the body has arrived in full and before it has been read to the end.
 */
export async function readBody(body: ReadableStream<Uint8Array> | null, limit: number, declaredLength?: string | null, signal?: AbortSignal): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  if (declaredLength) {
    const n = Number(declaredLength);
    if (Number.isFinite(n) && n > limit) {
      void body.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
  }
  const reader = body.getReader();
  const stopReading = signal ? cancelOnAbort(reader, signal) : undefined;
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) throw abortReason(signal);
      if (done) break;
      total += value.length;
      if (total > limit) {
        void reader.cancel().catch(() => {});
        throw new BodyTooLargeError(limit);
      }
      parts.push(value);
    }
  } finally {
    stopReading?.();
    reader.releaseLock();
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Cancels `reader` when `signal` aborts (at once if it already has), which settles a pending
 * read() whatever the body's source does. Returns the function that removes the listener.
 */
export function cancelOnAbort(reader: ReadableStreamDefaultReader<Uint8Array>, signal: AbortSignal): () => void {
  const cancel = (): void => void reader.cancel(signal.reason).catch(() => {});
  if (signal.aborted) {
    cancel();
    return () => {};
  }
  signal.addEventListener("abort", cancel, { once: true });
  return () => signal.removeEventListener("abort", cancel);
}

/**
 * `p`, or a rejection with the signal's reason as soon as `signal` aborts, whichever comes
 * first (an aborted fetch() is expected to reject by itself; this does not rely on it). A
 * value `p` yields after the abort goes to `discard`.
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal, discard: (late: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      reject(abortReason(signal));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        if (settled) {
          discard(v);
          return;
        }
        settled = true;
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        if (settled) return;
        settled = true;
        reject(e);
      },
    );
  });
}

/** The error an aborted signal stands for. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error("aborted");
}

/** Drop a response nobody will read (without waiting for the cancel to complete). */
export function discardResponse(res: Response): void {
  void res.body?.cancel().catch(() => {});
}
