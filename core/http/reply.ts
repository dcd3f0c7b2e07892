// Responses of the client routes, built cheaply. By default reply() is `new Response(...)`.
// A server adaptor that can write status, headers and body itself (node:http) turns on lazy
// replies: reply() then returns an object that passes for a Response (its prototype is
// Response.prototype, and any property read turns it into a real one), while the adaptor
// takes its plain parts with takeReply() and writes them directly, skipping the WHATWG
// Response, its body stream and its Headers. Behaviour on the wire is the same.

/** A streamed body (a watch): chunks pulled one by one; null = the stream ended. */
export interface ReplyStream {
  /** The next chunk; `done` = it is the last one. */
  pull(): Promise<{ chunk: string; done: boolean } | null>;
  /** The client went away (or the consumer stopped reading). */
  cancel(): void;
}

export interface ReplyParts {
  status: number;
  /** Owned by the reply: callers may add to it until the reply is written. */
  headers: Record<string, string>;
  body: string | null | ReplyStream;
}

const PARTS = Symbol("etcd-ts.replyParts");
const REAL = Symbol("etcd-ts.realResponse");
const TAKEN = Symbol("etcd-ts.replyTaken");
const encoder = new TextEncoder();

let lazy = false;

/** Turn lazy replies on (a server adaptor that calls takeReply() on every response). */
export function useLazyReplies(on = true): void {
  lazy = on;
}

/** A response with these parts; `headers` becomes the reply's own. */
export function reply(status: number, headers: Record<string, string>, body: string | null | ReplyStream): Response {
  if (!lazy) return realResponse({ status, headers, body });
  const r = Object.create(LazyReply.prototype) as LazyReply;
  r[PARTS] = { status, headers, body };
  return r as unknown as Response;
}

/**
 * The plain parts of a lazy reply nobody has looked into yet (the caller then owns and
 * writes them), or null for any other response.
 */
export function takeReply(res: Response): ReplyParts | null {
  const r = res as unknown as LazyReply;
  const parts = r[PARTS];
  if (parts === undefined || r[REAL] !== undefined || r[TAKEN]) return null;
  r[TAKEN] = true;
  return parts;
}

/** Adds headers to a response (to a lazy reply's own headers when it is still plain). */
export function addHeaders(res: Response, headers: Record<string, string>): void {
  const r = res as unknown as LazyReply;
  const parts = r[PARTS];
  if (parts !== undefined && r[REAL] === undefined && !r[TAKEN]) {
    for (const k in headers) parts.headers[k] = headers[k]!;
    return;
  }
  for (const k in headers) res.headers.set(k, headers[k]!);
}

function realResponse(p: ReplyParts): Response {
  const body = p.body === null || typeof p.body === "string" ? p.body : toReadableStream(p.body);
  return new Response(body, { status: p.status, headers: p.headers });
}

function toReadableStream(s: ReplyStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await s.pull();
      if (next === null) {
        try { controller.close(); } catch { /* already cancelled */ }
        return;
      }
      controller.enqueue(encoder.encode(next.chunk));
      if (next.done) controller.close();
    },
    cancel: () => s.cancel(),
  });
}

class LazyReply {
  [PARTS]: ReplyParts | undefined;
  [REAL]: Response | undefined;
  [TAKEN]: boolean | undefined;
}

function materialize(r: LazyReply): Response {
  return (r[REAL] ??= realResponse(r[PARTS]!));
}

// Every member of Response.prototype, answered by the real response made on first use.
for (const key of Reflect.ownKeys(Response.prototype)) {
  if (key === "constructor") continue;
  const desc = Object.getOwnPropertyDescriptor(Response.prototype, key)!;
  if (desc.get) {
    Object.defineProperty(LazyReply.prototype, key, {
      get(this: LazyReply) { return Reflect.get(materialize(this), key); },
      configurable: true,
    });
  } else if (typeof desc.value === "function") {
    Object.defineProperty(LazyReply.prototype, key, {
      value(this: LazyReply, ...args: unknown[]) {
        const real = materialize(this);
        return (Reflect.get(real, key) as (...a: unknown[]) => unknown).apply(real, args);
      },
      configurable: true,
      writable: true,
    });
  }
}
// Status needs no real response (it never changes).
Object.defineProperty(LazyReply.prototype, "status", {
  get(this: LazyReply) { return this[REAL]?.status ?? this[PARTS]!.status; },
  configurable: true,
});
Object.defineProperty(LazyReply.prototype, "ok", {
  get(this: LazyReply) { const s = (this as unknown as Response).status; return s >= 200 && s < 300; },
  configurable: true,
});
Object.setPrototypeOf(LazyReply.prototype, Response.prototype);
