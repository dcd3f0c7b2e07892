// The conformance cases: each one is a small async function against one running member
// (real etcd 3.4.23 with --enable-v2, or ours on Node, Bun or Deno). Every case works under a
// key prefix of its own, never hard-codes an absolute index (it reads the index a previous
// response gave and asserts relations), and checks status, headers and exact bodies.
// The behaviour asserted here is the one of spec/v2-api.md, checked against real etcd.
import * as assert from "uvu/assert";
import { CORS, dir, ev, file, gone } from "./context.ts";
import type { Ctx } from "./context.ts";
import { M, assertBody, assertHeader, assertStatus, unordered } from "./match.ts";
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { sleep, which } from "../support/processes.ts";

export interface Case {
  name: string;
  fn: (c: Ctx) => Promise<void>;
  /** Per-case time limit (default 20 s). */
  timeoutMs?: number;
}

export const cases: Case[] = [];

function tc(name: string, fn: (c: Ctx) => Promise<void>, opts: { timeoutMs?: number } = {}): void {
  if (cases.some((c) => c.name === name)) throw new Error(`duplicate case name: ${name}`);
  cases.push({ name, fn, ...opts });
}

/** A key prefix for a case, derived from its name and position (unique, visible, URL-safe). */
export function prefixFor(name: string, i: number): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);
  return `/c${String(i).padStart(3, "0")}-${slug}`;
}

const LONG_TTL = 3600; // TTLs that must not fire while the suite runs
const HEX_ID = /^[1-9a-f][0-9a-f]*$/;

/** Wait until fn() returns true (polling), or fail with msg. */
async function eventually(fn: () => Promise<boolean>, ms: number, msg: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) assert.unreachable(msg);
    await sleep(100);
  }
}

// =============================================================================================
// 1. /version, /health, CORS, OPTIONS, 404 page, 405s
// =============================================================================================

