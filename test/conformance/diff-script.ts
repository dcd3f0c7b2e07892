// The request script of the differential test: a fixed sequence covering the v2 API and its
// errors, plus a seeded random sequence of operations over a small key space.
//
// Values in paths, queries and forms may hold index tokens, resolved per server so that the
// same script means the same thing on servers whose indexes start at different numbers:
//   @last, @last+N, @last-N   the last X-Etcd-Index that server answered (0s ignored)
//   @base+N                   the server's index when the script started, plus N
//   @pad:<token>              the same, zero-padded to 20 digits (in-order key names)

import { seededRandom } from "../support/random.ts";
export type Pairs = Record<string, string>;

export interface ReqStep {
  t: "req";
  method: string;
  path: string;
  query?: Pairs | string;
  form?: Pairs | string;
  body?: string;
  headers?: Record<string, string>;
  /** Send through node:http with the exact path (needed for "..", "//", GET bodies). */
  raw?: boolean;
  timeoutMs?: number;
}

export interface WatchStep {
  t: "watch";
  path: string;
  query: Pairs;
  /** Steps run (on both servers, compared) after the watch is registered. */
  during: Step[];
  /** How many events to read and compare. */
  events: number;
  /** Per-event time limit; when it passes on both servers, "no event" is the (equal) outcome. */
  timeoutMs?: number;
  /** After the events: both must stay quiet for this long. */
  quietMs?: number;
}

export interface BulkStep {
  t: "bulk";
  /** n sequential writes, compared one by one. */
  n: number;
  path: (i: number) => string;
  value: (i: number) => string;
}

export type Step = ReqStep | WatchStep | BulkStep;

const K = "/v2/keys/df";

function req(method: string, path: string, opts: Partial<Omit<ReqStep, "t" | "method" | "path">> = {}): ReqStep {
  return { t: "req", method, path, ...opts };
}
const get = (p: string, query?: Pairs | string): ReqStep => req("GET", K + p, query !== undefined ? { query } : {});
const head = (p: string, query?: Pairs | string): ReqStep => req("HEAD", K + p, query !== undefined ? { query } : {});
const put = (p: string, form?: Pairs | string, query?: Pairs | string): ReqStep =>
  req("PUT", K + p, { ...(form !== undefined ? { form } : {}), ...(query !== undefined ? { query } : {}) });
const post = (p: string, form?: Pairs | string, query?: Pairs | string): ReqStep =>
  req("POST", K + p, { ...(form !== undefined ? { form } : {}), ...(query !== undefined ? { query } : {}) });
const del = (p: string, query?: Pairs | string): ReqStep => req("DELETE", K + p, query !== undefined ? { query } : {});
const watch = (p: string, query: Pairs, during: Step[], events: number, extra: Partial<WatchStep> = {}): WatchStep => ({
  t: "watch", path: K + p, query: { wait: "true", ...query }, during, events, ...extra,
});

