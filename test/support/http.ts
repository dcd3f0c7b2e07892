// Small HTTP client helpers for tests that talk to a member over its client port:
// buffered requests through fetch, exact-path requests through node:http (fetch
// normalises "/./" and "/../" and refuses a GET body), and streaming watches.
import { request as httpRequest } from "node:http";

/** A buffered response. Header names are matched case-insensitively. */
export class Res {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, status: number, headers: Headers, text: string) {
    this.method = method;
    this.url = url;
    this.status = status;
    this.headers = headers;
    this.text = text;
  }

  header(name: string): string | null {
    return this.headers.get(name);
  }

  /** X-Etcd-Index as a number (throws if missing or not a number). */
  get etcdIndex(): number {
    const v = this.headers.get("x-etcd-index");
    if (v === null || !/^\d+$/.test(v)) throw new Error(`${this.describe()}: X-Etcd-Index is ${JSON.stringify(v)}\n${this.text}`);
    return Number(v);
  }

  json(): any {
    try {
      return JSON.parse(this.text);
    } catch {
      throw new Error(`${this.describe()}: body is not JSON: ${JSON.stringify(this.text.slice(0, 500))}`);
    }
  }

  describe(): string {
    return `${this.method} ${this.url} -> ${this.status}`;
  }
}

export interface ReqOptions {
  /** Query string: a raw string (without "?") or name/value pairs (encoded). */
  query?: string | Record<string, string | number | boolean> | Array<[string, string]>;
  /** A form body (application/x-www-form-urlencoded): raw string or pairs (encoded). */
  form?: string | Record<string, string | number | boolean> | Array<[string, string]>;
  /** Any other body, sent as is. */
  body?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export function encodePairs(q: Record<string, string | number | boolean> | Array<[string, string]>): string {
  const pairs: Array<[string, string]> = Array.isArray(q) ? q : Object.entries(q).map(([k, v]) => [k, String(v)]);
  return pairs.map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
}

export function withQuery(path: string, query: ReqOptions["query"]): string {
  if (query === undefined) return path;
  const qs = typeof query === "string" ? query : encodePairs(query);
  if (qs === "") return path;
  return path + (path.includes("?") ? "&" : "?") + qs;
}

/** A request through fetch (redirects are not followed). */
export async function req(base: string, method: string, path: string, opts: ReqOptions = {}): Promise<Res> {
  const url = base + withQuery(path, opts.query);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.form !== undefined) {
    body = typeof opts.form === "string" ? opts.form : encodePairs(opts.form);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    }
  } else if (opts.body !== undefined) {
    body = opts.body;
  }
  const res = await fetch(url, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
    redirect: "manual",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  return new Res(method, url, res.status, res.headers, text);
}

/**
 * A request with the exact path bytes given (no URL normalisation), through node:http.
 * Allows a body on GET.
 */
export function rawReq(base: string, method: string, rawPath: string, opts: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Res> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(opts.body));
    const r = httpRequest(
      { host: u.hostname, port: Number(u.port), method, path: rawPath, headers, timeout: opts.timeoutMs ?? 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v === undefined) continue;
            h.set(k, Array.isArray(v) ? v.join(", ") : v);
          }
          resolve(new Res(method, base + rawPath, res.statusCode ?? 0, h, Buffer.concat(chunks).toString("utf8")));
        });
        res.on("error", reject);
      },
    );
    r.on("timeout", () => r.destroy(new Error(`${method} ${rawPath}: timed out`)));
    r.on("error", reject);
    if (opts.body !== undefined) r.write(opts.body);
    r.end();
  });
}

/**
 * A watch (GET with wait=true): the headers come first, then events one per line.
 * Always close() it (it aborts the connection).
 */
export class Watch {
  readonly url: string;
  private readonly ac = new AbortController();
  private readonly resP: Promise<Response>;
  private buf = "";
  private lines: string[] = [];
  private ended = false;
  private endError: unknown = null;
  private waiters: Array<() => void> = [];
  private reading = false;
  private closed = false;

  constructor(base: string, path: string, query: ReqOptions["query"]) {
    this.url = base + withQuery(path, query);
    this.resP = fetch(this.url, { signal: this.ac.signal, redirect: "manual" });
    // Avoid an unhandled rejection when the watch is closed before anyone awaits it.
    this.resP.catch(() => {});
  }

  /** Wait for the status line and headers (not for any event). */
  async response(timeoutMs = 5000): Promise<Response> {
    const res = await withTimeout(this.resP, timeoutMs, `watch ${this.url}: no response headers within ${timeoutMs} ms`);
    this.startReading(res);
    return res;
  }

  private startReading(res: Response): void {
    if (this.reading) return;
    this.reading = true;
    const body = res.body;
    if (body === null) {
      this.ended = true;
      return;
    }
    const reader = body.getReader();
    const dec = new TextDecoder();
    const pump = async (): Promise<void> => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.buf += dec.decode(value, { stream: true });
          let i: number;
          while ((i = this.buf.indexOf("\n")) >= 0) {
            this.lines.push(this.buf.slice(0, i + 1));
            this.buf = this.buf.slice(i + 1);
          }
          this.wake();
        }
      } catch (err) {
        if (!this.closed) this.endError = err;
      }
      this.ended = true;
      this.wake();
    };
    void pump();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next event line, including its trailing "\n". */
  async next(timeoutMs = 5000): Promise<string> {
    await this.response(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) {
        if (this.buf !== "") {
          const rest = this.buf;
          this.buf = "";
          return rest;
        }
        throw new Error(`watch ${this.url}: the response ended without another event${this.endError ? ` (${String(this.endError)})` : ""}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`watch ${this.url}: no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.lines.shift()!;
  }

  /** Assert that no event (and no partial data) arrives within ms. */
  async expectQuiet(ms: number): Promise<void> {
    await this.response(ms + 5000);
    await new Promise((r) => setTimeout(r, ms));
    if (this.lines.length > 0 || this.buf !== "") {
      throw new Error(`watch ${this.url}: expected no event within ${ms} ms, got ${JSON.stringify(this.lines.join("") + this.buf)}`);
    }
  }

  /** True once the server has ended the response. */
  get done(): boolean {
    return this.ended;
  }

  /** Wait until the server ends the response (after the last event). */
  async waitEnd(timeoutMs = 3000): Promise<void> {
    await this.response(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`watch ${this.url}: the response did not end within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.closed = true;
    this.ac.abort();
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
