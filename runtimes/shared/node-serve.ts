// serve() over node:http through @hono/node-server. Node uses it; Bun can too (its node:http
// sends the response head at once, which Bun.serve does not do for a stream body).
//
// The client routes' replies (core/http/reply.ts) are written here directly: status, plain
// headers and a string body in one writeHead/end, without building a WHATWG Response.
import { getRequestListener } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type ReplyParts, type ReplyStream, takeReply, useLazyReplies } from "../../core/http/reply.ts";
import type { Handler, Listener, Logger, ServeOptions } from "../../core/runtime.ts";
import { guardHandler } from "./handler.ts";
import { lightBodyLength, lightRequest } from "./node-light-request.ts";
import { listenError } from "./listen-error.ts";

export function serveNode(opts: ServeOptions, handler: Handler, log: Logger): Promise<Listener> {
  const guarded = guardHandler(handler, log);
  useLazyReplies(true);
  const general = getRequestListener(
    // The adaptor's Request has a WHATWG-normalised url; the raw target comes from node:http.
    (req: Request, bindings: unknown) => {
      const env = bindings as { incoming: IncomingMessage; outgoing: ServerResponse };
      return guarded(req, { rawTarget: env.incoming.url ?? new URL(req.url).pathname }).then((res) => {
        const parts = takeReply(res);
        if (parts === null) return res;
        writeReply(parts, env.outgoing, log);
        return RESPONSE_ALREADY_SENT;
      });
    },
    // Leave the global Request/Response alone: core and fetch() keep the standard classes.
    { hostname: opts.hostname, overrideGlobalObjects: false },
  );
  // The hot client requests (small /v2/keys requests) skip the adaptor: their body is read
  // whole, the handler gets a light Request (node-light-request.ts), the reply is written here.
  const light = (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer | null): void => {
    const req = lightRequest(incoming, outgoing, body);
    guarded(req, { rawTarget: incoming.url! }).then(
      (res) => {
        const parts = takeReply(res);
        if (parts !== null) writeReply(parts, outgoing, log);
        else return writeResponse(res, outgoing);
      },
    ).catch((e) => {
      log.error("http response failed", { error: e instanceof Error ? e.message : String(e) });
      outgoing.destroy(e as Error);
    });
  };
  const server = createServer(
    // requestTimeout bounds receiving a whole request body; a slow peer stream may take
    // longer than the 5-minute default. Idle/keep-alive limits stay as Node sets them.
    { requestTimeout: 0 },
    (incoming, outgoing) => {
      const length = lightBodyLength(incoming);
      if (length < 0) return void general(incoming, outgoing);
      if (length === 0) return light(incoming, outgoing, null);
      readBody(incoming, length, (body) => light(incoming, outgoing, body));
    },
  );

  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      reject(listenError(opts, e.code, e));
    };
    const onListening = (): void => {
      server.off("error", onError);
      server.on("error", (e) => log.error("http server error", { error: e }));
      resolve(listener(server));
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(opts.port, opts.hostname);
  });
}

/** Reads a body of the declared length, then calls done (never, if the client goes away). */
function readBody(incoming: IncomingMessage, length: number, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let got = 0;
  incoming.on("data", (c: Buffer) => {
    chunks.push(c);
    got += c.length;
  });
  incoming.once("end", () => {
    // node:http ends the body at the declared length; a short one means the client aborted.
    if (got === length) done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got));
  });
}

/**
 * A WHATWG Response (not a client route's reply), as @hono/node-server writes one: a body
 * that is complete at once gets a Content-Length, anything else streams chunk by chunk
 * after the head; a client that goes away cancels the body.
 */
async function writeResponse(res: Response, out: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  res.headers.forEach((v, k) => {
    if (k === "set-cookie") headers[k] = res.headers.getSetCookie();
    else headers[k] = v;
  });
  if (res.body === null) {
    out.writeHead(res.status, headers);
    out.end();
    return;
  }
  const reader = res.body.getReader();
  const first: Uint8Array[] = [];
  let pending: ReturnType<typeof reader.read> | undefined;
  let done = false;
  for (let i = 0; i < 2 && !done; i++) {
    pending ??= reader.read();
    const r = await Promise.race([pending, Promise.resolve().then(() => undefined)]);
    if (r === undefined) break;
    pending = undefined;
    if (r.value) first.push(r.value);
    done = r.done;
  }
  if (done && headers["content-length"] === undefined && headers["transfer-encoding"] === undefined) {
    headers["content-length"] = String(first.reduce((n, c) => n + c.byteLength, 0));
  }
  out.writeHead(res.status, headers);
  for (const c of first) out.write(c);
  if (done) {
    out.end();
    return;
  }
  if (first.length === 0) out.flushHeaders();
  let gone = false;
  const onClose = (): void => {
    gone = true;
    reader.cancel().catch(() => {});
  };
  out.once("close", onClose);
  try {
    for (;;) {
      const r = await (pending ?? reader.read());
      pending = undefined;
      if (gone) return;
      if (r.done) break;
      if (!out.write(r.value)) await drainOrClose(out);
    }
    out.end();
  } finally {
    if (!gone) out.off("close", onClose);
  }
}

function drainOrClose(out: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
  });
}

/** A reply in one writeHead + end; a streamed one gets its head at once, then its chunks. */
function writeReply(p: ReplyParts, out: ServerResponse, log: Logger): void {
  const body = p.body;
  if (body === null) {
    out.writeHead(p.status, p.headers);
    out.end();
    return;
  }
  if (typeof body === "string") {
    p.headers["Content-Length"] = String(Buffer.byteLength(body));
    out.writeHead(p.status, p.headers);
    out.end(body);
    return;
  }
  out.writeHead(p.status, p.headers);
  out.flushHeaders();
  void pump(body, out).catch((e) => {
    log.error("http response stream failed", { error: e instanceof Error ? e.message : String(e) });
    out.destroy(e as Error);
  });
}

async function pump(s: ReplyStream, out: ServerResponse): Promise<void> {
  let gone = false;
  const onClose = (): void => {
    gone = true;
    s.cancel();
  };
  out.once("close", onClose);
  try {
    for (;;) {
      const next = await s.pull();
      if (gone) return;
      if (next === null) {
        out.end();
        return;
      }
      if (next.done) {
        out.end(next.chunk);
        return;
      }
      if (!out.write(next.chunk)) await drainOrClose(out);
    }
  } finally {
    if (!gone) out.off("close", onClose);
  }
}

function listener(server: Server): Listener {
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // server.close() alone waits for every open connection to end; a watch stream may
        // never end, and idle keep-alive sockets would hold it for seconds. Cut them all.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
