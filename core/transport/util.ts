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

/** Reads a whole body, refusing (and cancelling) past `limit` bytes. */
export async function readBody(body: ReadableStream<Uint8Array> | null, limit: number, declaredLength?: string | null): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  if (declaredLength) {
    const n = Number(declaredLength);
    if (Number.isFinite(n) && n > limit) {
      await body.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
  }
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLargeError(limit);
      }
      parts.push(value);
    }
  } finally {
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
