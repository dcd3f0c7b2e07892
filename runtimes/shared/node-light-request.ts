// A light WHATWG Request over a node:http request whose body is already in hand, for the hot
// client path (/v2/keys). What the handlers read — method, url, headers.get/has, the body
// (arrayBuffer/text), signal — is answered from the IncomingMessage directly; anything else
// builds the real Request on first use and answers from it, so it still passes for one
// (its prototype is Request.prototype). @hono/node-server does the same for every other
// request; this one skips its stream plumbing for small bodies read up front.
import type { IncomingMessage, ServerResponse } from "node:http";

const REAL = Symbol("realRequest");

function httpTrim(v: string): string {
  const ws = (c: number): boolean => c === 9 || c === 10 || c === 13 || c === 32;
  if (v.length === 0 || (!ws(v.charCodeAt(0)) && !ws(v.charCodeAt(v.length - 1)))) return v;
  let a = 0;
  let b = v.length;
  while (a < b && ws(v.charCodeAt(a))) a++;
  while (b > a && ws(v.charCodeAt(b - 1))) b--;
  return v.slice(a, b);
}

const VALID_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Headers read straight from rawHeaders; anything but get/has uses a real Headers. */
class LightHeaders {
  #raw: string[];
  #real: Headers | undefined;

  constructor(raw: string[]) {
    this.#raw = raw;
  }

  #materialize(): Headers {
    if (this.#real === undefined) {
      const h = new Headers();
      for (let i = 0; i < this.#raw.length; i += 2) h.append(this.#raw[i]!, this.#raw[i + 1]!);
      this.#real = h;
    }
    return this.#real;
  }

  /** Like Headers.get: every field of that name, trimmed, joined by ", ". */
  get(name: string): string | null {
    if (this.#real !== undefined || !VALID_NAME.test(name)) return this.#materialize().get(name);
    const lower = name.toLowerCase();
    let value: string | null = null;
    const raw = this.#raw;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      if (k.length === lower.length && k.toLowerCase() === lower) {
        const v = httpTrim(raw[i + 1]!);
        value = value === null ? v : value + (lower === "cookie" ? "; " : ", ") + v;
      }
    }
    return value;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  static {
    for (const key of Reflect.ownKeys(Headers.prototype)) {
      if (key === "constructor" || key === "get" || key === "has") continue;
      const desc = Object.getOwnPropertyDescriptor(Headers.prototype, key)!;
      if (typeof desc.value !== "function") continue;
      Object.defineProperty(LightHeaders.prototype, key, {
        value(this: LightHeaders, ...args: unknown[]) {
          const real = this.#materialize();
          return (Reflect.get(real, key) as (...a: unknown[]) => unknown).apply(real, args);
        },
        configurable: true,
        writable: true,
      });
    }
    Object.setPrototypeOf(LightHeaders.prototype, Headers.prototype);
  }
}

class LightRequest {
  readonly method: string;
  readonly url: string;
  #incoming: IncomingMessage;
  #outgoing: ServerResponse;
  #body: Buffer | null;
  #bodyUsed = false;
  #headers: LightHeaders | undefined;
  #abort: AbortController | undefined;
  [REAL]: Request | undefined;

  constructor(method: string, url: string, incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer | null) {
    this.method = method;
    this.url = url;
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.#body = body;
  }

