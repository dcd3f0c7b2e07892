// The per-case context: requests against one member under a key prefix of the case's own,
// plus assertions for etcd's v2 response conventions (headers, exact bodies, errors).
import * as assert from "uvu/assert";
import { Watch, rawReq, req } from "../support/http.ts";
import type { Res } from "../support/http.ts";
import type { ReqOptions } from "../support/http.ts";
import { assertBody, assertHeader, assertStatus } from "./match.ts";

export interface MemberInfo {
  name: string;
  clientURL: string;
  peerURL: string;
}

/** What every case gets to know about the member under test. */
export interface TargetEnv {
  target: string;
  base: string;
  member: MemberInfo;
  /** X-Etcd-Cluster-Id as first seen (lower-case hex). */
  clusterId: string;
  /** This member's ID as /v2/members shows it. */
  memberId: string;
}

export const ERROR_MESSAGES: Record<number, string> = {
  100: "Key not found",
  101: "Compare failed",
  102: "Not a file",
  104: "Not a directory",
  105: "Key already exists",
  107: "Root is read only",
  108: "Directory not empty",
  110: "The request requires user authentication",
  201: "PrevValue is Required in POST form",
  202: "The given TTL in POST form is not a number",
  203: "The given index in POST form is not a number",
  209: "Invalid field",
  210: "Invalid POST form",
  211: "Value provided on refresh",
  212: "A TTL must be provided on refresh",
  300: "Raft Internal Error",
  401: "The event in requested index is outdated and cleared",
};

export const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, GET, OPTIONS, PUT, DELETE",
  "access-control-allow-headers": "accept, content-type, authorization",
};

type Form = ReqOptions["form"];
type Query = ReqOptions["query"];

export class Ctx {
  readonly env: TargetEnv;
  /** The key prefix of this case, e.g. "/set-overwrite"; every key the case uses lives under it. */
  readonly p: string;
  private readonly watches: Watch[] = [];
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  constructor(env: TargetEnv, prefix: string) {
    this.env = env;
    this.p = prefix;
  }

  get base(): string {
    return this.env.base;
  }

  /** The key (as shown in JSON) of sub under this case's prefix: key("/a") = "/<prefix>/a". */
  key(sub = ""): string {
    return this.p + sub;
  }

  /** The URL path of a key under this case's prefix: k("/a") = "/v2/keys/<prefix>/a". */
  k(sub = ""): string {
    return "/v2/keys" + this.p + sub;
  }

  req(method: string, path: string, opts: ReqOptions = {}): Promise<Res> {
    return req(this.base, method, path, opts);
  }
  get(path: string, query?: Query, opts: ReqOptions = {}): Promise<Res> {
    return this.req("GET", path, { ...opts, ...(query !== undefined ? { query } : {}) });
  }
  head(path: string, query?: Query): Promise<Res> {
    return this.req("HEAD", path, query !== undefined ? { query } : {});
  }
  put(path: string, form?: Form, query?: Query, opts: ReqOptions = {}): Promise<Res> {
    return this.req("PUT", path, { ...opts, ...(form !== undefined ? { form } : {}), ...(query !== undefined ? { query } : {}) });
  }
  post(path: string, form?: Form, query?: Query, opts: ReqOptions = {}): Promise<Res> {
    return this.req("POST", path, { ...opts, ...(form !== undefined ? { form } : {}), ...(query !== undefined ? { query } : {}) });
  }
  del(path: string, query?: Query, opts: ReqOptions = {}): Promise<Res> {
    return this.req("DELETE", path, { ...opts, ...(query !== undefined ? { query } : {}) });
  }
  /** A request with an exact, unnormalised path (node:http). */
  raw(method: string, rawPath: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
    return rawReq(this.base, method, rawPath, opts);
  }

  /** Open a watch (GET path?wait=true&...); it is closed when the case ends. */
  watch(path: string, query: Record<string, string | number | boolean> = {}): Watch {
    const w = new Watch(this.base, path, { wait: "true", ...query });
    this.watches.push(w);
    return w;
  }

  /** Write a file and return the response (asserting success). */
  async set(sub: string, value: string, query?: Query): Promise<Res> {
    const r = await this.put(this.k(sub), { value }, query);
    if (r.status !== 200 && r.status !== 201) assert.unreachable(`setup write ${sub}=${value} failed: ${r.describe()} ${r.text}`);
    return r;
  }
  /** Create a directory (asserting success). */
  async mkdir(sub: string, query: Record<string, string> = {}): Promise<Res> {
    const r = await this.put(this.k(sub), undefined, { dir: "true", ...query });
    if (r.status !== 201 && r.status !== 200) assert.unreachable(`setup mkdir ${sub} failed: ${r.describe()} ${r.text}`);
    return r;
  }
  /** The current store index (X-Etcd-Index of a GET of this case's prefix; a read does not change it). */
  async index(): Promise<number> {
    const r = await this.get("/v2/keys/");
    assertStatus(r, 200);
    return r.etcdIndex;
  }
  /** /v2/stats/store as an object. */
  async storeStats(): Promise<Record<string, number>> {
    const r = await this.get("/v2/stats/store");
    assertStatus(r, 200);
    return r.json();
  }

  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** Close every watch, run the cleanups, and remove the case's keys (so no TTL fires later). */
  async cleanup(): Promise<void> {
    for (const w of this.watches) w.close();
    for (const fn of this.cleanups.reverse()) {
      try { await fn(); } catch { /* best effort */ }
    }
    try {
      await this.del(this.k(), { recursive: "true" });
    } catch { /* best effort */ }
  }