/** The fixed part of the script. */
export function scriptedSteps(): Step[] {
  const s: Step[] = [];
  const add = (...x: Step[]): void => { s.push(...x); };

  // --- the other endpoints
  add(
    req("GET", "/version"), req("POST", "/version"), req("HEAD", "/version"),
    req("GET", "/health"), req("PUT", "/health"),
    req("GET", "/v2/machines"), req("HEAD", "/v2/machines"), req("POST", "/v2/machines"),
    req("GET", "/v2/members"), req("GET", "/v2/members/"), req("GET", "/v2/members/leader"), req("GET", "/v2/members/xyz"),
    req("PATCH", "/v2/members"), req("HEAD", "/v2/members"),
    req("POST", "/v2/members", { body: '{"peerURLs":["http://127.0.0.1:1"]}', headers: { "Content-Type": "text/plain" } }),
    req("POST", "/v2/members", { body: '{"peerURLs":["127.0.0.1:22380"]}', headers: { "Content-Type": "application/json" } }),
    req("POST", "/v2/members", { body: '{"peerURLs":[]}', headers: { "Content-Type": "application/json; charset=utf-8" } }),
    req("POST", "/v2/members", { body: "{}", headers: { "Content-Type": "application/json" } }),
    req("POST", "/v2/members", { body: "nope", headers: { "Content-Type": "application/json" } }),
    req("POST", "/v2/members", { body: '{"peerURLs":["ftp://127.0.0.1:1"]}', headers: { "Content-Type": "application/json" } }),
    req("POST", "/v2/members", { body: '{"peerURLs":["http://127.0.0.1"]}', headers: { "Content-Type": "application/json" } }),
    req("POST", "/v2/members", { body: '{"peerURLs":["http://127.0.0.1:1/p"]}', headers: { "Content-Type": "application/json" } }),
    req("DELETE", "/v2/members"), req("DELETE", "/v2/members/zzz"), req("DELETE", "/v2/members/1234"),
    req("PUT", "/v2/members/1234", { body: '{"peerURLs":["http://127.0.0.1:9"]}', headers: { "Content-Type": "application/json" } }),
    req("PUT", "/v2/members/1234", { form: "x" }),
    req("GET", "/v2/stats/self"), req("GET", "/v2/stats/leader"), req("GET", "/v2/stats/store"), req("POST", "/v2/stats/store"),
    req("GET", "/nothing"), req("GET", "/v2/keysfoo"), req("GET", "/v2/stats"),
    req("OPTIONS", K + "/a", { headers: { Origin: "http://example.com" } }), req("OPTIONS", "/version"),
    req("PATCH", K + "/a"), req("TRACE", K + "/a", { raw: true }),
  );

  // --- basics
  add(
    get("/a"), put("/a", { value: "v1" }), get("/a"), put("/a", { value: "v2" }), head("/a"), head("/zz"),
    get("/a", { quorum: "true" }), get("/a", { wait: "true", quorum: "true" }),
    put("/a", { value: "x" }, { prevExist: "false" }), put("/b", { value: "x" }, { prevExist: "false" }),
    put("/b", { value: "y" }, { prevExist: "true" }), put("/nob", { value: "y" }, { prevExist: "true" }),
    put("/b", { value: "z" }, { prevValue: "y" }), put("/b", { value: "z" }, { prevValue: "q" }),
    put("/b", { value: "w" }, { prevIndex: "@last" }), put("/b", { value: "w" }, { prevIndex: "@last+5" }),
    put("/b", { value: "w" }, { prevIndex: "@last+5", prevValue: "no" }),
    put("/b", { value: "w" }, { prevIndex: "@last+5", prevValue: "w" }),
    put("/b", { value: "w" }, { prevIndex: "18446744073709551615" }),
    put("/b", { value: "w" }, { prevExist: "true", prevValue: "no" }),
    put("/b", { value: "s" }, { prevIndex: "0" }),
    del("/b", { prevValue: "no" }), del("/b", { prevIndex: "@last+3" }), del("/b", { prevIndex: "@last" }), del("/b"),
    put("/dir", undefined, { dir: "true" }), put("/dir", { value: "x" }), put("/dir", undefined, { dir: "true" }),
    put("/dir", { value: "x" }, { prevValue: "x" }), del("/dir"), del("/dir", { prevValue: "x" }),
    put("/dir/x", { value: "1" }), del("/dir", { dir: "true" }), get("/dir"), get("/dir", { recursive: "true" }),
    del("/dir", { recursive: "true" }), get("/dir/x"),
    put("/f", { value: "1" }), put("/f", { value: "zz" }, { dir: "true" }), get("/f/x/y"),
    put("/g", { value: "1" }), get("/g/x"), put("/g/x", { value: "1" }), post("/g", { value: "1" }), del("/g/x"),
    put("/e", { value: "" }), put("/e2"), get("/e"),
    put("/a/b/c/d", { value: "deep" }),
  );

  // --- listings and hidden keys
  add(
    put("/h/_x", { value: "1" }), put("/h/y", { value: "2" }), put("/h/_d/z", { value: "3" }), put("/h/s/t", { value: "4" }),
    put("/h/s/_u", { value: "5" }), put("/h/B", { value: "6" }), put("/h/A", { value: "7" }),
    get("/h"), get("/h", { recursive: "true" }), get("/h", { sorted: "true" }), get("/h", { recursive: "true", sorted: "true" }),
    get("/h/_x"), get("/h/_d", { recursive: "true" }), get("/h/y", { recursive: "true", sorted: "true" }),
    req("GET", "/v2/keys", { query: { sorted: "true" } }), req("GET", "/v2/keys/", { query: { recursive: "true", sorted: "true" } }),
  );

  // --- in-order keys
  add(
    post("/q", { value: "j1" }), post("/q", { value: "j2" }), post("/q", undefined, { value: "j3" }),
    get("/q", { recursive: "true", sorted: "true" }), post("/q", undefined, { dir: "true" }), post("/q", { value: "t", ttl: "1000" }),
    get("/q", { sorted: "true" }), post("/q", { value: "x" }, { prevExist: "true" }),
    req("POST", "/v2/keys/", { form: { value: "rootq" } }), req("DELETE", "/v2/keys/@pad:last"),
  );

  // --- noValueOnSuccess
  const nv = { noValueOnSuccess: "true" };
  add(
    put("/nv", { value: "1" }, nv), put("/nv", { value: "2" }, nv), put("/nv2", { value: "1" }, { ...nv, prevExist: "false" }),
    put("/nv2", { value: "2" }, { ...nv, prevExist: "true" }), put("/nv2", { value: "3" }, { ...nv, prevValue: "2" }),
    post("/nvq", { value: "1" }, nv), get("/nv", nv), del("/nv", nv), del("/nv2", { ...nv, prevValue: "3" }),
    put("/nv2", { value: "1" }, { ...nv, prevExist: "true" }),
  );

  // --- TTL and refresh (long TTLs: nothing expires here)
  add(
    put("/t", { value: "v", ttl: "1000" }), get("/t"), put("/t", { ttl: "2000" }, { refresh: "true" }),
    put("/t", { ttl: "3000" }, { refresh: "true", prevExist: "true" }), put("/t", { ttl: "3000" }, { refresh: "true", prevValue: "v" }),
    put("/t", { ttl: "3000" }, { refresh: "true", prevValue: "x" }), put("/t", { value: "v", ttl: "" }, { prevExist: "true" }), get("/t"),
    put("/nottl", { ttl: "5" }, { refresh: "true" }), put("/cr", undefined, { prevExist: "false", refresh: "true", ttl: "1000" }),
    put("/td", undefined, { dir: "true", ttl: "1000" }), put("/td", undefined, { dir: "true", prevExist: "true", ttl: "2000" }),
    get("/td"), put("/td", { ttl: "" }, { prevExist: "true" }), get("/td"), put("/td", { value: "x" }, { prevExist: "true" }),
    put("/t2", { value: "a", ttl: "1000" }), put("/t2", { value: "b" }), put("/t3", { value: "a", ttl: "1000" }),
    put("/t3", { value: "b" }, { prevValue: "a" }),
  );

  // --- parsing and validation
  const v = (q: string): ReqStep => get("/a", q);
  add(
    v("x=%zz"), v("a=1;b=2"), v("prevIndex=-1"), v("prevIndex=+1"), v("prevIndex=1.5"), v("prevIndex="), v("prevIndex=18446744073709551616"),
    v("waitIndex=abc"), v("waitIndex="), v("recursive=yes"), v("recursive="), v("sorted=x"), v("wait=x"), v("dir=x"), v("quorum=x"),
    v("stream=x"), v("stream=x&quorum=x&dir=x&wait=x&sorted=x&recursive=x"), v("waitIndex=x&prevIndex=x"),
    v("prevValue="), v("noValueOnSuccess=x"), v("ttl=abc"), v("ttl=-1"), v("prevExist=x"), v("refresh=x"), v("refresh=true"),
    v("refresh=true&value=x"), v("recursive=T&sorted=FALSE&quorum=0"), v("recursive=True&sorted=f&quorum=t"),
    put("/a", { value: "1" }, "wait=true"), put("/a", { value: "1" }, "wait=true&prevValue="), post("/a", undefined, "wait=true"),
    del("/a", "wait=true"), put("/a", { value: "1" }, "prevValue="), put("/a", { value: "1", ttl: "x" }),
    put("/a", { value: "1" }, "ttl=x&noValueOnSuccess=x"), put("/a", { value: "1" }, "prevExist=x&ttl=x"),
    put("/a", undefined, "refresh=true"), put("/a", { value: "x" }, "refresh=true"), put("/a", { ttl: "" }, "refresh=true"),
    del("/a", "ttl=abc"), head("/a", "recursive=x"),
    put("/p1", "value=body", "value=query"), put("/p2", "value=one&value=two"), put("/p3", undefined, "value=q1&value=q2"),
    put("/p1", "value=z&prevExist=false"),
    req("PUT", K + "/p4", { body: '{"value":"json"}', headers: { "Content-Type": "application/json" } }),
    req("PUT", K + "/p5", { body: "value=plain", headers: { "Content-Type": "text/plain" } }),
    req("PUT", K + "/p6", { body: "value=cs", headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" } }),
    req("PUT", K + "/p7", { body: "value=1", headers: { "Content-Type": "application/x-www-form-urlencoded; =" } }),
    put("/p8", "value=%zz"),
    req("DELETE", K + "/p1", { body: "prevValue=other", headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
    req("GET", K + "/p2", { raw: true, body: "recursive=bad", headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
    req("PUT", K + "/big", { form: "value=" + "a".repeat(10 * 1024 * 1024 - 5), timeoutMs: 60_000 }),
    get("/big"),
  );

  // --- escaping, paths, root
  add(
    put("/esc", { value: '<a>&"q"\\\u0001\u0008\u000c\t\n\r\u007f\u2028é€😀' }), put("/%3Cb%3E%26", { value: "k" }),
    put("/bin", "value=%FF%FEok%C3"), put("/a%20b/%C3%BC", { value: "1" }), get("/a%20b", { recursive: "true" }),
    put("/p%2Fq", { value: "x" }), get("/p", { recursive: "true" }), put("/slash/", { value: "1" }), get("/slash/"),
    req("GET", "/v2/keys/df//a?x=1&y=2", { raw: true }), req("PUT", "/v2/keys/df//rd", { raw: true, body: "value=1", headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
    get("/rd"), req("GET", "/v2/keys/df/x/../a", { raw: true }), req("GET", "/v2/keys/df/./a", { raw: true }), req("GET", "//version", { raw: true }),
    req("PUT", "/v2/keys/", { form: { value: "1" } }), req("PUT", "/v2/keys", { form: { value: "1" }, query: { prevExist: "true" } }),
    req("PUT", "/v2/keys/", { form: { value: "1" }, query: { prevValue: "x" } }), req("DELETE", "/v2/keys/", { query: { recursive: "true" } }),
    req("DELETE", "/v2/keys/", { query: { prevValue: "x" } }), req("GET", "/v2/keys/"),
  );

  // --- watches
  add(
    watch("/w1", {}, [put("/w0", { value: "other" }), put("/w1", { value: "1" })], 1),
    watch("/w1", { waitIndex: "@last" }, [], 1),
    watch("/w1", { waitIndex: "@last+2" }, [put("/w1", { value: "2" }), put("/w1", { value: "3" })], 1),
    watch("/w1", { waitIndex: "0" }, [put("/w1", { value: "4" })], 1),
    watch("/ws", { recursive: "true", stream: "true" }, [put("/ws/a", { value: "1" }), put("/ws/_h", { value: "h" }), put("/ws/b/c", { value: "2" }), del("/ws/a")], 3, { quietMs: 300 }),
    watch("/wk", { stream: "true" }, [put("/wk", { value: "1" }, { prevExist: "false" }), put("/wk", { value: "2" }, { prevExist: "true" }), put("/wk", { value: "3" }, { prevValue: "2" }), del("/wk", { prevValue: "3" }), put("/wk", { value: "4" }), del("/wk")], 8, { quietMs: 300 }),
    put("/wa/b/c", { value: "1" }),
    watch("/wa/b/c", {}, [del("/wa", { recursive: "true" })], 1),
    put("/wg/a", { value: "1" }),
    watch("/wg/ghost", {}, [del("/wg", { recursive: "true" }), put("/wg/ghost", { value: "now" })], 1),
    put("/wd", undefined, { dir: "true" }),
    watch("/wd", {}, [put("/wd/child", { value: "1" }), put("/wd", undefined, { dir: "true", prevExist: "true", ttl: "5000" })], 1),
    watch("/wh", { recursive: "true" }, [put("/wh/_x", { value: "1" }), put("/wh/_d/y", { value: "1" }), put("/wh/y", { value: "2" })], 1),
    watch("/wh", { recursive: "true", waitIndex: "@last-2" }, [], 1),
    watch("/wh/_d", { recursive: "true" }, [put("/wh/_d/z", { value: "3" })], 1),
    put("/foo/x", { value: "1" }), del("/foo", { recursive: "true" }),
    watch("/foobar", { waitIndex: "@last" }, [], 1),
    put("/sh", { value: "1" }), put("/sh", { value: "2" }),
    watch("/sh", { stream: "true", waitIndex: "@last-1" }, [put("/sh", { value: "3" })], 1, { quietMs: 500 }),
    watch("/never", { waitIndex: "@last-3" }, [], 1, { timeoutMs: 400 }),
    put("/ex", { value: "v", ttl: "1" }),
    watch("/ex", { waitIndex: "@last+1" }, [], 1, { timeoutMs: 4000 }),
    get("/ex"),
    put("/exd", undefined, { dir: "true", ttl: "1" }), put("/exd/c", { value: "1" }),
    watch("/exd/c", {}, [], 1, { timeoutMs: 4000 }),
    req("GET", "/v2/stats/store"),
  );

  // --- the 1000-event history window
  add(
    put("/hist", { value: "first" }),
    { t: "bulk", n: 1000, path: (i) => `${K}/bulk/${i % 25}`, value: (i) => `b${i}` },
    get("/hist", { wait: "true", waitIndex: "@last-1000" }),
    watch("/hist", { waitIndex: "@last-999" }, [], 1, { timeoutMs: 300 }),
    watch("/bulk", { recursive: "true", waitIndex: "@last-998" }, [], 1),
    req("GET", "/v2/stats/store"),
  );
  return s;
}

/** A small seeded PRNG. */
export const prng = seededRandom;

/**
 * Random operations over a small key space. `known` maps a key to its last modifiedIndex
 * (relative to the script's base index) as the reference server reported it, so CAS and CAD
 * can name a right index some of the time.
 */
export function randomStep(rnd: () => number, known: Map<string, number>): Step {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const keys = ["/r/a", "/r/b", "/r/c/x", "/r/c/y", "/r/c", "/r/_h", "/r/d/e/f", "/r/d", "/r"] as const;
  const values = ["va", "vb", "vc", ""] as const;
  const key = pick(keys);
  const value = pick(values);
  const maybeTtl = (): Pairs => (rnd() < 0.2 ? { ttl: pick(["1000", "2000", ""]) } : {});
  const idx = (): string => {
    const k = known.get(key);
    if (k !== undefined && rnd() < 0.6) return `@base+${k}`;
    return pick(["@last", "@last-1", "@last+3", "0"]);
  };
  const r = rnd();
  if (r < 0.16) {
    const q: Pairs = {};
    if (rnd() < 0.5) q.recursive = "true";
    if (rnd() < 0.5) q.sorted = "true";
    if (rnd() < 0.2) q.quorum = "true";
    return rnd() < 0.1 ? req("HEAD", "/v2/keys" + key, { query: q }) : req("GET", "/v2/keys" + key, { query: q });
  }
  if (r < 0.36) {
    const q: Pairs = rnd() < 0.15 ? { dir: "true" } : {};
    return req("PUT", "/v2/keys" + key, { form: { value, ...maybeTtl() }, query: q });
  }
  if (r < 0.44) return req("PUT", "/v2/keys" + key, { form: { value, ...maybeTtl() }, query: { prevExist: "false", ...(rnd() < 0.2 ? { dir: "true" } : {}) } });
  if (r < 0.52) return req("PUT", "/v2/keys" + key, { form: { value, ...maybeTtl() }, query: { prevExist: "true" } });
  if (r < 0.62) {
    const q: Pairs = {};
    if (rnd() < 0.6) q.prevValue = pick(["va", "vb", "vc"]);
    if (rnd() < 0.6 || !q.prevValue) q.prevIndex = idx();
    if (rnd() < 0.3) q.prevExist = "true";
    return req("PUT", "/v2/keys" + key, { form: { value, ...maybeTtl() }, query: q });
  }
  if (r < 0.68) return req("PUT", "/v2/keys" + key, { form: { ttl: pick(["1000", "3000"]) }, query: { refresh: "true", ...(rnd() < 0.3 ? { prevExist: "true" } : {}) } });
  if (r < 0.78) {
    const q: Pairs = {};
    const d = rnd();
    if (d < 0.3) q.dir = "true";
    else if (d < 0.55) q.recursive = "true";
    return req("DELETE", "/v2/keys" + key, { query: q });
  }
  if (r < 0.85) {
    const q: Pairs = {};
    if (rnd() < 0.6) q.prevValue = pick(["va", "vb", "vc"]);
    if (rnd() < 0.6 || !q.prevValue) q.prevIndex = idx();
    return req("DELETE", "/v2/keys" + key, { query: q });
  }
  if (r < 0.9) return req("POST", "/v2/keys" + pick(["/r/q", "/r/a", "/r/c"]), { form: { value } });
  if (r < 0.95) {
    // A watch served from history, or nothing (then both must time out).
    const q: Pairs = { waitIndex: pick(["@last", "@last-1", "@last-5", "@last-20"]) };
    if (rnd() < 0.5) q.recursive = "true";
    return { t: "watch", path: "/v2/keys" + key, query: { wait: "true", ...q }, during: [], events: 1, timeoutMs: 300 };
  }
  // Validation errors.
  return req(pick(["GET", "PUT", "DELETE"]), "/v2/keys" + key, { query: pick(["recursive=maybe", "prevIndex=-1", "ttl=x", "prevValue=", "refresh=true", "waitIndex=q"]) });
}