tc("version: GET", async (c) => {
  const r = await c.get("/version");
  assertStatus(r, 200);
  assertHeader(r, "content-type", "application/json");
  c.cors(r);
  assert.is(r.text, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
});

tc("version: other methods are 405 Allow GET", async (c) => {
  for (const m of ["POST", "PUT", "DELETE", "PATCH", "HEAD"]) c.notAllowed(await c.req(m, "/version"), "GET");
});

tc("health: GET healthy", async (c) => {
  const r = await c.get("/health");
  assertStatus(r, 200);
  assertHeader(r, "content-type", "text/plain; charset=utf-8");
  c.cors(r);
  assert.is(r.text, '{"health":"true"}');
});

tc("health: other methods are 405 Allow GET", async (c) => {
  for (const m of ["POST", "PUT", "DELETE", "HEAD"]) c.notAllowed(await c.req(m, "/health"), "GET");
});

tc("cors: OPTIONS on any path is 200 with an empty body", async (c) => {
  for (const p of [c.k("/x"), "/v2/keys", "/version", "/health", "/v2/members", "/v2/stats/self", "/no/such/path", "/v2/machines"]) {
    const r = await c.req("OPTIONS", p, { headers: { Origin: "http://example.com", "Access-Control-Request-Method": "PUT" } });
    assertStatus(r, 200);
    c.cors(r);
    assert.is(r.text, "", `OPTIONS ${p} body`);
    assertHeader(r, "x-etcd-index", null);
  }
});

tc("cors: headers on key success, key error, 404 page and 405", async (c) => {
  c.cors(await c.put(c.k("/a"), { value: "1" }));
  c.cors(await c.get(c.k("/a"), undefined, { headers: { Origin: "http://other.example" } }));
  c.cors(await c.get(c.k("/missing")));
  c.cors(await c.get("/v2/keys/x", { recursive: "bad" }));
  c.cors(await c.get("/definitely/not/here"));
  c.cors(await c.req("PATCH", c.k("/a")));
  c.cors(await c.get("/v2/members"));
  c.cors(await c.get("/v2/stats/store"));
});

tc("404 page for unknown paths", async (c) => {
  for (const p of ["/nothing", "/v2", "/v2/", "/v2/keysfoo", "/v2/stats", "/v2/stats/", "/v2/stats/bogus", "/v2/machinesx"]) {
    c.notFoundPage(await c.get(p));
  }
});

// =============================================================================================
// 2. /v2/machines, /v2/stats/*, /v2/members
// =============================================================================================

tc("machines: GET lists client URLs as text", async (c) => {
  const r = await c.get("/v2/machines");
  assertStatus(r, 200);
  assertHeader(r, "content-type", "text/plain; charset=utf-8");
  c.cors(r);
  assert.is(r.text, c.env.member.clientURL);
});

tc("machines: HEAD is 200 without a body; POST/PUT/DELETE are 405", async (c) => {
  const h = await c.head("/v2/machines");
  assertStatus(h, 200);
  assert.is(h.text, "");
  for (const m of ["POST", "PUT", "DELETE"]) c.notAllowed(await c.req(m, "/v2/machines"), "GET,HEAD");
});

tc("stats/self: fields, order, no trailing newline", async (c) => {
  const r = await c.get("/v2/stats/self");
  assertStatus(r, 200);
  assertHeader(r, "content-type", "application/json");
  const t = M.re(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  assertBody(
    r.text,
    {
      name: c.env.member.name,
      id: c.env.memberId,
      state: "StateLeader",
      startTime: t,
      leaderInfo: { leader: c.env.memberId, uptime: M.re(/^(\d+h)?(\d+m)?\d+(\.\d+)?(s|ms|µs|ns)$/), startTime: t },
      recvAppendRequestCnt: 0,
      sendAppendRequestCnt: 0,
    },
    "",
  );
});

tc("stats/leader: single member has no followers", async (c) => {
  const r = await c.get("/v2/stats/leader");
  assertStatus(r, 200);
  assertHeader(r, "content-type", "application/json");
  assert.is(r.text, `{"leader":"${c.env.memberId}","followers":{}}`);
});

tc("stats: other methods are 405 Allow GET", async (c) => {
  for (const p of ["/v2/stats/self", "/v2/stats/store", "/v2/stats/leader"]) {
    for (const m of ["POST", "PUT", "DELETE", "HEAD"]) c.notAllowed(await c.req(m, p), "GET");
  }
});

const STORE_STATS_FIELDS = [
  "getsSuccess", "getsFail", "setsSuccess", "setsFail", "deleteSuccess", "deleteFail", "updateSuccess", "updateFail",
  "createSuccess", "createFail", "compareAndSwapSuccess", "compareAndSwapFail", "compareAndDeleteSuccess",
  "compareAndDeleteFail", "expireCount", "watchers",
];

tc("stats/store: every field, in order, no trailing newline", async (c) => {
  const r = await c.get("/v2/stats/store");
  assertStatus(r, 200);
  assertHeader(r, "content-type", "application/json");
  const body: Record<string, unknown> = {};
  for (const f of STORE_STATS_FIELDS) body[f] = M.uint();
  assertBody(r.text, body, "");
});

// Two etcd 3.4 quirks show here. Every /v2/keys request that passes validation first reads
// /2/enabled (v2 auth detection) through the store, a Get that fails: getsFail goes up by one
// per request. And a compareAndDelete that fails its comparison (or hits a directory) is
// counted as a success, because the deferred counter looks at a variable the error path
// never sets; only a missing key counts as compareAndDeleteFail.
tc("stats/store: counters follow store operations", async (c) => {
  await c.mkdir("/d");
  await c.set("/f", "v");
  const s0 = await c.storeStats();
  await c.get(c.k("/f")); // get ok
  await c.head(c.k("/f")); // get ok
  await c.get(c.k("/f"), { quorum: "true" }); // get ok
  await c.get(c.k("/nope")); // get fail
  await c.put(c.k("/g"), { value: "1" }); // set ok
  await c.put(c.k("/d"), { value: "1" }); // set fail (102)
  await c.put(c.k("/h"), { value: "1" }, { prevExist: "false" }); // create ok
  await c.put(c.k("/h"), { value: "1" }, { prevExist: "false" }); // create fail
  await c.post(c.k("/q"), { value: "1" }); // create ok
  await c.put(c.k("/h"), { value: "2" }, { prevExist: "true" }); // update ok
  await c.put(c.k("/nope"), { value: "2" }, { prevExist: "true" }); // update fail
  await c.put(c.k("/h"), { value: "3" }, { prevValue: "2" }); // cas ok
  await c.put(c.k("/h"), { value: "4" }, { prevValue: "2" }); // cas fail
  await c.del(c.k("/h"), { prevValue: "zz" }); // cad compare failure: counted as a success
  await c.del(c.k("/d"), { prevValue: "zz" }); // cad on a directory: counted as a success
  await c.del(c.k("/nope"), { prevValue: "zz" }); // cad on a missing key: fail
  await c.del(c.k("/h"), { prevValue: "3" }); // cad ok
  await c.del(c.k("/g")); // delete ok
  await c.del(c.k("/g")); // delete fail
  await c.get(c.k("/f"), { recursive: "nope" }); // parse error: not a store operation, no auth check
  await c.get("/v2/members"); // no store operation
  await c.get("/v2/machines"); // no store operation
  await c.get("/health"); // a quorum get of the root through raft: one get success
  const s1 = await c.storeStats();
  const authChecks = 19; // keys requests above that passed validation: each auth check is a failed get
  const d = (f: string): number => (s1[f] ?? NaN) - (s0[f] ?? NaN);
  assert.equal(
    Object.fromEntries(STORE_STATS_FIELDS.map((f) => [f, d(f)])),
    {
      getsSuccess: 4, getsFail: 1 + authChecks, setsSuccess: 1, setsFail: 1, deleteSuccess: 1, deleteFail: 1, updateSuccess: 1,
      updateFail: 1, createSuccess: 2, createFail: 1, compareAndSwapSuccess: 1, compareAndSwapFail: 1,
      compareAndDeleteSuccess: 3, compareAndDeleteFail: 1, expireCount: 0, watchers: 0,
    },
  );
});

tc("stats/store: watchers counts registered watchers", async (c) => {
  const base = (await c.storeStats()).watchers!;
  const w = c.watch(c.k("/w"));
  await w.response();
  await eventually(async () => (await c.storeStats()).watchers === base + 1, 3000, "watchers did not go up by 1");
  await c.set("/w", "1");
  await w.next();
  await eventually(async () => (await c.storeStats()).watchers === base, 3000, "watchers did not go back down after the event");
  const w2 = c.watch(c.k("/w2"));
  await w2.response();
  await eventually(async () => (await c.storeStats()).watchers === base + 1, 3000, "watchers did not go up by 1 (second watch)");
  w2.close();
  await eventually(async () => (await c.storeStats()).watchers === base, 5000, "watchers did not go down after the client closed the watch");
});

function memberJSON(c: Ctx): Record<string, unknown> {
  return { id: c.env.memberId, name: c.env.member.name, peerURLs: [c.env.member.peerURL], clientURLs: [c.env.member.clientURL] };
}

tc("members: GET lists this member (with and without trailing slash)", async (c) => {
  for (const p of ["/v2/members", "/v2/members/"]) {
    const r = await c.get(p);
    assertStatus(r, 200);
    assertHeader(r, "content-type", "application/json");
    assertHeader(r, "x-etcd-cluster-id", c.env.clusterId);
    c.cors(r);
    assert.is(r.text, JSON.stringify({ members: [memberJSON(c)] }) + "\n");
  }
  assert.ok(HEX_ID.test(c.env.memberId), `member id ${c.env.memberId} is lower-case hex without padding`);
});

tc("members: GET leader", async (c) => {
  const r = await c.get("/v2/members/leader");
  assertStatus(r, 200);
  assertHeader(r, "content-type", "application/json");
  assertHeader(r, "x-etcd-cluster-id", c.env.clusterId);
  assert.is(r.text, JSON.stringify(memberJSON(c)) + "\n");
});

tc("members: GET of anything else is 404 Not found", async (c) => {
  for (const p of ["/v2/members/xyz", `/v2/members/${c.env.memberId}`, "/v2/members/leader/x"]) {
    const r = await c.get(p);
    assertStatus(r, 404);
    assertHeader(r, "content-type", "application/json");
    assertHeader(r, "x-etcd-cluster-id", c.env.clusterId);
    assert.is(r.text, '{"message":"Not found"}');
  }
});

tc("members: PATCH and HEAD are 405 Allow GET,POST,DELETE,PUT", async (c) => {
  for (const m of ["PATCH", "HEAD"]) {
    const r = await c.req(m, "/v2/members");
    c.notAllowed(r, "GET,POST,DELETE,PUT");
    assertHeader(r, "x-etcd-cluster-id", null);
  }
});

tc("members: POST needs application/json (415)", async (c) => {
  const r = await c.post("/v2/members", '{"peerURLs":["http://127.0.0.1:1"]}');
  assertStatus(r, 415);
  assertHeader(r, "content-type", "application/json");
  assertHeader(r, "x-etcd-cluster-id", c.env.clusterId);
  assert.is(r.text, '{"message":"Bad Content-Type application/x-www-form-urlencoded, accept application/json"}');
  const r2 = await c.req("POST", "/v2/members", { body: "{}", headers: { "Content-Type": "text/plain" } });
  assertStatus(r2, 415);
  assert.is(r2.text, '{"message":"Bad Content-Type text/plain, accept application/json"}');
});

tc("members: POST validation errors are 400", async (c) => {
  const post = (body: string, ct = "application/json"): Promise<import("../support/http.ts").Res> =>
    c.req("POST", "/v2/members", { body, headers: { "Content-Type": ct } });
  const cases: Array<[string, string, string?]> = [
    ['{"peerURLs":["127.0.0.1:22380"]}', 'parse "127.0.0.1:22380": first path segment in URL cannot contain colon'],
    ['{"peerURLs":[]}', "no valid URLs given"],
    ["{}", "no valid URLs given"],
    ['{"peerURLs":["ftp://127.0.0.1:1"]}', "URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1"],
    ['{"peerURLs":["http://127.0.0.1"]}', 'URL address does not have the form "host:port": http://127.0.0.1'],
    ['{"peerURLs":["http://127.0.0.1:1/path"]}', "URL must not contain a path: http://127.0.0.1:1/path"],
    ["notjson", "invalid character 'o' in literal null (expecting 'u')"],
    // Content-Type parameters are allowed: the body is still parsed (and rejected here).
    ['{"peerURLs":[]}', "no valid URLs given", "application/json; charset=utf-8"],
  ];
  for (const [body, msg, ct] of cases) {
    const r = await post(body, ct);
    assertStatus(r, 400);
    assertHeader(r, "content-type", "application/json");
    assertHeader(r, "x-etcd-cluster-id", c.env.clusterId);
    assert.is(r.text, JSON.stringify({ message: msg }), `POST /v2/members ${body}`);
  }
});

tc("members: POST with an existing peer URL is 409", async (c) => {
  const r = await c.req("POST", "/v2/members", { body: JSON.stringify({ peerURLs: [c.env.member.peerURL] }), headers: { "Content-Type": "application/json" } });
  assertStatus(r, 409);
  assertHeader(r, "content-type", "application/json");
  assert.is(r.text, '{"message":"membership: peerURL exists"}');
  // The cluster is unchanged.
  const g = await c.get("/v2/members");
  assert.is(g.text, JSON.stringify({ members: [memberJSON(c)] }) + "\n");
});

tc("members: DELETE and PUT error paths", async (c) => {
  for (const p of ["/v2/members", "/v2/members/"]) {
    for (const m of ["DELETE", "PUT"]) {
      const r = await c.req(m, p, { body: '{"peerURLs":["http://127.0.0.1:9"]}', headers: { "Content-Type": "application/json" } });
      c.notAllowed(r, null);
      assertHeader(r, "x-etcd-cluster-id", c.env.clusterId);
    }
  }
  for (const id of ["zzz", "1234"]) {
    const r = await c.del(`/v2/members/${id}`);
    assertStatus(r, 404);
    assertHeader(r, "content-type", "application/json");
    assert.is(r.text, `{"message":"No such member: ${id}"}`);
  }
  const u = await c.req("PUT", "/v2/members/1234", { body: '{"peerURLs":["http://127.0.0.1:9"]}', headers: { "Content-Type": "application/json" } });
  assertStatus(u, 404);
  assert.is(u.text, '{"message":"No such member: 1234"}');
  const u2 = await c.req("PUT", "/v2/members/1234", { form: "x" });
  assertStatus(u2, 415);
  assert.is(u2.text, '{"message":"Bad Content-Type application/x-www-form-urlencoded, accept application/json"}');
  const u3 = await c.req("PUT", `/v2/members/${c.env.memberId}`, { body: '{"peerURLs":["http://127.0.0.1"]}', headers: { "Content-Type": "application/json" } });
  assertStatus(u3, 400);
  assert.is(u3.text, JSON.stringify({ message: 'URL address does not have the form "host:port": http://127.0.0.1' }));
});

// =============================================================================================
// 3. Parsing and validation (§3): every row of the table, and the order between them
// =============================================================================================

tc("parse: 210 invalid URL escape in the query", async (c) => {
  c.bad(await c.get(c.k("/a"), "x=%zz"), 210, 'invalid URL escape "%zz"');
  // Checked before everything else.
  c.bad(await c.get(c.k("/a"), "prevIndex=x&recursive=x&v=%zz"), 210, 'invalid URL escape "%zz"');
});

tc("parse: 210 invalid URL escape in a form body", async (c) => {
  c.bad(await c.put(c.k("/a"), "value=%zz"), 210, 'invalid URL escape "%zz"');
  c.bad(await c.post(c.k("/a"), "value=%g0"), 210, 'invalid URL escape "%g0"');
});

tc("parse: 210 semicolon in the query", async (c) => {
  c.bad(await c.get(c.k("/a"), "a=1;b=2"), 210, "invalid semicolon separator in query");
  c.bad(await c.put(c.k("/a"), { value: "x" }, "x;"), 210, "invalid semicolon separator in query");
});

tc("parse: 210 malformed Content-Type", async (c) => {
  const r = await c.put(c.k("/a"), "value=1", undefined, { headers: { "Content-Type": "application/x-www-form-urlencoded; =" } });
  c.bad(r, 210, "mime: invalid media parameter");
});

tc("parse: 210 form body over 10 MiB; exactly 10 MiB is fine", async (c) => {
  const over = "value=" + "a".repeat(10 * 1024 * 1024 - 6 + 1);
  c.bad(await c.put(c.k("/big"), over, undefined, { timeoutMs: 60_000 }), 210, "http: POST too large");
  c.err(await c.get(c.k("/big")), 404, 100, c.key(), await c.index());
  const exact = "value=" + "b".repeat(10 * 1024 * 1024 - 6);
  const r = await c.put(c.k("/big"), exact, undefined, { timeoutMs: 60_000 });
  assertStatus(r, 201);
  const g = await c.get(c.k("/big"));
  assertStatus(g, 200);
  assert.is(g.json().node.value.length, 10 * 1024 * 1024 - 6);
}, { timeoutMs: 90_000 });

tc("parse: a large value (2 MiB) is accepted", async (c) => {
  const v = "x".repeat(2 * 1024 * 1024);
  const r = await c.put(c.k("/v"), { value: v });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/v"), v, i)), i);
});

tc("parse: 203 prevIndex is not a uint", async (c) => {
  for (const v of ["-1", "+1", "1.5", "abc", "", " 1", "0x1", "18446744073709551616"]) {
    c.bad(await c.get(c.k("/a"), `prevIndex=${encodeURIComponent(v)}`), 203, 'invalid value for "prevIndex"');
  }
  // prevIndex is checked before waitIndex and the booleans.
  c.bad(await c.get(c.k("/a"), "waitIndex=x&recursive=x&prevIndex=x"), 203, 'invalid value for "prevIndex"');
});

tc("parse: 203 waitIndex is not a uint", async (c) => {
  for (const v of ["-1", "abc", "", "1e3"]) {
    c.bad(await c.get(c.k("/a"), `waitIndex=${encodeURIComponent(v)}`), 203, 'invalid value for "waitIndex"');
  }
  c.bad(await c.get(c.k("/a"), "recursive=x&waitIndex=x"), 203, 'invalid value for "waitIndex"');
  // Also without wait, and on other methods.
  c.bad(await c.put(c.k("/a"), { value: "1" }, "waitIndex=-2"), 203, 'invalid value for "waitIndex"');
});

tc("parse: 209 bad booleans, checked in order recursive sorted wait dir quorum stream", async (c) => {
  const order = ["recursive", "sorted", "wait", "dir", "quorum", "stream"];
  for (let i = 0; i < order.length; i++) {
    // All of this one and the later ones are bad: the first in order wins.
    const q = order.slice(i).reverse().map((n) => `${n}=maybe`).join("&");
    c.bad(await c.get(c.k("/a"), q), 209, `invalid value for "${order[i]}"`);
  }
  // Present but empty is invalid too.
  c.bad(await c.get(c.k("/a"), "recursive="), 209, 'invalid value for "recursive"');
  c.bad(await c.get(c.k("/a"), "stream="), 209, 'invalid value for "stream"');
});

tc("parse: booleans accept every strconv.ParseBool spelling", async (c) => {
  await c.set("/a", "1");
  for (const v of ["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"]) {
    const r = await c.get(c.k("/a"), `recursive=${v}&sorted=${v}&quorum=${v}`);
    assertStatus(r, 200);
  }
  for (const v of ["yes", "tRUE", "on", "2"]) c.bad(await c.get(c.k("/a"), `sorted=${v}`), 209, 'invalid value for "sorted"');
});

tc("parse: 209 wait on a method other than GET", async (c) => {
  for (const m of ["PUT", "POST", "DELETE"]) {
    c.bad(await c.req(m, c.k("/a"), { query: "wait=true" }), 209, '"wait" can only be used with GET requests');
  }
  // wait=false is fine on PUT.
  assertStatus(await c.put(c.k("/a"), { value: "1" }, "wait=false"), 201);
  // The boolean checks come first...
  c.bad(await c.put(c.k("/a"), { value: "1" }, "wait=true&stream=x"), 209, 'invalid value for "stream"');
  // ...and the wait check comes before prevValue.
  c.bad(await c.put(c.k("/a"), { value: "1" }, "wait=true&prevValue="), 209, '"wait" can only be used with GET requests');
});

tc("parse: 201 empty prevValue, on any method", async (c) => {
  c.bad(await c.put(c.k("/a"), { value: "1" }, "prevValue="), 201, '"prevValue" cannot be empty');
  c.bad(await c.get(c.k("/a"), "prevValue="), 201, '"prevValue" cannot be empty');
  c.bad(await c.del(c.k("/a"), "prevValue="), 201, '"prevValue" cannot be empty');
  // Before noValueOnSuccess, ttl, prevExist, refresh.
  c.bad(await c.put(c.k("/a"), undefined, "refresh=x&prevExist=x&ttl=x&noValueOnSuccess=x&prevValue="), 201, '"prevValue" cannot be empty');
});

tc("parse: 209 noValueOnSuccess, before ttl", async (c) => {
  c.bad(await c.put(c.k("/a"), { value: "1" }, "noValueOnSuccess=x"), 209, 'invalid value for "noValueOnSuccess"');
  c.bad(await c.put(c.k("/a"), { value: "1" }, "ttl=x&noValueOnSuccess=x"), 209, 'invalid value for "noValueOnSuccess"');
});

tc("parse: 202 ttl is not a uint; empty ttl is no TTL", async (c) => {
  for (const v of ["abc", "-1", "+1", "1.5", " 1", "1s"]) {
    c.bad(await c.put(c.k("/a"), { value: "1", ttl: v }), 202, 'invalid value for "ttl"');
  }
  c.bad(await c.del(c.k("/a"), "ttl=abc"), 202, 'invalid value for "ttl"');
  c.bad(await c.get(c.k("/a"), "ttl=-5"), 202, 'invalid value for "ttl"');
  // Before prevExist.
  c.bad(await c.put(c.k("/a"), { value: "1" }, "prevExist=x&ttl=x"), 202, 'invalid value for "ttl"');
  const r = await c.put(c.k("/a"), { value: "1", ttl: "" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "1", i)), i);
});

tc("parse: 209 prevExist (no quotes in the cause), before refresh", async (c) => {
  c.bad(await c.put(c.k("/a"), { value: "1" }, "prevExist=maybe"), 209, "invalid value for prevExist");
  c.bad(await c.put(c.k("/a"), { value: "1" }, "prevExist="), 209, "invalid value for prevExist");
  c.bad(await c.put(c.k("/a"), { value: "1" }, "refresh=x&prevExist=x"), 209, "invalid value for prevExist");
});

tc("parse: 209 refresh (no quotes in the cause)", async (c) => {
  c.bad(await c.put(c.k("/a"), { value: "1" }, "refresh=maybe"), 209, "invalid value for refresh");
  c.bad(await c.put(c.k("/a"), { value: "1" }, "refresh="), 209, "invalid value for refresh");
});

tc("parse: 211 value on refresh, before 212", async (c) => {
  c.bad(await c.put(c.k("/a"), { value: "x" }, "refresh=true"), 211, "A value was provided on a refresh");
  c.bad(await c.put(c.k("/a"), { value: "x", ttl: "5" }, "refresh=true"), 211, "A value was provided on a refresh");
});

tc("parse: 212 refresh without a ttl, on any method", async (c) => {
  c.bad(await c.put(c.k("/a"), undefined, "refresh=true"), 212, "No TTL value set");
  c.bad(await c.put(c.k("/a"), { ttl: "" }, "refresh=true"), 212, "No TTL value set");
  c.bad(await c.put(c.k("/a"), { value: "" }, "refresh=true"), 212, "No TTL value set");
  c.bad(await c.get(c.k("/a"), "refresh=true"), 212, "No TTL value set");
});

tc("parse: validation errors carry X-Etcd-Index 0 and no X-Raft headers on HEAD", async (c) => {
  const r = await c.head(c.k("/a"), "recursive=x");
  assertStatus(r, 400);
  assertHeader(r, "x-etcd-index", "0");
  assertHeader(r, "x-raft-index", null);
  assertHeader(r, "content-type", "application/json");
  assert.is(r.text, "");
});

tc("parse: value in the query works for PUT and POST", async (c) => {
  const r = await c.put(c.k("/a"), undefined, { value: "q" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "q", i)), i);
  const p = await c.post(c.k("/q"), undefined, { value: "qq" });
  const j = p.etcdIndex;
  assert.is(j, i + 1);
  c.ok(p, 201, ev("create", file(c.key("/q/" + String(j).padStart(20, "0")), "qq", j)), j);
});