  // ---- assertions -------------------------------------------------------------------------

  /** CORS headers that every client-port response carries. */
  cors(res: Res): void {
    for (const [h, v] of Object.entries(CORS)) assertHeader(res, h, v);
  }

  /**
   * A successful /v2/keys response: status, Content-Type, cluster ID, X-Etcd-Index (exact if
   * given), X-Raft-Index/Term present, and the exact body (+ "\n"). Returns the parsed body.
   */
  ok(res: Res, status: number, body: unknown, index?: number): any {
    assertStatus(res, status);
    assertHeader(res, "content-type", "application/json");
    assertHeader(res, "x-etcd-cluster-id", this.env.clusterId);
    if (index !== undefined) assertHeader(res, "x-etcd-index", String(index));
    else assertHeader(res, "x-etcd-index", /^\d+$/);
    assertHeader(res, "x-raft-index", /^\d+$/);
    assertHeader(res, "x-raft-term", /^\d+$/);
    return assertBody(res.text, body, "\n", res.describe());
  }

  /**
   * A /v2/keys error: status, Content-Type, cluster ID, X-Etcd-Index = index, no X-Raft-*,
   * and the exact body {"errorCode","message","cause"?,"index"} + "\n".
   */
  err(res: Res, status: number, code: number, cause: string | undefined, index: number): void {
    assertStatus(res, status);
    assertHeader(res, "content-type", "application/json");
    assertHeader(res, "x-etcd-cluster-id", this.env.clusterId);
    assertHeader(res, "x-etcd-index", String(index));
    assertHeader(res, "x-raft-index", null);
    assertHeader(res, "x-raft-term", null);
    const msg = ERROR_MESSAGES[code];
    if (msg === undefined) throw new Error(`no message known for error ${code}`);
    const body: Record<string, unknown> = { errorCode: code, message: msg };
    if (cause !== undefined && cause !== "") body.cause = cause;
    body.index = index;
    assert.is(res.text, JSON.stringify(body) + "\n", `${res.describe()}: error body`);
  }

  /** A parse/validation error (§3.2): HTTP 400, index 0. */
  bad(res: Res, code: number, cause: string): void {
    this.err(res, 400, code, cause, 0);
  }

  /** A 405 from Go's allowMethod: text/plain "Method Not Allowed\n" with Allow. */
  notAllowed(res: Res, allow: string | null): void {
    assertStatus(res, 405);
    assertHeader(res, "allow", allow);
    assertHeader(res, "content-type", "text/plain; charset=utf-8");
    assertHeader(res, "x-content-type-options", "nosniff");
    this.cors(res);
    if (res.method !== "HEAD") assert.is(res.text, "Method Not Allowed\n");
  }

  /** Go's mux 404 page. */
  notFoundPage(res: Res): void {
    assertStatus(res, 404);
    assertHeader(res, "content-type", "text/plain; charset=utf-8");
    assertHeader(res, "x-content-type-options", "nosniff");
    this.cors(res);
    assert.is(res.text, "404 page not found\n");
  }
}

// ---- expected-object builders (etcd's field order) ----------------------------------------

export interface NodeFields {
  key?: string;
  value?: string;
  dir?: true;
  expiration?: unknown;
  ttl?: unknown;
  nodes?: unknown;
  modifiedIndex?: number;
  createdIndex?: number;
}

/** A node with fields in etcd's order: key, value, dir, expiration, ttl, nodes, modifiedIndex, createdIndex. */
export function node(f: NodeFields): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of ["key", "value", "dir", "expiration", "ttl", "nodes", "modifiedIndex", "createdIndex"] as const) {
    if (f[k] !== undefined) o[k] = f[k];
  }
  return o;
}

/** A file node. */
export function file(key: string, value: string, mi: number, ci: number = mi, extra: { expiration?: unknown; ttl?: unknown } = {}): Record<string, unknown> {
  return node({ key, value, ...extra, modifiedIndex: mi, createdIndex: ci });
}

/** A directory node. */
export function dir(key: string, mi: number, ci: number = mi, extra: { expiration?: unknown; ttl?: unknown; nodes?: unknown } = {}): Record<string, unknown> {
  return node({ key, dir: true, ...extra, modifiedIndex: mi, createdIndex: ci });
}

/** The node of a delete/compareAndDelete/expire event: key, dir?, indexes, no value. */
export function gone(key: string, mi: number, ci: number, isDir = false): Record<string, unknown> {
  return node({ key, ...(isDir ? { dir: true as const } : {}), modifiedIndex: mi, createdIndex: ci });
}

/** An event body. */
export function ev(action: string, n?: unknown, prev?: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = { action };
  if (n !== undefined) o.node = n;
  if (prev !== undefined) o.prevNode = prev;
  return o;
}
