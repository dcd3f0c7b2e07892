// The v2 proxy's request handler (etcd's proxy/httpproxy), as a plain fetch-style function
// Request -> Response that a member process, a Bun/Deno server or an edge function can host.
// It holds no state but the endpoints that recently failed.
//
// Behaviour, as etcd 3.4's proxy:
//   * a path that is not clean (".", "..", "//") is redirected (301), as Go's ServeMux does;
//   * readonly: any method but GET answers 501 with an empty body;
//   * CORS (when `cors` is given): the headers are added, OPTIONS answers 200 at once;
//   * GET /v2/config/local/proxy answers {"endpoints":[...]} (the endpoints in use);
//   * everything else is forwarded to an available endpoint, with the client's method, path,
//     query, headers (hop-by-hop ones removed) and body; X-Forwarded-For is extended with the
//     client address when the host supplies it;
//   * a connection error marks that endpoint unavailable for failureWaitMs and the next one is
//     tried; an HTTP answer, whatever its status, is passed back as it is;
//   * the response is streamed through without buffering (watches);
//   * no endpoint available: 503 {"message":"httpproxy: zero endpoints currently available"};
//     every endpoint failed: 502 {"message":"httpproxy: unable to get response from N endpoint(s)"}.
// Not reproduced: etcd's transport timeouts (dial 1 s, write 5 s); the fetch implementation's
// own connection timeouts apply. A GET/HEAD request body cannot be forwarded by fetch and is dropped.
import { cleanServePath } from "../http/serve-path.ts";
import { escapePath, unescape } from "../http/url-escape.ts";
import type { Logger } from "../runtime.ts";

export interface ProxyHandlerOptions {
  /** Outgoing HTTP (Runtime.fetch, or globalThis.fetch in an edge function). */
  fetch: (req: Request) => Promise<Response>;
  /** The client URLs to forward to, in the order to try them. Called for every request. */
  endpoints: () => string[];
  /** --proxy readonly: only GET is let through. */
  readonly?: boolean;
  /** How long a failed endpoint is left out, ms (--proxy-failure-wait, default 5000). */
  failureWaitMs?: number;
  log?: Logger;
  /** Clock for the failure wait, ms (default Date.now). */
  now?: () => number;
  /** Allowed CORS origins (--cors); when given, the proxy adds etcd's CORS headers and answers OPTIONS. */
  cors?: string[];
}

/** What the host may know about a request beyond the Request itself. */
export interface ProxyRequestInfo {
  /** The request target as sent (path and query), before URL normalisation. */
  rawTarget?: string;
  /** The client's IP address (for X-Forwarded-For). */
  remoteAddress?: string;
}

export type ProxyHandler = (req: Request, info?: ProxyRequestInfo) => Promise<Response>;

/** Hop-by-hop headers, removed in both directions (etcd's list, from Go's ReverseProxy). */
const SINGLE_HOP_HEADERS = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade"];
/** Headers fetch sets itself. */
const FETCH_MANAGED = ["host", "content-length"];
/** Statuses whose responses cannot carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

const DEFAULT_FAILURE_WAIT_MS = 5000;

/** httptypes.HTTPError.WriteTo: {"message":...} with no newline. */
function httpError(status: number, message: string, extra: Headers): Response {
  extra.set("Content-Type", "application/json");
  return new Response(JSON.stringify({ message }), { status, headers: extra });
}