tc("parse: the form body wins over the query; first value wins", async (c) => {
  const r = await c.put(c.k("/a"), "value=body", "value=query");
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "body", i)), i);
  const r2 = await c.put(c.k("/b"), "value=one&value=two");
  const j = r2.etcdIndex;
  c.ok(r2, 201, ev("set", file(c.key("/b"), "one", j)), j);
  const r3 = await c.put(c.k("/c"), undefined, "value=q1&value=q2");
  c.ok(r3, 201, ev("set", file(c.key("/c"), "q1", j + 1)), j + 1);
  // Other parameters come from the body too: prevExist=false in the body makes a create.
  const r4 = await c.put(c.k("/a"), "value=z&prevExist=false");
  c.err(r4, 412, 105, c.key("/a"), j + 1);
  // A body value overrides a query value for prevValue (CAS compares against the body's).
  const r5 = await c.put(c.k("/a"), "value=new&prevValue=body", "prevValue=wrong");
  c.ok(r5, 200, ev("compareAndSwap", file(c.key("/a"), "new", j + 2, i), file(c.key("/a"), "body", i)), j + 2);
});

tc("parse: form Content-Type with parameters is parsed", async (c) => {
  const r = await c.put(c.k("/a"), "value=cs", undefined, { headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" } });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "cs", i)), i);
});

tc("parse: a JSON or untyped body is ignored (value is empty)", async (c) => {
  const r = await c.put(c.k("/a"), undefined, undefined, { body: '{"value":"json"}', headers: { "Content-Type": "application/json" } });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "", i)), i);
  const r2 = await c.put(c.k("/b"), undefined, undefined, { body: "value=plain", headers: { "Content-Type": "text/plain" } });
  c.ok(r2, 201, ev("set", file(c.key("/b"), "", i + 1)), i + 1);
});

tc("parse: a DELETE body is never parsed", async (c) => {
  const s = await c.set("/a", "real");
  const i = s.etcdIndex;
  const r = await c.del(c.k("/a"), undefined, { form: "prevValue=other" });
  c.ok(r, 200, ev("delete", gone(c.key("/a"), i + 1, i), file(c.key("/a"), "real", i)), i + 1);
  // Nor are bad values in it.
  await c.set("/b", "x");
  const r2 = await c.del(c.k("/b"), undefined, { form: "recursive=bad&prevIndex=x" });
  assertStatus(r2, 200);
});

tc("parse: a GET body is never parsed", async (c) => {
  const s = await c.set("/a", "v");
  const i = s.etcdIndex;
  const r = await c.raw("GET", c.k("/a"), { body: "recursive=bad&wait=true", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  c.ok(r, 200, ev("get", file(c.key("/a"), "v", i)), i);
});

tc("parse: unknown parameters are ignored; unused ones still validated", async (c) => {
  const r = await c.put(c.k("/a"), { value: "1", bogus: "zz" }, "recursive=true&sorted=true&stream=false");
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "1", i)), i);
  // prevExist on POST is parsed and validated, then ignored.
  c.bad(await c.post(c.k("/q"), { value: "1" }, "prevExist=x"), 209, "invalid value for prevExist");
  const p = await c.post(c.k("/q"), { value: "1" }, "prevExist=true");
  assertStatus(p, 201);
  assert.is(p.json().action, "create");
});

// =============================================================================================
// 4. Method dispatch (§4)
// =============================================================================================

tc("dispatch: keys 405 with Allow HEAD,GET,PUT,POST,DELETE", async (c) => {
  for (const m of ["PATCH", "PROPFIND", "TRACE"]) {
    const r = m === "TRACE" ? await c.raw(m, c.k("/a")) : await c.req(m, c.k("/a"));
    c.notAllowed(r, "HEAD,GET,PUT,POST,DELETE");
    assertHeader(r, "x-etcd-cluster-id", null);
  }
  c.notAllowed(await c.req("PATCH", "/v2/keys"), "HEAD,GET,PUT,POST,DELETE");
});

tc("dispatch: plain PUT is set (201 new, 200 existing)", async (c) => {
  const r1 = await c.put(c.k("/a"), { value: "1" });
  const i = r1.etcdIndex;
  c.ok(r1, 201, ev("set", file(c.key("/a"), "1", i)), i);
  const r2 = await c.put(c.k("/a"), { value: "2" });
  c.ok(r2, 200, ev("set", file(c.key("/a"), "2", i + 1), file(c.key("/a"), "1", i)), i + 1);
});