  get headers(): Headers {
    if (this[REAL] !== undefined) return this[REAL].headers;
    return (this.#headers ??= new LightHeaders(this.#incoming.rawHeaders)) as unknown as Headers;
  }

  /** Aborted when the client goes away before the response is complete. */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      const ac = new AbortController();
      this.#abort = ac;
      const out = this.#outgoing;
      const onClose = (): void => {
        if (!out.writableFinished) ac.abort(new Error("Client connection prematurely closed."));
      };
      if (out.closed) onClose();
      else out.once("close", onClose);
    }
    return this.#abort.signal;
  }

  get bodyUsed(): boolean {
    return this[REAL]?.bodyUsed ?? this.#bodyUsed;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this[REAL] !== undefined) return this[REAL].arrayBuffer();
    return this.#take().then((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }

  text(): Promise<string> {
    if (this[REAL] !== undefined) return this[REAL].text();
    return this.#take().then((b) => new TextDecoder().decode(b));
  }

  #take(): Promise<Buffer> {
    if (this.#bodyUsed) return Promise.reject(new TypeError("Body is unusable"));
    this.#bodyUsed = true;
    return Promise.resolve(this.#body ?? Buffer.alloc(0));
  }

  /** The real Request, built once (with what is left of the body). */
  materialize(): Request {
    if (this[REAL] === undefined) {
      const headers = new Headers();
      const raw = this.#incoming.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
      const init: RequestInit & { duplex?: string } = { method: this.method, headers, signal: this.signal };
      if (this.method !== "GET" && this.method !== "HEAD") {
        const b = this.#body;
        init.body = this.#bodyUsed
          ? new ReadableStream({ start: (c) => c.close() })
          : b === null ? new Uint8Array(0) : new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
        init.duplex = "half";
      }
      this[REAL] = new Request(this.url, init);
    }
    return this[REAL];
  }

  static {
    const own = new Set<PropertyKey>(["constructor", "method", "url", "headers", "signal", "bodyUsed", "arrayBuffer", "text"]);
    for (const key of Reflect.ownKeys(Request.prototype)) {
      if (own.has(key)) continue;
      const desc = Object.getOwnPropertyDescriptor(Request.prototype, key)!;
      if (desc.get) {
        Object.defineProperty(LightRequest.prototype, key, {
          get(this: LightRequest) { return Reflect.get(this.materialize(), key); },
          configurable: true,
        });
      } else if (typeof desc.value === "function") {
        Object.defineProperty(LightRequest.prototype, key, {
          value(this: LightRequest, ...args: unknown[]) {
            const real = this.materialize();
            return (Reflect.get(real, key) as (...a: unknown[]) => unknown).apply(real, args);
          },
          configurable: true,
          writable: true,
        });
      }
    }
    Object.setPrototypeOf(LightRequest.prototype, Request.prototype);
  }
}

// The request targets @hono/node-server takes verbatim (anything else it normalises through
// URL, or refuses), and plain hosts: only those take the light path.
const PLAIN_TARGET = /^\/[!#$&-;=?-\[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;
const PLAIN_HOST = /^[a-z0-9._-]+(?::[1-9]\d{0,4})?$/;
/** Bodies read up front; larger ones (and chunked ones) stream through @hono/node-server. */
const MAX_LIGHT_BODY = 64 * 1024;

/**
 * Whether a request takes the light path: HTTP/1, a plain /v2/keys target and host, GET or
 * DELETE without a body, or PUT/POST with a small body of declared length. Returns that
 * length (0 = no body), or -1 for the general path.
 */
export function lightBodyLength(incoming: IncomingMessage): number {
  if (incoming.httpVersionMajor !== 1) return -1;
  const target = incoming.url;
  if (target === undefined || !target.startsWith("/v2/keys") || !PLAIN_TARGET.test(target) || DOT_SEGMENT.test(target)) return -1;
  const h = incoming.headers;
  const host = h.host;
  if (host === undefined || !PLAIN_HOST.test(host) || host.endsWith(":80")) return -1;
  if (h["transfer-encoding"] !== undefined) return -1;
  const cl = h["content-length"];
  const length = cl === undefined ? 0 : /^\d{1,6}$/.test(cl) ? Number(cl) : -1;
  const method = incoming.method;
  if (method === "GET" || method === "DELETE") return length === 0 ? 0 : -1;
  if (method === "PUT" || method === "POST") return cl !== undefined && length >= 0 && length <= MAX_LIGHT_BODY ? length : -1;
  return -1;
}

/** The light Request of a request lightBodyLength() accepted, with its whole body. */
export function lightRequest(incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer | null): Request {
  return new LightRequest(incoming.method!, `http://${incoming.headers.host}${incoming.url}`, incoming, outgoing, body) as unknown as Request;
}