function corsHeaders(origins: readonly string[], origin: string | null): Headers {
  const h = new Headers();
  let allow = "";
  if (origins.includes("*")) allow = "*";
  else if (origin !== null && origins.includes(origin)) allow = origin;
  if (allow !== "") {
    h.set("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
    h.set("Access-Control-Allow-Origin", allow);
    h.set("Access-Control-Allow-Headers", "accept, content-type, authorization");
  }
  return h;
}

/** Go's http.Redirect(w, r, location, 301). */
function redirect(method: string, location: string): Response {
  const headers: Record<string, string> = { Location: location };
  let body: string | null = null;
  if (method === "GET" || method === "HEAD") headers["Content-Type"] = "text/html; charset=utf-8";
  if (method === "GET") body = `<a href="${location.replace(/&/g, "&amp;").replace(/"/g, "&#34;")}">Moved Permanently</a>.\n\n`;
  return new Response(body, { status: 301, headers });
}

/** The path and query of an absolute URL. */
function targetOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** The target as origin-form ("/path?query"). An absolute-form target keeps its path and query. */
function originForm(raw: string): string {
  if (raw.startsWith("/")) return raw;
  try {
    return targetOf(raw);
  } catch {
    return "/" + raw;
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

/** Scheme and host of an endpoint URL: etcd's proxy replaces only those in the request URL. */
function endpointOrigin(ep: string): string | null {
  try {
    const u = new URL(ep);
    return `${u.protocol}//${u.host}`;
  } catch {
    return null;
  }
}

export function createProxyHandler(opts: ProxyHandlerOptions): ProxyHandler {
  const failureWait = opts.failureWaitMs ?? DEFAULT_FAILURE_WAIT_MS;
  const now = opts.now ?? (() => Date.now());
  const log = opts.log;
  /** endpoint -> time until which it is left out. */
  const unavailable = new Map<string, number>();

  const available = (): string[] => {
    const t = now();
    const out: string[] = [];
    for (const ep of opts.endpoints()) {
      if (out.includes(ep)) continue;
      const until = unavailable.get(ep);
      if (until !== undefined) {
        if (t < until) continue;
        unavailable.delete(ep);
        log?.info(`proxy: marked endpoint ${ep} available, to retest connectivity`);
      }
      out.push(ep);
    }
    return out;
  };

  const markFailed = (ep: string): void => {
    if (unavailable.has(ep)) return;
    unavailable.set(ep, now() + failureWait);
    log?.info(`proxy: marked endpoint ${ep} unavailable`);
  };

  return async (req: Request, info?: ProxyRequestInfo): Promise<Response> => {
    const target = originForm(info?.rawTarget ?? targetOf(req.url));
    const q = target.indexOf("?");
    const rawPath = q < 0 ? target : target.slice(0, q);
    const rawQuery = q < 0 ? "" : target.slice(q + 1).replace(/#.*$/, "");
    let path: string;
    try {
      path = unescape(rawPath, false);
    } catch {
      return new Response("400 Bad Request", { status: 400, headers: { "Content-Type": "text/plain; charset=utf-8", Connection: "close" } });
    }
    // Go's ServeMux (in front of everything in etcd's proxy) redirects unclean paths.
    const clean = cleanServePath(path);
    if (clean !== path) return redirect(req.method, escapePath(clean) + (rawQuery === "" ? "" : "?" + rawQuery));

    if (opts.readonly && req.method !== "GET") return new Response(null, { status: 501 });

    const cors = opts.cors ? corsHeaders(opts.cors, req.headers.get("origin")) : new Headers();
    if (opts.cors && req.method === "OPTIONS") return new Response(null, { status: 200, headers: cors });

    if (path === "/v2/config/local/proxy") {
      if (req.method !== "GET") {
        cors.set("Allow", "GET");
        cors.set("Content-Type", "text/plain; charset=utf-8");
        cors.set("X-Content-Type-Options", "nosniff");
        return new Response("Method Not Allowed\n", { status: 405, headers: cors });
      }
      cors.set("Content-Type", "text/plain; charset=utf-8");
      return new Response(JSON.stringify({ endpoints: available() }) + "\n", { status: 200, headers: cors });
    }

    // The body is read whole, so that it can be sent again to the next endpoint.
    let body: Uint8Array<ArrayBuffer> | null = null;
    if (req.method !== "GET" && req.method !== "HEAD") {
      try {
        body = new Uint8Array(await req.arrayBuffer());
      } catch (e) {
        const msg = `failed to read request body: ${describe(e)}`;
        log?.info(`httpproxy: ${msg}`);
        return httpError(500, "httpproxy: " + msg, cors);
      }
    }

    const headers = new Headers(req.headers);
    for (const h of [...SINGLE_HOP_HEADERS, ...FETCH_MANAGED]) headers.delete(h);
    if (info?.remoteAddress) {
      // Go's ReverseProxy: prior X-Forwarded-For values, then the client's address.
      const prior = req.headers.get("x-forwarded-for");
      headers.set("X-Forwarded-For", prior !== null ? `${prior}, ${info.remoteAddress}` : info.remoteAddress);
    }

    const endpoints = available();
    if (endpoints.length === 0) {
      log?.info("httpproxy: zero endpoints currently available");
      return httpError(503, "httpproxy: zero endpoints currently available", cors);
    }

    // A client that goes away cancels the upstream request (and so the upstream stream).
    const ac = new AbortController();
    const onClientGone = (): void => ac.abort();
    if (req.signal.aborted) return new Response(null, { status: 499 });
    req.signal.addEventListener("abort", onClientGone, { once: true });

    let res: Response | null = null;
    for (const ep of endpoints) {
      const origin = endpointOrigin(ep);
      if (origin === null) {
        log?.info(`httpproxy: upstream URL invalid: ${ep}`);
        continue;
      }
      try {
        res = await opts.fetch(
          new Request(origin + target, { method: req.method, headers, body, signal: ac.signal, redirect: "manual" }),
        );
        break;
      } catch (e) {
        if (req.signal.aborted) {
          req.signal.removeEventListener("abort", onClientGone);
          log?.info(`httpproxy: client closed request prematurely`);
          return new Response(null, { status: 499 });
        }
        log?.info(`httpproxy: failed to direct request to ${origin}: ${describe(e)}`);
        markFailed(ep);
      }
    }

    if (res === null) {
      req.signal.removeEventListener("abort", onClientGone);
      const msg = `unable to get response from ${endpoints.length} endpoint(s)`;
      log?.info(`httpproxy: ${msg}`);
      return httpError(502, "httpproxy: " + msg, cors);
    }

    const out = new Headers(cors);
    res.headers.forEach((v, k) => {
      if (!SINGLE_HOP_HEADERS.includes(k)) out.set(k, v);
    });
    // fetch already decoded a compressed body; its encoding and length no longer apply.
    if (out.has("content-encoding")) {
      out.delete("content-encoding");
      out.delete("content-length");
    }
    if (res.headers.has("set-cookie")) {
      out.delete("set-cookie");
      for (const c of res.headers.getSetCookie?.() ?? []) out.append("set-cookie", c);
    }
    const upstreamBody = NULL_BODY.has(res.status) || req.method === "HEAD" ? null : res.body;
    if (upstreamBody === null) {
      req.signal.removeEventListener("abort", onClientGone);
      await res.body?.cancel().catch(() => {});
      return new Response(null, { status: res.status, statusText: res.statusText, headers: out });
    }
    // Pass the stream through as it is; once it ends, stop listening for the client.
    const reader = upstreamBody.getReader();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            req.signal.removeEventListener("abort", onClientGone);
            controller.close();
          } else controller.enqueue(value);
        } catch (e) {
          req.signal.removeEventListener("abort", onClientGone);
          controller.error(e);
        }
      },
      cancel(reason) {
        req.signal.removeEventListener("abort", onClientGone);
        ac.abort();
        return reader.cancel(reason).catch(() => {});
      },
    });
    return new Response(stream, { status: res.status, statusText: res.statusText, headers: out });
  };
}