tc("dispatch: PUT prevExist=false is create (201), prevValue/prevIndex ignored", async (c) => {
  const r = await c.put(c.k("/a"), { value: "1" }, { prevExist: "false", prevValue: "zzz", prevIndex: "99999" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("create", file(c.key("/a"), "1", i)), i);
});

tc("dispatch: PUT prevExist=true is update (200)", async (c) => {
  const s = await c.set("/a", "1");
  const i = s.etcdIndex;
  const r = await c.put(c.k("/a"), { value: "2" }, { prevExist: "true" });
  c.ok(r, 200, ev("update", file(c.key("/a"), "2", i + 1, i), file(c.key("/a"), "1", i)), i + 1);
});

tc("dispatch: PUT prevExist=true with prevValue or prevIndex is compareAndSwap", async (c) => {
  const s = await c.set("/a", "1");
  const i = s.etcdIndex;
  const r = await c.put(c.k("/a"), { value: "2" }, { prevExist: "true", prevValue: "1" });
  c.ok(r, 200, ev("compareAndSwap", file(c.key("/a"), "2", i + 1, i), file(c.key("/a"), "1", i)), i + 1);
  const r2 = await c.put(c.k("/a"), { value: "3" }, { prevExist: "true", prevIndex: String(i + 1) });
  c.ok(r2, 200, ev("compareAndSwap", file(c.key("/a"), "3", i + 2, i), file(c.key("/a"), "2", i + 1, i)), i + 2);
});

tc("dispatch: PUT with prevValue or prevIndex>0 is compareAndSwap; prevIndex=0 is set", async (c) => {
  const s = await c.set("/a", "1");
  const i = s.etcdIndex;
  const r = await c.put(c.k("/a"), { value: "2" }, { prevValue: "1" });
  c.ok(r, 200, ev("compareAndSwap", file(c.key("/a"), "2", i + 1, i), file(c.key("/a"), "1", i)), i + 1);
  const r2 = await c.put(c.k("/a"), { value: "3" }, { prevIndex: String(i + 1) });
  c.ok(r2, 200, ev("compareAndSwap", file(c.key("/a"), "3", i + 2, i), file(c.key("/a"), "2", i + 1, i)), i + 2);
  const r3 = await c.put(c.k("/a"), { value: "4" }, { prevIndex: "0" });
  c.ok(r3, 200, ev("set", file(c.key("/a"), "4", i + 3), file(c.key("/a"), "3", i + 2, i)), i + 3);
});

tc("dispatch: DELETE with prevValue or prevIndex>0 is compareAndDelete; prevIndex=0 is delete", async (c) => {
  const a = await c.set("/a", "1");
  const i = a.etcdIndex;
  c.ok(await c.del(c.k("/a"), { prevValue: "1" }), 200, ev("compareAndDelete", gone(c.key("/a"), i + 1, i), file(c.key("/a"), "1", i)), i + 1);
  await c.set("/b", "1");
  c.ok(await c.del(c.k("/b"), { prevIndex: String(i + 2) }), 200, ev("compareAndDelete", gone(c.key("/b"), i + 3, i + 2), file(c.key("/b"), "1", i + 2)), i + 3);
  await c.set("/c", "1");
  c.ok(await c.del(c.k("/c"), { prevIndex: "0" }), 200, ev("delete", gone(c.key("/c"), i + 5, i + 4), file(c.key("/c"), "1", i + 4)), i + 5);
});

tc("dispatch: POST is create with an in-order name (201)", async (c) => {
  const r = await c.post(c.k("/q"), { value: "job" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("create", file(c.key("/q/" + String(i).padStart(20, "0")), "job", i)), i);
});

tc("dispatch: GET wait=true&quorum=true is a plain get, answered at once", async (c) => {
  const s = await c.set("/a", "1");
  const i = s.etcdIndex;
  const t0 = Date.now();
  const r = await c.get(c.k("/a"), { wait: "true", quorum: "true" }, { timeoutMs: 4000 });
  c.ok(r, 200, ev("get", file(c.key("/a"), "1", i)), i);
  assert.ok(Date.now() - t0 < 3000, "answered at once");
  // Also on a key that does not exist: an error, not a watch.
  c.err(await c.get(c.k("/none"), { wait: "true", quorum: "true" }, { timeoutMs: 4000 }), 404, 100, c.key("/none"), i);
});

tc("dispatch: HEAD gives the GET headers and no body", async (c) => {
  const s = await c.set("/a", "1");
  const i = s.etcdIndex;
  const r = await c.head(c.k("/a"));
  assertStatus(r, 200);
  assertHeader(r, "content-type", "application/json");
  assertHeader(r, "x-etcd-index", String(i));
  assertHeader(r, "x-etcd-cluster-id", c.env.clusterId);
  assertHeader(r, "x-raft-index", /^\d+$/);
  assertHeader(r, "x-raft-term", /^\d+$/);
  assert.is(r.text, "");
  const r2 = await c.head(c.k("/missing"));
  assertStatus(r2, 404);
  assertHeader(r2, "x-etcd-index", String(i));
  assertHeader(r2, "x-raft-index", null);
  assert.is(r2.text, "");
  // HEAD is a read: the index did not move.
  assert.is(await c.index(), i);
});

// =============================================================================================
// 5. Response format (§5)
// =============================================================================================

tc("format: root GET has no key and no indexes", async (c) => {
  for (const p of ["/v2/keys", "/v2/keys/"]) {
    const r = await c.get(p);
    const b = c.ok(r, 200, { action: "get", node: M.any("object") });
    const keys = Object.keys(b.node);
    assert.equal(keys.filter((k) => k !== "nodes"), ["dir"], `root node fields: ${keys}`);
    assert.is(b.node.dir, true);
    assert.ok(keys.length === 1 || keys[1] === "nodes");
  }
});

tc("format: root listing shows top-level keys and hides hidden ones", async (c) => {
  const s = await c.set("/a", "1");
  const i = s.etcdIndex;
  const hidden = "/_hidden" + c.p.replace(/\//g, "-");
  const h = await c.put("/v2/keys" + hidden, { value: "h" });
  assertStatus(h, 201);
  c.onCleanup(async () => { await c.del("/v2/keys" + hidden); });
  const r = await c.get("/v2/keys/");
  const b = r.json();
  const mine = (b.node.nodes as Array<Record<string, unknown>>).find((n) => n.key === c.key());
  assert.equal(mine, dir(c.key(), i, i), "the case's directory appears without its children");
  assert.ok(!(b.node.nodes as Array<Record<string, unknown>>).some((n) => String(n.key).startsWith("/_")), "no hidden node listed");
  for (const n of b.node.nodes as Array<Record<string, unknown>>) assert.ok(!("nodes" in n), "non-recursive: no grandchildren");
});

tc("format: empty value is present, dir is never false", async (c) => {
  const r = await c.put(c.k("/e"), { value: "" });
  const i = r.etcdIndex;
  assert.ok(r.text.includes('"value":""'), "value present when empty");
  c.ok(r, 201, ev("set", file(c.key("/e"), "", i)), i);
  const d = await c.put(c.k("/d"), { value: "ignored" }, { dir: "true" });
  c.ok(d, 201, ev("set", dir(c.key("/d"), i + 1)), i + 1);
  c.ok(await c.get(c.k("/e")), 200, ev("get", file(c.key("/e"), "", i)), i + 1);
  const g = await c.get(c.k("/d"));
  c.ok(g, 200, ev("get", dir(c.key("/d"), i + 1)), i + 1);
  assert.not.ok(g.text.includes('"dir":false'));
});

tc("format: JSON escaping is Go's (HTML characters, U+2028, control characters)", async (c) => {
  const r = await c.put(c.k("/esc"), { value: '<a>&"q"\\\u0001\u0008\u000c\t\n\r\u007f\u2028\u2029é€😀' });
  const i = r.etcdIndex;
  assertStatus(r, 201);
  assert.is(
    r.text,
    `{"action":"set","node":{"key":"${c.key("/esc")}","value":"\\u003ca\\u003e\\u0026\\"q\\"\\\\\\u0001\\u0008\\u000c\\t\\n\\r\u007f\\u2028\\u2029é€😀","modifiedIndex":${i},"createdIndex":${i}}}\n`,
  );
  // Keys are escaped the same way.
  const k = await c.put(c.k("/%3Cb%3E%26"), { value: "k" });
  assert.is(k.text, `{"action":"set","node":{"key":"${c.key("/\\u003cb\\u003e\\u0026")}","value":"k","modifiedIndex":${i + 1},"createdIndex":${i + 1}}}\n`);
});

tc("format: invalid UTF-8 in a value becomes U+FFFD", async (c) => {
  const r = await c.put(c.k("/bin"), "value=%FF%FEok%C3");
  const i = r.etcdIndex;
  assertStatus(r, 201);
  assert.is(r.text, `{"action":"set","node":{"key":"${c.key("/bin")}","value":"\\ufffd\\ufffdok\\ufffd","modifiedIndex":${i},"createdIndex":${i}}}\n`);
});

tc("format: keys with spaces and unicode", async (c) => {
  const r = await c.put(c.k("/a%20b/%C3%BC"), { value: "1" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a b/ü"), "1", i)), i);
  c.ok(await c.get(c.k("/a%20b"), { recursive: "true" }), 200, ev("get", dir(c.key("/a b"), i, i, { nodes: [file(c.key("/a b/ü"), "1", i)] })), i);
});

tc("format: noValueOnSuccess returns only the action", async (c) => {
  const nv = { noValueOnSuccess: "true" };
  const r1 = await c.put(c.k("/a"), { value: "1" }, nv);
  const i = r1.etcdIndex;
  c.ok(r1, 201, { action: "set" }, i);
  c.ok(await c.put(c.k("/a"), { value: "2" }, nv), 200, { action: "set" }, i + 1);
  c.ok(await c.put(c.k("/b"), { value: "1" }, { ...nv, prevExist: "false" }), 201, { action: "create" }, i + 2);
  c.ok(await c.put(c.k("/b"), { value: "2" }, { ...nv, prevExist: "true" }), 200, { action: "update" }, i + 3);
  c.ok(await c.put(c.k("/b"), { value: "3" }, { ...nv, prevValue: "2" }), 200, { action: "compareAndSwap" }, i + 4);
  c.ok(await c.post(c.k("/q"), { value: "1" }, nv), 201, { action: "create" }, i + 5);
  c.ok(await c.put(c.k("/d"), undefined, { ...nv, dir: "true" }), 201, { action: "set" }, i + 6);
  // No effect on get, delete, compareAndDelete, or errors.
  c.ok(await c.get(c.k("/a"), nv), 200, ev("get", file(c.key("/a"), "2", i + 1)), i + 6);
  c.ok(await c.del(c.k("/a"), nv), 200, ev("delete", gone(c.key("/a"), i + 7, i + 1), file(c.key("/a"), "2", i + 1)), i + 7);
  c.ok(await c.del(c.k("/b"), { ...nv, prevValue: "3" }), 200, ev("compareAndDelete", gone(c.key("/b"), i + 8, i + 2), file(c.key("/b"), "3", i + 4, i + 2)), i + 8);
  c.err(await c.put(c.k("/b"), { value: "1" }, { ...nv, prevExist: "true" }), 404, 100, c.key("/b"), i + 8);
  // noValueOnSuccess=false is the normal body.
  c.ok(await c.put(c.k("/a"), { value: "x" }, { noValueOnSuccess: "false" }), 201, ev("set", file(c.key("/a"), "x", i + 9)), i + 9);
});

tc("format: X-Etcd-Index on GET is the store index, not the node's", async (c) => {
  const s = await c.set("/a", "1");
  const i = s.etcdIndex;
  await c.set("/b", "2");
  await c.set("/c", "3");
  c.ok(await c.get(c.k("/a")), 200, ev("get", file(c.key("/a"), "1", i)), i + 2);
});

tc("format: X-Raft-Index and X-Raft-Term on success only; cluster ID is stable hex", async (c) => {
  const r = await c.put(c.k("/a"), { value: "1" });
  assertHeader(r, "x-raft-index", /^[1-9]\d*$/);
  assertHeader(r, "x-raft-term", /^[1-9]\d*$/);
  assert.ok(Number(r.header("x-raft-index")) >= r.etcdIndex, "raft index counts at least the store writes");
  const e = await c.get(c.k("/missing"));
  assertHeader(e, "x-raft-index", null);
  assertHeader(e, "x-raft-term", null);
  assertHeader(e, "x-etcd-cluster-id", c.env.clusterId);
  assert.ok(HEX_ID.test(c.env.clusterId), "cluster id is lower-case hex without zero padding");
  // The raft index does not go backwards.
  const r2 = await c.put(c.k("/a"), { value: "2" });
  assert.ok(Number(r2.header("x-raft-index")) > Number(r.header("x-raft-index")));
});

tc("format: a delete of a directory shows prevNode without nodes", async (c) => {
  const a = await c.set("/d/x/y", "1");
  const i = a.etcdIndex;
  await c.set("/d/z", "2");
  const r = await c.del(c.k("/d"), { recursive: "true" });
  c.ok(r, 200, ev("delete", gone(c.key("/d"), i + 2, i, true), dir(c.key("/d"), i, i)), i + 2);
});

// =============================================================================================
// 6. Operations (§6)
// =============================================================================================

tc("get: missing key, cause is the first missing component", async (c) => {
  await c.mkdir("/d");
  const i = await c.index();
  c.err(await c.get(c.k("/nope")), 404, 100, c.key("/nope"), i);
  c.err(await c.get(c.k("/d/a/b/c")), 404, 100, c.key("/d/a"), i);
  c.err(await c.get(c.k("/x/y")), 404, 100, c.key("/x"), i);
  c.err(await c.get(c.k("/nope"), { quorum: "true" }), 404, 100, c.key("/nope"), i);
});

tc("get: a file in the middle of the path is 104 (HTTP 400) for every operation", async (c) => {
  const s = await c.set("/f", "1");
  const i = s.etcdIndex;
  const f = c.key("/f");
  c.err(await c.get(c.k("/f/x")), 400, 104, f, i);
  c.err(await c.get(c.k("/f/x/y")), 400, 104, f, i);
  c.err(await c.put(c.k("/f/x"), { value: "1" }), 400, 104, f, i);
  c.err(await c.put(c.k("/f/x"), { value: "1" }, { prevExist: "false" }), 400, 104, f, i);
  c.err(await c.put(c.k("/f/x"), { value: "1" }, { prevExist: "true" }), 400, 104, f, i);
  c.err(await c.put(c.k("/f/x"), { value: "1" }, { prevValue: "1" }), 400, 104, f, i);
  c.err(await c.del(c.k("/f/x")), 400, 104, f, i);
  c.err(await c.del(c.k("/f/x"), { prevValue: "1" }), 400, 104, f, i);
  c.err(await c.post(c.k("/f"), { value: "1" }), 400, 104, f, i);
  assert.is(await c.index(), i, "failed writes do not move the index");
});

tc("get: directory listing, direct children only", async (c) => {
  const a = await c.set("/d/a", "1");
  const i = a.etcdIndex;
  await c.set("/d/sub/x", "2");
  await c.set("/d/_h", "hidden");
  await c.set("/d/sub/_h2", "hidden");
  c.ok(
    await c.get(c.k("/d")),
    200,
    ev("get", dir(c.key("/d"), i, i, { nodes: unordered([file(c.key("/d/a"), "1", i), dir(c.key("/d/sub"), i + 1)]) })),
    i + 3,
  );
});

tc("get: recursive listing nests fully and hides hidden subtrees", async (c) => {
  const a = await c.set("/d/a", "1");
  const i = a.etcdIndex;
  await c.set("/d/sub/x", "2");
  await c.set("/d/_hd/y", "3");
  await c.set("/d/sub/_h", "4");
  await c.mkdir("/d/empty");
  c.ok(
    await c.get(c.k("/d"), { recursive: "true" }),
    200,
    ev(
      "get",
      dir(c.key("/d"), i, i, {
        nodes: unordered([
          file(c.key("/d/a"), "1", i),
          dir(c.key("/d/sub"), i + 1, i + 1, { nodes: [file(c.key("/d/sub/x"), "2", i + 1)] }),
          dir(c.key("/d/empty"), i + 4),
        ]),
      }),
    ),
    i + 4,
  );
});

tc("get: sorted=true sorts by key at every level", async (c) => {
  const order = ["b", "a", "c", "B", "A", "a0", "_h"];
  const idx: Record<string, number> = {};
  for (const k of order) idx[k] = (await c.set("/d/" + k, k)).etcdIndex;
  const s1 = await c.set("/d/m/z", "z");
  await c.set("/d/m/y", "y");
  const i0 = idx.b!;
  const want = ev(
    "get",
    dir(c.key("/d"), i0, i0, {
      nodes: [
        file(c.key("/d/A"), "A", idx.A!),
        file(c.key("/d/B"), "B", idx.B!),
        file(c.key("/d/a"), "a", idx.a!),
        file(c.key("/d/a0"), "a0", idx.a0!),
        file(c.key("/d/b"), "b", idx.b!),
        file(c.key("/d/c"), "c", idx.c!),
        dir(c.key("/d/m"), s1.etcdIndex, s1.etcdIndex, {
          nodes: [file(c.key("/d/m/y"), "y", s1.etcdIndex + 1), file(c.key("/d/m/z"), "z", s1.etcdIndex)],
        }),
      ],
    }),
  );
  c.ok(await c.get(c.k("/d"), { recursive: "true", sorted: "true" }), 200, want);
  c.ok(await c.get(c.k("/d"), { recursive: "true", sorted: "true", quorum: "true" }), 200, want);
  // Non-recursive sorted: child dirs without their nodes.
  const nr = await c.get(c.k("/d"), { sorted: "true" });
  const b = nr.json();
  assert.equal(b.node.nodes.map((n: { key: string }) => n.key), ["A", "B", "a", "a0", "b", "c", "m"].map((k) => c.key("/d/" + k)));
  assert.not.ok("nodes" in b.node.nodes[6]);
});

tc("get: recursive and sorted do nothing on a file; hidden keys readable directly", async (c) => {
  const s = await c.set("/_h", "secret");
  const i = s.etcdIndex;
  c.ok(await c.get(c.k("/_h"), { recursive: "true", sorted: "true" }), 200, ev("get", file(c.key("/_h"), "secret", i)), i);
  const d = await c.set("/_hd/x", "y");
  c.ok(await c.get(c.k("/_hd"), { recursive: "true" }), 200, ev("get", dir(c.key("/_hd"), i + 1, i + 1, { nodes: [file(c.key("/_hd/x"), "y", i + 1)] })), d.etcdIndex);
  // The parent listing leaves both out: nodes is missing altogether.
  c.ok(await c.get(c.k(), { recursive: "true" }), 200, ev("get", dir(c.key(), i, i)), i + 1);
});

tc("get: an empty directory has no nodes field", async (c) => {
  const d = await c.mkdir("/d");
  const i = d.etcdIndex;
  c.ok(await c.get(c.k("/d")), 200, ev("get", dir(c.key("/d"), i)), i);
  c.ok(await c.get(c.k("/d"), { recursive: "true", sorted: "true" }), 200, ev("get", dir(c.key("/d"), i)), i);
});

tc("set: creates missing parents as permanent directories", async (c) => {
  const r = await c.put(c.k("/a/b/c"), { value: "1" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a/b/c"), "1", i)), i);
  c.ok(await c.get(c.k("/a"), { recursive: "true" }), 200, ev("get", dir(c.key("/a"), i, i, { nodes: [dir(c.key("/a/b"), i, i, { nodes: [file(c.key("/a/b/c"), "1", i)] })] })), i);
});

tc("set: overwriting a file resets createdIndex", async (c) => {
  const r1 = await c.set("/a", "1");
  const i = r1.etcdIndex;
  await c.set("/other", "x");
  const r2 = await c.put(c.k("/a"), { value: "2" });
  c.ok(r2, 200, ev("set", file(c.key("/a"), "2", i + 2, i + 2), file(c.key("/a"), "1", i)), i + 2);
  c.ok(await c.get(c.k("/a")), 200, ev("get", file(c.key("/a"), "2", i + 2)), i + 2);
});

tc("set: over a directory is 102 Not a file (also with dir=true)", async (c) => {
  const d = await c.mkdir("/d");
  const i = d.etcdIndex;
  c.err(await c.put(c.k("/d"), { value: "1" }), 403, 102, c.key("/d"), i);
  c.err(await c.put(c.k("/d"), undefined, { dir: "true" }), 403, 102, c.key("/d"), i);
  c.err(await c.put(c.k("/d"), { value: "1" }, { prevIndex: "0" }), 403, 102, c.key("/d"), i);
});

tc("set: a file can be replaced by a directory", async (c) => {
  const s = await c.set("/f", "v");
  const i = s.etcdIndex;
  const r = await c.put(c.k("/f"), { value: "ignored" }, { dir: "true" });
  c.ok(r, 200, ev("set", dir(c.key("/f"), i + 1), file(c.key("/f"), "v", i)), i + 1);
});

tc("set: with a ttl, and a later set without ttl makes it permanent", async (c) => {
  const t0 = Date.now();
  const r = await c.put(c.k("/a"), { value: "1", ttl: String(LONG_TTL) });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "1", i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i);
  c.ok(await c.get(c.k("/a")), 200, ev("get", file(c.key("/a"), "1", i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i);
  const r2 = await c.put(c.k("/a"), { value: "2" });
  c.ok(r2, 200, ev("set", file(c.key("/a"), "2", i + 1), file(c.key("/a"), "1", i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i + 1);
  c.ok(await c.get(c.k("/a")), 200, ev("get", file(c.key("/a"), "2", i + 1)), i + 1);
});

tc("set: on the root is 107 Root is read only", async (c) => {
  const i = await c.index();
  c.err(await c.put("/v2/keys/", { value: "1" }), 400, 107, "/", i);
  c.err(await c.put("/v2/keys", { value: "1" }), 400, 107, "/", i);
  c.err(await c.put("/v2/keys/", undefined, { dir: "true" }), 400, 107, "/", i);
});

tc("create: existing key is 105 (file or directory)", async (c) => {
  const s = await c.set("/a", "1");
  const i = s.etcdIndex;
  await c.mkdir("/d");
  c.err(await c.put(c.k("/a"), { value: "2" }, { prevExist: "false" }), 412, 105, c.key("/a"), i + 1);
  c.err(await c.put(c.k("/d"), undefined, { prevExist: "false", dir: "true" }), 412, 105, c.key("/d"), i + 1);
  c.err(await c.put(c.k("/d"), { value: "x" }, { prevExist: "false" }), 412, 105, c.key("/d"), i + 1);
});

tc("create: makes parents; on the root is 107", async (c) => {
  const r = await c.put(c.k("/x/y"), { value: "1" }, { prevExist: "false" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("create", file(c.key("/x/y"), "1", i)), i);
  c.ok(await c.get(c.k("/x")), 200, ev("get", dir(c.key("/x"), i, i, { nodes: [file(c.key("/x/y"), "1", i)] })), i);
  c.err(await c.put("/v2/keys/", { value: "1" }, { prevExist: "false" }), 400, 107, "/", i);
  const d = await c.put(c.k("/dd"), undefined, { prevExist: "false", dir: "true" });
  c.ok(d, 201, ev("create", dir(c.key("/dd"), i + 1)), i + 1);
});

tc("create: refresh is ignored (creates with an empty value)", async (c) => {
  const t0 = Date.now();
  const r = await c.put(c.k("/a"), undefined, { prevExist: "false", refresh: "true", ttl: String(LONG_TTL) });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("create", file(c.key("/a"), "", i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i);
});

tc("update: missing is 100, root is 107", async (c) => {
  const i = await c.index();
  c.err(await c.put(c.k("/a"), { value: "1" }, { prevExist: "true" }), 404, 100, c.key(), i);
  await c.mkdir("");
  c.err(await c.put(c.k("/a"), { value: "1" }, { prevExist: "true" }), 404, 100, c.key("/a"), i + 1);
  c.err(await c.put("/v2/keys/", { value: "1" }, { prevExist: "true" }), 400, 107, "/", i + 1);
  c.err(await c.put("/v2/keys", { value: "1" }, { prevExist: "true" }), 400, 107, "/", i + 1);
});

tc("update: keeps createdIndex and drops the TTL when none is given", async (c) => {
  const t0 = Date.now();
  const s = await c.put(c.k("/a"), { value: "1", ttl: String(LONG_TTL) });
  const i = s.etcdIndex;
  const r = await c.put(c.k("/a"), { value: "2" }, { prevExist: "true" });
  c.ok(r, 200, ev("update", file(c.key("/a"), "2", i + 1, i), file(c.key("/a"), "1", i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i + 1);
  c.ok(await c.get(c.k("/a")), 200, ev("get", file(c.key("/a"), "2", i + 1, i)), i + 1);
  // update with a ttl sets one
  const r2 = await c.put(c.k("/a"), { value: "3", ttl: String(LONG_TTL) }, { prevExist: "true" });
  c.ok(r2, 200, ev("update", file(c.key("/a"), "3", i + 2, i, { expiration: M.expiration(LONG_TTL), ttl: M.ttl(LONG_TTL) }), file(c.key("/a"), "2", i + 1, i)), i + 2);
  // ttl= (empty) with the same value removes it again
  const r3 = await c.put(c.k("/a"), { value: "3", ttl: "" }, { prevExist: "true" });
  c.ok(r3, 200, ev("update", file(c.key("/a"), "3", i + 3, i), file(c.key("/a"), "3", i + 2, i, { expiration: M.expiration(LONG_TTL), ttl: M.ttl(LONG_TTL) })), i + 3);
});

tc("update: a directory with a value is 102; with an empty value its TTL changes", async (c) => {
  const d = await c.mkdir("/d");
  const i = d.etcdIndex;
  c.err(await c.put(c.k("/d"), { value: "x" }, { prevExist: "true" }), 403, 102, c.key("/d"), i);
  const t0 = Date.now();
  const r = await c.put(c.k("/d"), undefined, { dir: "true", prevExist: "true", ttl: String(LONG_TTL) });
  c.ok(r, 200, ev("update", dir(c.key("/d"), i + 1, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) }), dir(c.key("/d"), i, i)), i + 1);
  // Quirk: the stored directory keeps its old modifiedIndex.
  c.ok(await c.get(c.k("/d")), 200, ev("get", dir(c.key("/d"), i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i + 1);
  // Without dir=true and with no value, it works too; and ttl= makes it permanent.
  const r2 = await c.put(c.k("/d"), { ttl: "" }, { prevExist: "true" });
  c.ok(r2, 200, ev("update", dir(c.key("/d"), i + 2, i), dir(c.key("/d"), i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i + 2);
  c.ok(await c.get(c.k("/d")), 200, ev("get", dir(c.key("/d"), i, i)), i + 2);
});

tc("cas: missing is 100, directory is 102, root is 107", async (c) => {
  const d = await c.mkdir("/d");
  const i = d.etcdIndex;
  c.err(await c.put(c.k("/x"), { value: "1" }, { prevValue: "a" }), 404, 100, c.key("/x"), i);
  c.err(await c.put(c.k("/x"), { value: "1" }, { prevIndex: "3" }), 404, 100, c.key("/x"), i);
  c.err(await c.put(c.k("/d"), { value: "1" }, { prevValue: "a" }), 403, 102, c.key("/d"), i);
  c.err(await c.put(c.k("/d"), { value: "1" }, { prevIndex: String(i) }), 403, 102, c.key("/d"), i);
  c.err(await c.put("/v2/keys/", { value: "1" }, { prevValue: "a" }), 400, 107, "/", i);
  c.err(await c.put("/v2/keys/", { value: "1" }, { prevIndex: "1" }), 400, 107, "/", i);
});

tc("cas: compare-failed causes (value, index, both) and index unchanged", async (c) => {
  const s = await c.set("/a", "cur");
  const i = s.etcdIndex;
  const bad = i + 1000;
  c.err(await c.put(c.k("/a"), { value: "n" }, { prevValue: "zzz" }), 412, 101, `[zzz != cur]`, i);
  c.err(await c.put(c.k("/a"), { value: "n" }, { prevIndex: String(bad) }), 412, 101, `[${bad} != ${i}]`, i);
  c.err(await c.put(c.k("/a"), { value: "n" }, { prevValue: "zzz", prevIndex: String(bad) }), 412, 101, `[zzz != cur] [${bad} != ${i}]`, i);
  // Both given, value right, index wrong: only the index part.
  c.err(await c.put(c.k("/a"), { value: "n" }, { prevValue: "cur", prevIndex: String(bad) }), 412, 101, `[${bad} != ${i}]`, i);
  // Index right, value wrong.
  c.err(await c.put(c.k("/a"), { value: "n" }, { prevValue: "no", prevIndex: String(i) }), 412, 101, `[no != cur]`, i);
  // The largest uint64 is accepted and printed exactly.
  c.err(await c.put(c.k("/a"), { value: "n" }, { prevIndex: "18446744073709551615" }), 412, 101, `[18446744073709551615 != ${i}]`, i);
  // Through prevExist=true as well.
  c.err(await c.put(c.k("/a"), { value: "n" }, { prevExist: "true", prevValue: "q" }), 412, 101, `[q != cur]`, i);
  const ok = await c.put(c.k("/a"), { value: "n" }, { prevValue: "cur", prevIndex: String(i) });
  c.ok(ok, 200, ev("compareAndSwap", file(c.key("/a"), "n", i + 1, i), file(c.key("/a"), "cur", i)), i + 1);
});

tc("cas: keeps createdIndex, drops the TTL when none is given", async (c) => {
  const t0 = Date.now();
  const s = await c.put(c.k("/a"), { value: "1", ttl: String(LONG_TTL) });
  const i = s.etcdIndex;
  const r = await c.put(c.k("/a"), { value: "2" }, { prevValue: "1" });
  c.ok(r, 200, ev("compareAndSwap", file(c.key("/a"), "2", i + 1, i), file(c.key("/a"), "1", i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i + 1);
  const r2 = await c.put(c.k("/a"), { value: "3", ttl: String(LONG_TTL) }, { prevIndex: String(i + 1) });
  c.ok(r2, 200, ev("compareAndSwap", file(c.key("/a"), "3", i + 2, i, { expiration: M.expiration(LONG_TTL), ttl: M.ttl(LONG_TTL) }), file(c.key("/a"), "2", i + 1, i)), i + 2);
});

tc("delete: missing is 100, root is 107", async (c) => {
  const i = await c.index();
  c.err(await c.del(c.k("/a")), 404, 100, c.key(), i);
  c.err(await c.del("/v2/keys/"), 400, 107, "/", i);
  c.err(await c.del("/v2/keys/", { recursive: "true" }), 400, 107, "/", i);
  c.err(await c.del("/v2/keys", { dir: "true" }), 400, 107, "/", i);
  // The root is still there and intact.
  assertStatus(await c.get("/v2/keys/"), 200);
});

tc("delete: a file, whatever dir and recursive say", async (c) => {
  const a = await c.set("/a", "1");
  const i = a.etcdIndex;
  await c.set("/b", "2");
  await c.set("/c", "3");
  c.ok(await c.del(c.k("/a")), 200, ev("delete", gone(c.key("/a"), i + 3, i), file(c.key("/a"), "1", i)), i + 3);
  c.ok(await c.del(c.k("/b"), { dir: "true" }), 200, ev("delete", gone(c.key("/b"), i + 4, i + 1), file(c.key("/b"), "2", i + 1)), i + 4);
  c.ok(await c.del(c.k("/c"), { recursive: "true" }), 200, ev("delete", gone(c.key("/c"), i + 5, i + 2), file(c.key("/c"), "3", i + 2)), i + 5);
  c.err(await c.get(c.k("/a")), 404, 100, c.key("/a"), i + 5);
});

tc("delete: directories (102 without dir, 108 not empty, empty ok, recursive ok)", async (c) => {
  const d = await c.set("/d/x", "1");
  const i = d.etcdIndex;
  c.err(await c.del(c.k("/d")), 403, 102, c.key("/d"), i);
  c.err(await c.del(c.k("/d"), { dir: "true" }), 403, 108, c.key("/d"), i);
  c.err(await c.del(c.k("/d"), { dir: "true", recursive: "false" }), 403, 108, c.key("/d"), i);
  const e = await c.mkdir("/e");
  c.ok(await c.del(c.k("/e"), { dir: "true" }), 200, ev("delete", gone(c.key("/e"), i + 2, i + 1, true), dir(c.key("/e"), i + 1)), i + 2);
  assert.is(e.etcdIndex, i + 1);
  // recursive implies dir
  c.ok(await c.del(c.k("/d"), { recursive: "true" }), 200, ev("delete", gone(c.key("/d"), i + 3, i, true), dir(c.key("/d"), i)), i + 3);
  c.err(await c.get(c.k("/d/x")), 404, 100, c.key("/d"), i + 3);
});

tc("cad: missing 100, directory 102, root 102 without cause", async (c) => {
  const d = await c.mkdir("/d");
  const i = d.etcdIndex;
  c.err(await c.del(c.k("/x"), { prevValue: "a" }), 404, 100, c.key("/x"), i);
  c.err(await c.del(c.k("/d"), { prevValue: "a" }), 403, 102, c.key("/d"), i);
  c.err(await c.del(c.k("/d"), { prevIndex: String(i) }), 403, 102, c.key("/d"), i);
  c.err(await c.del("/v2/keys/", { prevValue: "x" }), 403, 102, undefined, i);
  c.err(await c.del("/v2/keys/", { prevIndex: "1" }), 403, 102, undefined, i);
});

tc("cad: compare-failed causes and success shape", async (c) => {
  const s = await c.set("/a", "cur");
  const i = s.etcdIndex;
  const bad = i + 777;
  c.err(await c.del(c.k("/a"), { prevValue: "zzz" }), 412, 101, `[zzz != cur]`, i);
  c.err(await c.del(c.k("/a"), { prevIndex: String(bad) }), 412, 101, `[${bad} != ${i}]`, i);
  c.err(await c.del(c.k("/a"), { prevValue: "zzz", prevIndex: String(bad) }), 412, 101, `[zzz != cur] [${bad} != ${i}]`, i);
  c.err(await c.del(c.k("/a"), { prevValue: "cur", prevIndex: String(bad) }), 412, 101, `[${bad} != ${i}]`, i);
  c.ok(await c.del(c.k("/a"), { prevValue: "cur", prevIndex: String(i) }), 200, ev("compareAndDelete", gone(c.key("/a"), i + 1, i), file(c.key("/a"), "cur", i)), i + 1);
});

tc("index: every mutation +1; reads and failures do not move it", async (c) => {
  const i = (await c.set("/a", "1")).etcdIndex;
  assert.is(await c.index(), i);
  await c.get(c.k("/a"));
  await c.get(c.k("/a"), { quorum: "true" });
  await c.get(c.k("/nope"));
  await c.put(c.k("/a"), { value: "x" }, { prevValue: "wrong" });
  await c.put(c.k("/a"), { value: "x" }, { prevExist: "false" });
  await c.put(c.k("/a"), { value: "x" }, "ttl=bad");
  assert.is(await c.index(), i);
  assert.is((await c.put(c.k("/a"), { value: "2" }, { prevExist: "true" })).etcdIndex, i + 1);
  assert.is((await c.put(c.k("/a"), { value: "3" }, { prevValue: "2" })).etcdIndex, i + 2);
  assert.is((await c.post(c.k("/q"), { value: "3" })).etcdIndex, i + 3);
  assert.is((await c.put(c.k("/a"), { ttl: String(LONG_TTL) }, { refresh: "true" })).etcdIndex, i + 4);
  assert.is((await c.del(c.k("/a"), { prevValue: "3" })).etcdIndex, i + 5);
  assert.is((await c.del(c.k("/q"), { recursive: "true" })).etcdIndex, i + 6);
  assert.is(await c.index(), i + 6);
});

// =============================================================================================
// 7. Paths (§1, §2.3)
// =============================================================================================

tc("paths: // is a 301 redirect to the cleaned path, query kept", async (c) => {
  const r = await c.raw("GET", `/v2/keys/${c.p.slice(1)}//a?x=1&y=2`);
  assertStatus(r, 301);
  const loc = `${c.k("/a")}?x=1&y=2`;
  assertHeader(r, "location", loc);
  assertHeader(r, "content-type", "text/html; charset=utf-8");
  c.cors(r);
  assert.is(r.text, `<a href="${loc.replace(/&/g, "&amp;")}">Moved Permanently</a>.\n\n`);
  // Also through fetch with redirect: manual.
  const f = await c.get(`/v2/keys/${c.p.slice(1)}//a`);
  assertStatus(f, 301);
  assertHeader(f, "location", c.k("/a"));
});

tc("paths: . and .. segments are redirected", async (c) => {
  const r = await c.raw("GET", `${c.k("/x")}/../a`);
  assertStatus(r, 301);
  assertHeader(r, "location", c.k("/a"));
  const r2 = await c.raw("GET", `${c.k()}/./a`);
  assertStatus(r2, 301);
  assertHeader(r2, "location", c.k("/a"));
  const r3 = await c.raw("GET", "//version");
  assertStatus(r3, 301);
  assertHeader(r3, "location", "/version");
});

tc("paths: a redirected write is not performed", async (c) => {
  const r = await c.raw("PUT", `/v2/keys/${c.p.slice(1)}//a`, { body: "value=1", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  assertStatus(r, 301);
  assertHeader(r, "location", c.k("/a"));
  assert.is(r.text, "", "no body for a non-GET redirect");
  assertHeader(r, "content-type", null);
  const i = await c.index();
  c.err(await c.get(c.k("/a")), 404, 100, c.key(), i);
  await c.set("/b", "1");
  const d = await c.raw("DELETE", `${c.k("/zz")}/../b`);
  assertStatus(d, 301);
  assertStatus(await c.get(c.k("/b")), 200);
});

tc("paths: a trailing slash is the same key", async (c) => {
  const r = await c.put(c.k("/a/"), { value: "1" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "1", i)), i);
  c.ok(await c.get(c.k("/a/")), 200, ev("get", file(c.key("/a"), "1", i)), i);
  c.ok(await c.get(c.k("/a")), 200, ev("get", file(c.key("/a"), "1", i)), i);
});

tc("paths: %2F splits components", async (c) => {
  const r = await c.put(c.k("/p%2Fq"), { value: "x" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/p/q"), "x", i)), i);
  c.ok(await c.get(c.k("/p"), { recursive: "true" }), 200, ev("get", dir(c.key("/p"), i, i, { nodes: [file(c.key("/p/q"), "x", i)] })), i);
  c.ok(await c.get(c.k("/p%2fq")), 200, ev("get", file(c.key("/p/q"), "x", i)), i);
});

tc("http: Expect: 100-continue is answered (curl sends it for bodies over 1 KiB)", async (c) => {
  const value = "e".repeat(4000);
  const body = "value=" + value;
  const u = new URL(c.base);
  const out = await new Promise<{ sawContinue: boolean; response: string }>((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    let buf = "";
    let sent = false;
    let sawContinue = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no final response; got ${JSON.stringify(buf.slice(0, 300))}`));
    }, 8000);
    // curl waits up to 1 s for "100 Continue" before sending the body anyway.
    const fallback = setTimeout(() => {
      if (!sent) {
        sent = true;
        sock.write(body);
      }
    }, 1000);
    sock.setEncoding("utf8");
    sock.on("connect", () => {
      sock.write(
        `PUT ${c.k("/big")} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
    });
    sock.on("data", (d: string) => {
      buf += d;
      if (!sent && /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(buf)) {
        sawContinue = true;
        sent = true;
        buf = buf.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, "");
        sock.write(body);
      }
    });
    sock.on("end", () => {
      clearTimeout(timer);
      clearTimeout(fallback);
      sock.destroy();
      resolve({ sawContinue, response: buf });
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      clearTimeout(fallback);
      reject(e);
    });
  });
  assert.ok(out.sawContinue, "the server sent 100 Continue before the body");
  assert.ok(out.response.startsWith("HTTP/1.1 201 Created\r\n"), `final status: ${JSON.stringify(out.response.slice(0, 60))}`);
  const g = await c.get(c.k("/big"));
  assert.is(g.json().node.value, value);
});

// =============================================================================================
// 8. TTL and expiry (§7)
// =============================================================================================

tc("ttl: shows the full ttl at once and counts down", async (c) => {
  const t0 = Date.now();
  const r = await c.put(c.k("/a"), { value: "v", ttl: "5" });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("set", file(c.key("/a"), "v", i, i, { expiration: M.expiration(5, t0, 1.5), ttl: M.ttl(5, 4) })), i);
  c.ok(await c.get(c.k("/a")), 200, ev("get", file(c.key("/a"), "v", i, i, { expiration: M.expiration(5, t0, 1.5), ttl: M.ttl(5, 4) })), i);
  await c.del(c.k("/a"));
});

tc("ttl: a key with ttl=1 expires within ~2 s (expire event, then 404)", async (c) => {
  const w = c.watch(c.k("/a"));
  await w.response();
  const t0 = Date.now();
  const r = await c.put(c.k("/a"), { value: "v", ttl: "1" });
  const i = r.etcdIndex;
  const set = await w.next();
  assertBody(set, ev("set", file(c.key("/a"), "v", i, i, { expiration: M.expiration(1, t0, 1), ttl: M.ttl(1, 0) })), "\n", "watch event (set)");
  const w2 = c.watch(c.k("/a"), { waitIndex: i + 1 });
  const line = await w2.next(3500);
  const elapsed = Date.now() - t0;
  assertBody(line, ev("expire", gone(c.key("/a"), i + 1, i), file(c.key("/a"), "v", i, i, { expiration: M.expiration(1, t0, 1), ttl: M.optional(M.ttl(0, -2)) })), "\n", "watch event (expire)");
  assert.ok(elapsed < 3000, `expired after ${elapsed} ms`);
  c.err(await c.get(c.k("/a")), 404, 100, c.key("/a"), i + 1);
}, { timeoutMs: 15_000 });

tc("ttl: ttl=0 expires at the next sweep", async (c) => {
  const r = await c.put(c.k("/z"), { value: "v", ttl: "0" });
  const i = r.etcdIndex;
  assertStatus(r, 201);
  const b = r.json();
  assert.is(b.node.key, c.key("/z"));
  assert.ok(typeof b.node.expiration === "string", "has an expiration");
  assert.not.ok("ttl" in b.node && b.node.ttl > 0, "no positive ttl");
  const w = c.watch(c.k("/z"), { waitIndex: i + 1 });
  const line = await w.next(2500);
  assert.is(JSON.parse(line).action, "expire");
  assert.is(JSON.parse(line).node.modifiedIndex, i + 1);
  c.err(await c.get(c.k("/z")), 404, 100, c.key("/z"), i + 1);
}, { timeoutMs: 15_000 });

tc("ttl: expiry removes a directory with its subtree, one event, seen by a child watcher", async (c) => {
  const t0 = Date.now();
  const d = await c.put(c.k("/d"), undefined, { dir: "true", ttl: "1" });
  const i = d.etcdIndex;
  c.ok(d, 201, ev("set", dir(c.key("/d"), i, i, { expiration: M.expiration(1, t0, 1), ttl: M.ttl(1, 0) })), i);
  await c.set("/d/child", "x");
  await c.set("/d/sub/y", "z", { ttl: String(LONG_TTL) });
  const w = c.watch(c.k("/d/child"));
  await w.response();
  const line = await w.next(3500);
  assertBody(line, ev("expire", gone(c.key("/d"), i + 3, i, true), dir(c.key("/d"), i, i, { expiration: M.anyExpiration(), ttl: M.optional(M.ttl(0, -2)) })), "\n", "child watcher gets the directory's expire");
  const stats = await c.storeStats();
  assert.ok((stats.expireCount ?? 0) >= 1);
  c.err(await c.get(c.k("/d/sub/y")), 404, 100, c.key("/d"), i + 3);
  // Only one event: the next index is free.
  assert.is(await c.index(), i + 3);
}, { timeoutMs: 15_000 });

tc("ttl: refresh via set keeps the value, re-creates the node, not seen by watchers", async (c) => {
  const t0 = Date.now();
  const s = await c.put(c.k("/a"), { value: "v", ttl: "100" });
  const i = s.etcdIndex;
  const w = c.watch(c.k("/a"));
  await w.response();
  const r = await c.put(c.k("/a"), { ttl: String(LONG_TTL) }, { refresh: "true" });
  c.ok(r, 200, ev("set", file(c.key("/a"), "v", i + 1, i + 1, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) }), file(c.key("/a"), "v", i, i, { expiration: M.expiration(100, t0), ttl: M.ttl(100) })), i + 1);
  assert.not.ok(r.text.includes('"refresh"'), "the refresh flag is never serialised");
  await w.expectQuiet(600);
  // The watcher is still there: a real change reaches it.
  await c.set("/a", "new");
  const line = await w.next();
  assert.is(JSON.parse(line).node.modifiedIndex, i + 2);
  assert.is(JSON.parse(line).node.value, "new");
});

tc("ttl: refresh on a missing key is 100", async (c) => {
  const i = await c.index();
  c.err(await c.put(c.k("/nope"), { ttl: "5" }, { refresh: "true" }), 404, 100, c.key(), i);
});

tc("ttl: refresh via update keeps createdIndex; via CAS compares first", async (c) => {
  const t0 = Date.now();
  const s = await c.put(c.k("/a"), { value: "v", ttl: "100" });
  const i = s.etcdIndex;
  const r = await c.put(c.k("/a"), { ttl: String(LONG_TTL) }, { refresh: "true", prevExist: "true" });
  c.ok(r, 200, ev("update", file(c.key("/a"), "v", i + 1, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) }), file(c.key("/a"), "v", i, i, { expiration: M.expiration(100, t0), ttl: M.ttl(100) })), i + 1);
  c.err(await c.put(c.k("/a"), { ttl: "50" }, { refresh: "true", prevValue: "other" }), 412, 101, "[other != v]", i + 1);
  const r2 = await c.put(c.k("/a"), { ttl: "50" }, { refresh: "true", prevValue: "v" });
  c.ok(r2, 200, ev("compareAndSwap", file(c.key("/a"), "v", i + 2, i, { expiration: M.expiration(50, t0), ttl: M.ttl(50) }), file(c.key("/a"), "v", i + 1, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i + 2);
});

tc("ttl: history scans skip refresh events", async (c) => {
  const s = await c.put(c.k("/a"), { value: "v", ttl: "100" });
  const i = s.etcdIndex;
  await c.put(c.k("/a"), { ttl: "200" }, { refresh: "true" });
  await c.set("/a", "w");
  const w = c.watch(c.k("/a"), { waitIndex: i + 1 });
  const line = await w.next();
  assertBody(line, ev("set", file(c.key("/a"), "w", i + 2), file(c.key("/a"), "v", i + 1, i + 1, { expiration: M.expiration(200), ttl: M.optional(M.ttl(200, 190)) })), "\n");
});

tc("ttl: a directory TTL is set, changed and removed through update", async (c) => {
  const t0 = Date.now();
  const d = await c.put(c.k("/d"), undefined, { dir: "true", ttl: "300" });
  const i = d.etcdIndex;
  c.ok(d, 201, ev("set", dir(c.key("/d"), i, i, { expiration: M.expiration(300, t0), ttl: M.ttl(300) })), i);
  const u = await c.put(c.k("/d"), undefined, { dir: "true", prevExist: "true", ttl: String(LONG_TTL) });
  c.ok(u, 200, ev("update", dir(c.key("/d"), i + 1, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) }), dir(c.key("/d"), i, i, { expiration: M.expiration(300, t0), ttl: M.ttl(300) })), i + 1);
  const p = await c.put(c.k("/d"), undefined, { dir: "true", prevExist: "true", ttl: "" });
  c.ok(p, 200, ev("update", dir(c.key("/d"), i + 2, i), dir(c.key("/d"), i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i + 2);
  c.ok(await c.get(c.k("/d")), 200, ev("get", dir(c.key("/d"), i, i)), i + 2);
});

tc("ttl: POST with a ttl", async (c) => {
  const t0 = Date.now();
  const r = await c.post(c.k("/q"), { value: "j", ttl: String(LONG_TTL) });
  const i = r.etcdIndex;
  c.ok(r, 201, ev("create", file(c.key("/q/" + String(i).padStart(20, "0")), "j", i, i, { expiration: M.expiration(LONG_TTL, t0), ttl: M.ttl(LONG_TTL) })), i);
});

// =============================================================================================
// 9. In-order keys (§8)
// =============================================================================================

tc("inorder: names are the index, zero-padded to 20, listed in order", async (c) => {
  const r1 = await c.post(c.k("/q"), { value: "job1" });
  const i = r1.etcdIndex;
  const r2 = await c.post(c.k("/q"), { value: "job2" });
  const r3 = await c.post(c.k("/q"), { value: "job3" });
  assert.is(r2.etcdIndex, i + 1);
  assert.is(r3.etcdIndex, i + 2);
  const name = (n: number): string => c.key("/q/" + String(n).padStart(20, "0"));
  c.ok(r3, 201, ev("create", file(name(i + 2), "job3", i + 2)), i + 2);
  c.ok(
    await c.get(c.k("/q"), { recursive: "true", sorted: "true" }),
    200,
    ev("get", dir(c.key("/q"), i, i, { nodes: [file(name(i), "job1", i), file(name(i + 1), "job2", i + 1), file(name(i + 2), "job3", i + 2)] })),
    i + 2,
  );
});

tc("inorder: into an existing directory, as a directory, and 104 under a file", async (c) => {
  const d = await c.mkdir("/q");
  const i = d.etcdIndex;
  const r = await c.post(c.k("/q"), undefined, { dir: "true" });
  c.ok(r, 201, ev("create", dir(c.key("/q/" + String(i + 1).padStart(20, "0")), i + 1)), i + 1);
  await c.set("/f", "x");
  c.err(await c.post(c.k("/f"), { value: "1" }), 400, 104, c.key("/f"), i + 2);
  // The directory itself keeps its indexes.
  const g = await c.get(c.k("/q"));
  assert.is(g.json().node.modifiedIndex, i);
});

tc("inorder: POST to the root is allowed", async (c) => {
  const r = await c.post("/v2/keys/", { value: "rootq" });
  const i = r.etcdIndex;
  const key = "/" + String(i).padStart(20, "0");
  c.onCleanup(async () => { await c.del("/v2/keys" + key); });
  c.ok(r, 201, ev("create", file(key, "rootq", i)), i);
  c.ok(await c.del("/v2/keys" + key), 200, ev("delete", gone(key, i + 1, i), file(key, "rootq", i)), i + 1);
});

// =============================================================================================
// 10. Watches (§9)
// =============================================================================================

tc("watch: headers come at once with the registration index", async (c) => {
  const i0 = (await c.set("/other", "x")).etcdIndex;
  const w = c.watch(c.k("/a"));
  const res = await w.response(3000);
  assert.is(res.status, 200);
  assert.is(res.headers.get("x-etcd-index"), String(i0));
  assert.is(res.headers.get("content-type"), "application/json");
  assert.is(res.headers.get("x-etcd-cluster-id"), c.env.clusterId);
  assert.ok(/^\d+$/.test(res.headers.get("x-raft-index") ?? ""), "X-Raft-Index present");
  assert.ok(/^\d+$/.test(res.headers.get("x-raft-term") ?? ""), "X-Raft-Term present");
  for (const [h, v] of Object.entries(CORS)) assert.is(res.headers.get(h), v);
  await c.set("/b", "1"); // unrelated
  await c.set("/a", "1");
  const line = await w.next();
  assert.is(line, JSON.stringify(ev("set", file(c.key("/a"), "1", i0 + 2))) + "\n");
  await w.waitEnd();
});

tc("watch: every action reaches a key watcher, with prevNode", async (c) => {
  const w = c.watch(c.k("/a"), { stream: "true" });
  await w.response();
  const i = (await c.put(c.k("/a"), { value: "1" }, { prevExist: "false" })).etcdIndex;
  await c.put(c.k("/a"), { value: "2" }, { prevExist: "true" });
  await c.put(c.k("/a"), { value: "3" }, { prevValue: "2" });
  await c.set("/a", "4");
  const k = c.key("/a");
  const want = [
    ev("create", file(k, "1", i)),
    ev("update", file(k, "2", i + 1, i), file(k, "1", i)),
    ev("compareAndSwap", file(k, "3", i + 2, i), file(k, "2", i + 1, i)),
    ev("set", file(k, "4", i + 3), file(k, "3", i + 2, i)),
  ];
  for (const e of want) assert.is(await w.next(), JSON.stringify(e) + "\n");
  // Deletes, with one-shot watchers (a stream watcher would see them twice: next case).
  const w1 = c.watch(c.k("/a"));
  await w1.response();
  await c.del(c.k("/a"), { prevValue: "4" });
  assert.is(await w1.next(), JSON.stringify(ev("compareAndDelete", gone(k, i + 4, i + 3), file(k, "4", i + 3))) + "\n");
  await w1.waitEnd();
  await c.set("/a", "5");
  const w2 = c.watch(c.k("/a"));
  await w2.response();
  await c.del(c.k("/a"));
  assert.is(await w2.next(), JSON.stringify(ev("delete", gone(k, i + 6, i + 5), file(k, "5", i + 5))) + "\n");
  await w2.waitEnd();
});

// etcd 3.4 quirk: removing a node notifies the watchers registered at the removed node's own
// path twice (once as "deleted", once on the normal walk). A one-shot watcher is gone after
// the first; a stream watcher at that exact path receives the same event twice. Watchers on
// ancestors (recursive) and on removed descendants receive it once.
tc("watch: a stream watcher at a removed path receives the event twice", async (c) => {
  const i = (await c.set("/d/f", "1")).etcdIndex;
  await c.set("/d/sub/x", "2");
  const wf = c.watch(c.k("/d/f"), { stream: "true" });
  const wp = c.watch(c.k(), { stream: "true", recursive: "true" });
  await wf.response();
  await wp.response();
  await c.del(c.k("/d/f"));
  const del = JSON.stringify(ev("delete", gone(c.key("/d/f"), i + 2, i), file(c.key("/d/f"), "1", i))) + "\n";
  assert.is(await wf.next(), del);
  assert.is(await wf.next(), del);
  assert.is(await wp.next(), del);
  const wd = c.watch(c.k("/d"), { stream: "true", recursive: "true" });
  const wx = c.watch(c.k("/d/sub/x"), { stream: "true" });
  await wd.response();
  await wx.response();
  await c.del(c.k("/d"), { recursive: "true" });
  const rdel = JSON.stringify(ev("delete", gone(c.key("/d"), i + 3, i, true), dir(c.key("/d"), i, i))) + "\n";
  assert.is(await wd.next(), rdel);
  assert.is(await wd.next(), rdel);
  assert.is(await wx.next(), rdel);
  assert.is(await wp.next(), rdel);
  await Promise.all([wf.expectQuiet(400), wp.expectQuiet(400), wd.expectQuiet(400), wx.expectQuiet(400)]);
});

tc("watch: waitIndex in history returns the first matching event at once", async (c) => {
  const i = (await c.set("/a", "1")).etcdIndex;
  await c.set("/b", "x");
  await c.set("/a", "2");
  const w = c.watch(c.k("/a"), { waitIndex: i });
  const res = await w.response();
  assert.is(await w.next(2000), JSON.stringify(ev("set", file(c.key("/a"), "1", i))) + "\n");
  assert.is(res.headers.get("x-etcd-index"), String(i + 2));
  // waitIndex is inclusive, and skips non-matching events.
  const w2 = c.watch(c.k("/a"), { waitIndex: i + 1 });
  assert.is(await w2.next(2000), JSON.stringify(ev("set", file(c.key("/a"), "2", i + 2), file(c.key("/a"), "1", i))) + "\n");
});

tc("watch: waitIndex in the future waits for that index", async (c) => {
  const i = await c.index();
  const w = c.watch(c.k("/a"), { waitIndex: i + 2 });
  await w.response();
  await c.set("/a", "1"); // i+1: too early
  await c.set("/a", "2"); // i+2
  assert.is(await w.next(), JSON.stringify(ev("set", file(c.key("/a"), "2", i + 2), file(c.key("/a"), "1", i + 1))) + "\n");
});

tc("watch: waitIndex=0 means the next index", async (c) => {
  await c.set("/a", "old");
  const w = c.watch(c.k("/a"), { waitIndex: 0 });
  await w.response();
  await w.expectQuiet(300);
  const i = (await c.set("/a", "new")).etcdIndex;
  assert.is(JSON.parse(await w.next()).node.modifiedIndex, i);
});

tc("watch: a history scan without a match falls through to live", async (c) => {
  const i = (await c.set("/other", "1")).etcdIndex;
  await c.set("/other", "2");
  const w = c.watch(c.k("/a"), { waitIndex: i });
  await w.response();
  await w.expectQuiet(300);
  const j = (await c.set("/a", "1")).etcdIndex;
  assert.is(await w.next(), JSON.stringify(ev("set", file(c.key("/a"), "1", j))) + "\n");
});

tc("watch: a key that does not exist yet", async (c) => {
  const w = c.watch(c.k("/later/x"));
  await w.response();
  const i = (await c.set("/later/x", "v")).etcdIndex;
  assert.is(await w.next(), JSON.stringify(ev("set", file(c.key("/later/x"), "v", i))) + "\n");
});

tc("watch: recursive on a directory sees descendants", async (c) => {
  await c.mkdir("/d");
  const w = c.watch(c.k("/d"), { recursive: "true" });
  await w.response();
  const i = (await c.set("/d/a/b", "1")).etcdIndex;
  assert.is(await w.next(), JSON.stringify(ev("set", file(c.key("/d/a/b"), "1", i))) + "\n");
  // A sibling with a common name prefix is not under /d.
  const w2 = c.watch(c.k("/d"), { recursive: "true" });
  await w2.response();
  await c.set("/dd", "no");
  const j = (await c.set("/d/c", "yes")).etcdIndex;
  assert.is(await w2.next(), JSON.stringify(ev("set", file(c.key("/d/c"), "yes", j))) + "\n");
});

tc("watch: non-recursive on a directory ignores children, sees its own events", async (c) => {
  const i = (await c.mkdir("/d")).etcdIndex;
  const w = c.watch(c.k("/d"));
  await w.response();
  await c.set("/d/child", "1");
  await w.expectQuiet(500);
  const u = await c.put(c.k("/d"), undefined, { dir: "true", prevExist: "true", ttl: String(LONG_TTL) });
  assert.is(u.etcdIndex, i + 2);
  const line = await w.next();
  assertBody(line, ev("update", dir(c.key("/d"), i + 2, i, { expiration: M.expiration(LONG_TTL), ttl: M.ttl(LONG_TTL) }), dir(c.key("/d"), i, i)), "\n");
});

tc("watch: an ancestor's delete reaches a child watcher (node is the directory)", async (c) => {
  const i = (await c.set("/d/a/b", "1")).etcdIndex;
  const w = c.watch(c.k("/d/a/b"));
  await w.response();
  const wd = c.watch(c.k("/d/a"));
  await wd.response();
  const r = await c.del(c.k("/d"), { recursive: "true" });
  const want = JSON.stringify(ev("delete", gone(c.key("/d"), i + 1, i, true), dir(c.key("/d"), i, i))) + "\n";
  c.ok(r, 200, JSON.parse(want), i + 1);
  assert.is(await w.next(), want);
  assert.is(await wd.next(), want);
});

tc("watch: an ancestor's delete does not reach a watcher of a path that did not exist", async (c) => {
  const i = (await c.set("/d/a", "1")).etcdIndex;
  const w = c.watch(c.k("/d/ghost"));
  await w.response();
  await c.del(c.k("/d"), { recursive: "true" });
  await w.expectQuiet(600);
  await c.set("/d/ghost", "now");
  assert.is(await w.next(), JSON.stringify(ev("set", file(c.key("/d/ghost"), "now", i + 2))) + "\n");
});

tc("watch: history scan matches an ancestor delete by raw string prefix", async (c) => {
  const i = (await c.set("/foo/x", "1")).etcdIndex;
  await c.del(c.k("/foo"), { recursive: "true" });
  // /foobar never existed; the history scan still returns the delete of /foo.
  const w = c.watch(c.k("/foobar"), { waitIndex: i + 1 });
  assert.is(await w.next(2000), JSON.stringify(ev("delete", gone(c.key("/foo"), i + 1, i, true), dir(c.key("/foo"), i, i))) + "\n");
  // And the child watcher from history.
  const w2 = c.watch(c.k("/foo/x"), { waitIndex: i + 1 });
  assert.is(JSON.parse(await w2.next(2000)).node.key, c.key("/foo"));
});

tc("watch: stream delivers several events and stays open", async (c) => {
  await c.mkdir("/s");
  const w = c.watch(c.k("/s"), { recursive: "true", stream: "true" });
  await w.response();
  const i = (await c.set("/s/a", "1")).etcdIndex;
  await c.set("/s/_hid", "h");
  await c.set("/s/b", "2");
  await c.del(c.k("/s/a"));
  assert.is(await w.next(), JSON.stringify(ev("set", file(c.key("/s/a"), "1", i))) + "\n");
  assert.is(await w.next(), JSON.stringify(ev("set", file(c.key("/s/b"), "2", i + 2))) + "\n");
  assert.is(await w.next(), JSON.stringify(ev("delete", gone(c.key("/s/a"), i + 3, i), file(c.key("/s/a"), "1", i))) + "\n");
  await sleep(300);
  assert.not.ok(w.done, "the stream stays open");
});

tc("watch: stream served from history sends one event, then nothing", async (c) => {
  const i = (await c.set("/a", "1")).etcdIndex;
  await c.set("/a", "2");
  const w = c.watch(c.k("/a"), { stream: "true", waitIndex: i });
  assert.is(await w.next(2000), JSON.stringify(ev("set", file(c.key("/a"), "1", i))) + "\n");
  await c.set("/a", "3");
  await w.expectQuiet(700);
  assert.not.ok(w.done, "the stream stays open");
});

tc("watch: hidden keys are not delivered live below the watched path", async (c) => {
  await c.mkdir("/p");
  const w = c.watch(c.k("/p"), { recursive: "true" });
  await w.response();
  await c.set("/p/_h", "hidden");
  await c.set("/p/_hd/x", "hidden too");
  const i = (await c.set("/p/v", "visible")).etcdIndex;
  assert.is(await w.next(), JSON.stringify(ev("set", file(c.key("/p/v"), "visible", i))) + "\n");
});

tc("watch: a watcher on or inside a hidden path gets its events", async (c) => {
  const w1 = c.watch(c.k("/p/_h"));
  await w1.response();
  const w2 = c.watch(c.k("/p/_hd"), { recursive: "true" });
  await w2.response();
  const w3 = c.watch(c.k("/p/_hd/x"));
  await w3.response();
  const i = (await c.set("/p/_h", "1")).etcdIndex;
  const j = (await c.set("/p/_hd/x", "2")).etcdIndex;
  assert.is(await w1.next(), JSON.stringify(ev("set", file(c.key("/p/_h"), "1", i))) + "\n");
  assert.is(await w2.next(), JSON.stringify(ev("set", file(c.key("/p/_hd/x"), "2", j))) + "\n");
  assert.is(await w3.next(), JSON.stringify(ev("set", file(c.key("/p/_hd/x"), "2", j))) + "\n");
});

tc("watch: a history scan returns hidden-key events", async (c) => {
  const i = (await c.set("/s/_hid", "h")).etcdIndex;
  await c.set("/s/b", "2");
  const w = c.watch(c.k("/s"), { recursive: "true", waitIndex: i });
  assert.is(await w.next(2000), JSON.stringify(ev("set", file(c.key("/s/_hid"), "h", i))) + "\n");
});

tc("watch: expire events reach key watchers", async (c) => {
  const w = c.watch(c.k("/t"), { stream: "true" });
  await w.response();
  const t0 = Date.now();
  const i = (await c.put(c.k("/t"), { value: "x", ttl: "1" })).etcdIndex;
  await w.next();
  const line = await w.next(3500);
  assertBody(line, ev("expire", gone(c.key("/t"), i + 1, i), file(c.key("/t"), "x", i, i, { expiration: M.expiration(1, t0, 1), ttl: M.optional(M.ttl(0, -2)) })), "\n");
}, { timeoutMs: 15_000 });

tc("watch: 401 when waitIndex is older than the 1000-event history", async (c) => {
  const k0 = (await c.set("/w", "first")).etcdIndex;
  // 1000 more events push k0 out of the window.
  const N = 1000;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const n = next++;
      if (n >= N) return;
      const r = await c.put(c.k(`/fill/${n % 50}`), { value: String(n) });
      if (r.status !== 200 && r.status !== 201) throw new Error(`fill write failed: ${r.status} ${r.text}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const cur = await c.index();
  assert.is(cur, k0 + N);
  const w = await c.get(c.k("/w"), { wait: "true", waitIndex: k0 }, { timeoutMs: 5000 });
  c.err(w, 400, 401, `the requested history has been cleared [${cur - 999}/${k0}]`, cur);
  // The oldest event still in the window is served.
  const w2 = c.watch(c.k("/fill"), { recursive: "true", waitIndex: cur - 999 });
  assert.is(JSON.parse(await w2.next(2000)).node.modifiedIndex, cur - 999);
  // Also for a watch that would not otherwise match anything.
  c.err(await c.get("/v2/keys/nothing-here", { wait: "true", waitIndex: 1 }, { timeoutMs: 5000 }), 400, 401, `the requested history has been cleared [${cur - 999}/1]`, cur);
}, { timeoutMs: 120_000 });

// =============================================================================================
// 11. Quorum reads
// =============================================================================================

tc("quorum: same body and headers as a plain get", async (c) => {
  const i = (await c.set("/d/a", "1")).etcdIndex;
  await c.set("/d/b", "2");
  const plain = await c.get(c.k("/d"), { recursive: "true", sorted: "true" });
  const q = await c.get(c.k("/d"), { recursive: "true", sorted: "true", quorum: "true" });
  const want = ev("get", dir(c.key("/d"), i, i, { nodes: [file(c.key("/d/a"), "1", i), file(c.key("/d/b"), "2", i + 1)] }));
  c.ok(plain, 200, want, i + 1);
  c.ok(q, 200, want, i + 1);
  c.err(await c.get(c.k("/d/zz"), { quorum: "true" }), 404, 100, c.key("/d/zz"), i + 1);
  c.err(await c.get(c.k("/d/a/x"), { quorum: "true" }), 400, 104, c.key("/d/a"), i + 1);
});

tc("quorum: a read right after a write sees it", async (c) => {
  for (let n = 0; n < 10; n++) {
    const i = (await c.set("/a", String(n))).etcdIndex;
    c.ok(await c.get(c.k("/a"), { quorum: "true" }), 200, ev("get", file(c.key("/a"), String(n), i)), i);
  }
});

// =============================================================================================
// 12. etcdctl (API v2) against the member, when etcdctl is installed
// =============================================================================================

interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function etcdctl(c: Ctx, args: string[], timeoutMs = 15_000): Promise<CtlResult> {
  return new Promise((resolve) => {
    execFile(
      etcdctlBin!,
      ["--endpoints", c.base, ...args],
      { env: { ...process.env, ETCDCTL_API: "2" }, timeout: timeoutMs, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function ctlOk(r: CtlResult, stdout: string, what: string): void {
  assert.is(r.code, 0, `${what}: exit code (stderr ${JSON.stringify(r.stderr)})`);
  assert.is(r.stdout, stdout, `${what}: stdout`);
}

function ctlErr(r: CtlResult, stderr: string, what: string): void {
  assert.is(r.code, 4, `${what}: exit code`);
  assert.is(r.stdout, "", `${what}: stdout`);
  assert.is(r.stderr, stderr, `${what}: stderr`);
}

const etcdctlBin = which("etcdctl");
if (etcdctlBin === null) {
  console.log("etcdctl not installed: the etcdctl cases are not registered");
} else {
  tc("etcdctl: set, get, extended and json output", async (c) => {
    const k = c.key("/foo");
    ctlOk(await etcdctl(c, ["set", k, "bar"]), "bar\n", "set");
    const i = await c.index();
    ctlOk(await etcdctl(c, ["get", k]), "bar\n", "get");
    ctlOk(await etcdctl(c, ["get", "--quorum", k]), "bar\n", "get --quorum");
    ctlOk(await etcdctl(c, ["-o", "extended", "get", k]), `Key: ${k}\nCreated-Index: ${i}\nModified-Index: ${i}\nTTL: 0\nIndex: ${i}\n\nbar\n`, "get -o extended");
    ctlOk(
      await etcdctl(c, ["-o", "json", "get", k]),
      `{"action":"get","node":{"key":"${k}","value":"bar","nodes":null,"createdIndex":${i},"modifiedIndex":${i}},"prevNode":null}\n`,
      "get -o json",
    );
  });

  tc("etcdctl: errors are printed with code, cause and index", async (c) => {
    const i = (await c.set("/foo", "x")).etcdIndex;
    ctlErr(await etcdctl(c, ["get", c.key("/nope")]), `Error:  100: Key not found (${c.key("/nope")}) [${i}]\n`, "get missing");
    ctlErr(await etcdctl(c, ["mk", c.key("/foo"), "y"]), `Error:  105: Key already exists (${c.key("/foo")}) [${i}]\n`, "mk existing");
    ctlErr(await etcdctl(c, ["set", "--swap-with-value", "wrong", c.key("/foo"), "q"]), `Error:  101: Compare failed ([wrong != x]) [${i}]\n`, "swap");
    ctlErr(await etcdctl(c, ["get", c.key("/foo/bar")]), `Error:  104: Not a directory (${c.key("/foo")}) [${i}]\n`, "get under a file");
  });

  tc("etcdctl: mk, mkdir, ls, update, swap, rm, rmdir", async (c) => {
    const p = c.key();
    ctlOk(await etcdctl(c, ["mk", `${p}/a`, "1"]), "1\n", "mk");
    ctlOk(await etcdctl(c, ["mkdir", `${p}/d`]), "", "mkdir");
    ctlOk(await etcdctl(c, ["set", `${p}/d/x`, "2"]), "2\n", "set in dir");
    ctlOk(await etcdctl(c, ["set", `${p}/d/_h`, "3"]), "3\n", "set hidden");
    ctlOk(await etcdctl(c, ["ls", "--sort", p]), `${p}/a\n${p}/d\n`, "ls --sort");
    ctlOk(await etcdctl(c, ["ls", "--sort", "--recursive", "-p", p]), `${p}/a\n${p}/d/\n${p}/d/x\n`, "ls --recursive -p");
    ctlOk(await etcdctl(c, ["update", `${p}/a`, "u"]), "u\n", "update");
    ctlOk(await etcdctl(c, ["set", "--swap-with-value", "u", `${p}/a`, "s"]), "s\n", "swap");
    const i = await c.index();
    ctlErr(await etcdctl(c, ["rm", `${p}/d`]), `Error:  102: Not a file (${p}/d) [${i}]\n`, "rm dir");
    ctlErr(await etcdctl(c, ["rmdir", `${p}/d`]), `Error:  108: Directory not empty (${p}/d) [${i}]\n`, "rmdir non-empty");
    ctlOk(await etcdctl(c, ["rm", "--recursive", `${p}/d`]), "", "rm --recursive");
    ctlOk(await etcdctl(c, ["rm", `${p}/a`]), "PrevNode.Value: s\n", "rm");
    ctlOk(await etcdctl(c, ["mkdir", `${p}/e`]), "", "mkdir");
    ctlOk(await etcdctl(c, ["rmdir", `${p}/e`]), "", "rmdir");
  });

  tc("etcdctl: mkdir and updatedir with a ttl", async (c) => {
    const p = c.key();
    ctlOk(await etcdctl(c, ["mkdir", "--ttl", String(LONG_TTL), `${p}/td`]), "", "mkdir --ttl");
    ctlOk(await etcdctl(c, ["updatedir", "--ttl", String(LONG_TTL + 100), `${p}/td`]), "", "updatedir");
    const g = await c.get(c.k("/td"));
    assert.is(g.json().node.ttl, LONG_TTL + 100);
    const i = await c.index();
    ctlErr(await etcdctl(c, ["updatedir", "--ttl", "5", `${p}/nod`]), `Error:  100: Key not found (${p}/nod) [${i}]\n`, "updatedir missing");
  });

  tc("etcdctl: watch prints the next value", async (c) => {
    const k = c.key("/w");
    const pending = etcdctl(c, ["watch", k], 10_000);
    // etcdctl has to register first; keep writing until it has seen one.
    let n = 0;
    const writer = (async () => {
      while (n < 40) {
        await sleep(200);
        n++;
        await c.set("/w", "v" + n);
        const done = await Promise.race([pending.then(() => true), sleep(0).then(() => false)]);
        if (done) return;
      }
    })();
    const r = await pending;
    await writer;
    assert.is(r.code, 0, `watch exit code (stderr ${JSON.stringify(r.stderr)})`);
    assert.ok(/^v\d+\n$/.test(r.stdout), `watch printed ${JSON.stringify(r.stdout)}`);
  });

  tc("etcdctl: member list and cluster-health", async (c) => {
    const id = c.env.memberId;
    ctlOk(await etcdctl(c, ["member", "list"]), `${id}: name=${c.env.member.name} peerURLs=${c.env.member.peerURL} clientURLs=${c.env.member.clientURL} isLeader=true\n`, "member list");
    ctlOk(await etcdctl(c, ["cluster-health"]), `member ${id} is healthy: got healthy result from ${c.env.member.clientURL}\ncluster is healthy\n`, "cluster-health");
  });
}
