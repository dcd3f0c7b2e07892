// The client-facing Hono app: /v2/keys, /v2/members, /v2/stats/*, /v2/machines, /version,
// /health, with etcd's CORS headers, OPTIONS answers and Go ServeMux path cleaning.
import { Hono } from "hono";
import { VERSION } from "../config.ts";
import type { RequestInfo } from "../runtime.ts";
import type { MemberApi } from "./api.ts";
import { handleKeys } from "./keys.ts";
import { handleMembers } from "./members.ts";
import { addHeaders, reply } from "./reply.ts";
import { json, methodNotAllowed, notFound, text } from "./responses.ts";
import { cleanServePath } from "./serve-path.ts";
import { escapePath, unescape } from "./url-escape.ts";

export interface ClientAppOptions {
  /** Allowed CORS origins (--cors); "*" allows any. */
  cors?: string[];
  /** Serve the v2 API (--enable-v2); when off, /v2/* answers 404 as etcd's does. Default on. */
  enableV2?: boolean;
}

const CORS_BASE: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Methods": "POST, GET, OPTIONS, PUT, DELETE",
  "Access-Control-Allow-Headers": "accept, content-type, authorization",
};
const CORS_ANY: Readonly<Record<string, string>> = { ...CORS_BASE, "Access-Control-Allow-Origin": "*" };

/** The CORS headers of a response (shared objects: read, never modified). */
function corsHeaders(origins: string[], anyOrigin: boolean, origin: string | null): Readonly<Record<string, string>> {
  if (anyOrigin) return CORS_ANY;
  if (origin !== null && origins.includes(origin)) return { ...CORS_BASE, "Access-Control-Allow-Origin": origin };
  return CORS_BASE;
}

/** Splits a request target into its decoded path and raw query (Go's URL.Path and RawQuery). */
function splitTarget(rest: string): { path: string; rawQuery: string } | null {
  const q = rest.indexOf("?");
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  let rawQuery = q < 0 ? "" : rest.slice(q + 1);
  const hash = rawQuery.indexOf("#");
  if (hash >= 0) rawQuery = rawQuery.slice(0, hash);
  try {
    // Go's url.PathUnescape: %XX bytes that are not UTF-8 stay bytes (byte-string.ts).
    return { path: unescape(rawPath, false), rawQuery };
  } catch {
    return null;
  }
}

function goRedirect(method: string, location: string): Response {
  const headers: Record<string, string> = { Location: location };
  let body: string | null = null;
  if (method === "GET" || method === "HEAD") headers["Content-Type"] = "text/html; charset=utf-8";
  if (method === "GET") body = `<a href="${location.replace(/&/g, "&amp;").replace(/"/g, "&#34;")}">Moved Permanently</a>.\n\n`;
  return reply(301, headers, body);
}

export function createClientApp(m: MemberApi, opts: ClientAppOptions = {}): Hono {
  const origins = opts.cors ?? ["*"];
  const anyOrigin = origins.includes("*");
  const enableV2 = opts.enableV2 ?? true;
  const app = new Hono();

  app.all("*", async (c) => {
    const req = c.req.raw;
    const cors = corsHeaders(origins, anyOrigin, anyOrigin ? null : req.headers.get("origin"));
    const info = c.env as RequestInfo | undefined;
    const res = await route(m, req, info?.rawTarget ?? targetOf(req.url), enableV2);
    addHeaders(res, cors);
    return res;
  });
  return app;
}

/** The path and query of an absolute URL. */
function targetOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start < 0 ? "/" : url.slice(start);
}

async function route(m: MemberApi, req: Request, target: string, enableV2: boolean): Promise<Response> {
  if (req.method === "OPTIONS") return reply(200, {}, null);
  const url = splitTarget(target);
  if (url === null) return text("400 Bad Request", 400);
  const { path, rawQuery } = url;
  const clean = cleanServePath(path);
  if (clean !== path) {
    return goRedirect(req.method, escapePath(clean) + (rawQuery === "" ? "" : "?" + rawQuery));
  }

  if (!enableV2 && path.startsWith("/v2/")) return notFound();
  if (path === "/v2/keys" || path.startsWith("/v2/keys/")) {
    return handleKeys(m, req, path.slice("/v2/keys".length), rawQuery);
  }
  if (path === "/v2/members" || path.startsWith("/v2/members/")) {
    return handleMembers(m, req, path.slice("/v2/members".length).replace(/^\//, ""));
  }
  switch (path) {
    case "/version":
      if (req.method !== "GET") return methodNotAllowed(["GET"]);
      return json({ etcdserver: VERSION.server, etcdcluster: m.clusterVersion() }, 200, {}, false);
    case "/health":
      return health(m, req);
    case "/v2/machines": {
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(["GET", "HEAD"]);
      const urls = m.members().flatMap((x) => x.clientURLs).sort();
      return text(req.method === "HEAD" ? "" : urls.join(", "));
    }
    case "/v2/stats/self":
      if (req.method !== "GET") return methodNotAllowed(["GET"]);
      return json(m.selfStats(), 200, {}, false);
    case "/v2/stats/store":
      if (req.method !== "GET") return methodNotAllowed(["GET"]);
      return json(m.store.stats(), 200, {}, false);
    case "/v2/stats/leader": {
      if (req.method !== "GET") return methodNotAllowed(["GET"]);
      const stats = m.leaderStats();
      if (stats === null) return json({ message: "not current leader" }, 403, {}, false);
      return json(stats, 200, {}, false);
    }
  }
  return notFound();
}

async function health(m: MemberApi, req: Request): Promise<Response> {
  if (req.method !== "GET") return methodNotAllowed(["GET"]);
  if (await m.health()) return text(`{"health":"true"}`);
  return text(`{"health":"false"}\n`, 503, { "X-Content-Type-Options": "nosniff" });
}
