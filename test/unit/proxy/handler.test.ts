// The v2 proxy handler (core/proxy/handler.ts) with a fake fetch: forwarding, failover and
// the failure wait, readonly, streaming passthrough, etcd's error answers.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/proxy/handler.test.js
//   ./node_modules/.bin/bun test/unit/proxy/handler.test.ts
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createProxyHandler } from "../../../core/proxy/handler.ts";
import type { ProxyHandlerOptions } from "../../../core/proxy/handler.ts";
import { RecordingLogger } from "../../support/memory-runtime.ts";

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string;
  signal: AbortSignal;
}

/** A fake network: endpoints listed in `down` refuse connections; others answer with `answer`. */
function fakeNet(answer: (req: Request, body: string) => Response | Promise<Response> = () => new Response("ok")) {
  const calls: Call[] = [];
  const down = new Set<string>();
  const fetch = async (req: Request): Promise<Response> => {
    const body = req.body ? await req.text() : "";
    calls.push({ url: req.url, method: req.method, headers: req.headers, body, signal: req.signal });
    const origin = new URL(req.url).origin;
    if (down.has(origin)) throw new TypeError("fetch failed", { cause: new Error(`connect ECONNREFUSED ${origin}`) });
    return answer(req, body);
  };
  return { calls, down, fetch };
}

function handlerWith(net: ReturnType<typeof fakeNet>, endpoints: string[], extra: Partial<ProxyHandlerOptions> = {}) {
  let t = 1_000_000;
  const clock = { advance: (ms: number) => (t += ms) };
  const log = new RecordingLogger();
  const handler = createProxyHandler({ fetch: net.fetch, endpoints: () => endpoints, now: () => t, log, ...extra });
  return { handler, clock, log };
}

const A = "http://10.0.0.1:2379";
const B = "http://10.0.0.2:2379";
const C = "http://10.0.0.3:2379";

test("forwards method, path, query, headers and body; passes the answer back", async () => {
  const net = fakeNet((_req, body) =>
    new Response(`{"echo":${JSON.stringify(body)}}`, {
      status: 201,
      headers: { "Content-Type": "application/json", "X-Etcd-Index": "7", Connection: "keep-alive" },
    }),
  );
  const { handler } = handlerWith(net, [A, B]);
  const res = await handler(
    new Request("http://proxy:2379/v2/keys/foo%20bar?prevExist=false&ttl=5", {
      method: "PUT",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Basic eDp5", Connection: "close", Te: "trailers" },
      body: "value=1",
    }),
    { rawTarget: "/v2/keys/foo%20bar?prevExist=false&ttl=5" },
  );
  assert.is(res.status, 201);
  assert.is(res.headers.get("x-etcd-index"), "7");
  assert.is(res.headers.get("connection"), null, "hop-by-hop headers are not passed back");
  assert.is(await res.text(), '{"echo":"value=1"}');
  assert.is(net.calls.length, 1);
  const c = net.calls[0]!;
  assert.is(c.url, `${A}/v2/keys/foo%20bar?prevExist=false&ttl=5`);
  assert.is(c.method, "PUT");
  assert.is(c.body, "value=1");
  assert.is(c.headers.get("content-type"), "application/x-www-form-urlencoded");
  assert.is(c.headers.get("authorization"), "Basic eDp5");
  assert.is(c.headers.get("te"), null);
  assert.is(c.headers.get("connection"), null);
});

test("HTTP errors are answers: passed back, no other endpoint tried", async () => {
  const net = fakeNet(() => new Response('{"errorCode":100}', { status: 404 }));
  const { handler } = handlerWith(net, [A, B]);
  const res = await handler(new Request("http://proxy/v2/keys/missing"));
  assert.is(res.status, 404);
  assert.is(await res.text(), '{"errorCode":100}');
  assert.is(net.calls.length, 1);
  const net5 = fakeNet(() => new Response("boom", { status: 500 }));
  const h5 = handlerWith(net5, [A, B]).handler;
  assert.is((await h5(new Request("http://proxy/v2/keys/x"))).status, 500);
  assert.is(net5.calls.length, 1);
});

test("a connection error tries the next endpoint with the same body and marks the failed one out for failureWaitMs", async () => {
  const net = fakeNet((req) => new Response(new URL(req.url).origin));
  net.down.add(A);
  const { handler, clock, log } = handlerWith(net, [A, B, C], { failureWaitMs: 5000 });
  const put = () => new Request("http://proxy/v2/keys/k", { method: "PUT", body: "value=v", headers: { "Content-Type": "application/x-www-form-urlencoded" } });

  const r1 = await handler(put());
  assert.is(await r1.text(), B);
  assert.equal(net.calls.map((c) => [new URL(c.url).origin, c.body]), [[A, "value=v"], [B, "value=v"]]);
  assert.ok(log.find("info", `proxy: marked endpoint ${A} unavailable`).length === 1, log.dump());
  assert.ok(log.find("info", `failed to direct request to ${A}`).length === 1, log.dump());

  // Within the failure wait, A is not tried at all.
  net.calls.length = 0;
  clock.advance(4999);
  assert.is(await (await handler(put())).text(), B);
  assert.equal(net.calls.map((c) => new URL(c.url).origin), [B]);

  // After it, A is tried again (and, being back, answers).
  net.calls.length = 0;
  net.down.delete(A);
  clock.advance(1);
  assert.is(await (await handler(put())).text(), A);
  assert.equal(net.calls.map((c) => new URL(c.url).origin), [A]);
  assert.ok(log.find("info", `proxy: marked endpoint ${A} available, to retest connectivity`).length === 1);
});

test("every endpoint failing: 502 naming how many were tried; then 503 while they are all held out", async () => {
  const net = fakeNet();
  net.down.add(A).add(B);
  const { handler, clock } = handlerWith(net, [A, B]);
  const r1 = await handler(new Request("http://proxy/v2/keys/k"));
  assert.is(r1.status, 502);
  assert.is(r1.headers.get("content-type"), "application/json");
  assert.is(await r1.text(), '{"message":"httpproxy: unable to get response from 2 endpoint(s)"}');
  const r2 = await handler(new Request("http://proxy/v2/keys/k"));
  assert.is(r2.status, 503);
  assert.is(await r2.text(), '{"message":"httpproxy: zero endpoints currently available"}');
  assert.is(net.calls.length, 2);
  clock.advance(5000);
  assert.is((await handler(new Request("http://proxy/v2/keys/k"))).status, 502);
  assert.is(net.calls.length, 4);
});

test("no endpoints known: 503 zero endpoints", async () => {
  const net = fakeNet();
  const { handler } = handlerWith(net, []);
  const r = await handler(new Request("http://proxy/v2/keys/k"));
  assert.is(r.status, 503);
  assert.is(await r.text(), '{"message":"httpproxy: zero endpoints currently available"}');
  assert.is(net.calls.length, 0);
});

test("readonly: every method but GET answers 501 with no body; GET is forwarded", async () => {
  const net = fakeNet();
  const { handler } = handlerWith(net, [A], { readonly: true });
  for (const method of ["PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"]) {
    const r = await handler(new Request("http://proxy/v2/keys/k", { method, ...(method === "PUT" || method === "POST" ? { body: "value=1" } : {}) }));
    assert.is(r.status, 501, method);
    assert.is(await r.text(), "", method);
  }
  assert.is(net.calls.length, 0);
  const g = await handler(new Request("http://proxy/v2/keys/k"));
  assert.is(g.status, 200);
  assert.is(net.calls.length, 1);
});

test("streams the response through without buffering, and a client that leaves cancels the upstream", async () => {
  const encoder = new TextEncoder();
  let push!: (s: string) => void;
  let upstreamCancelled = false;
  const net = fakeNet(() => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (s) => controller.enqueue(encoder.encode(s));
      },
      cancel() {
        upstreamCancelled = true;
      },
    });
    return new Response(body, { headers: { "Content-Type": "application/json" } });
  });
  const { handler } = handlerWith(net, [A]);
  const client = new AbortController();
  const res = await handler(new Request("http://proxy/v2/keys/w?wait=true&recursive=true", { signal: client.signal }));
  assert.is(res.status, 200, "the headers arrive before any event");
  const reader = res.body!.getReader();
  push('{"action":"set"}\n');
  const first = await reader.read();
  assert.is(new TextDecoder().decode(first.value), '{"action":"set"}\n');
  push('{"action":"delete"}\n');
  const second = await reader.read();
  assert.is(new TextDecoder().decode(second.value), '{"action":"delete"}\n');
  // The client goes away: the upstream request is aborted and its stream cancelled.
  client.abort();
  await reader.cancel();
  assert.ok(net.calls[0]!.signal.aborted, "upstream request aborted");
  assert.ok(upstreamCancelled, "upstream stream cancelled");
});

test("X-Forwarded-For: the client address is appended to prior values when the host knows it", async () => {
  const net = fakeNet();
  const { handler } = handlerWith(net, [A]);
  await handler(new Request("http://proxy/v2/keys/k"), { remoteAddress: "192.0.2.7" });
  assert.is(net.calls[0]!.headers.get("x-forwarded-for"), "192.0.2.7");
  await handler(new Request("http://proxy/v2/keys/k", { headers: { "X-Forwarded-For": "203.0.113.1" } }), { remoteAddress: "192.0.2.7" });
  assert.is(net.calls[1]!.headers.get("x-forwarded-for"), "203.0.113.1, 192.0.2.7");
  // Unknown address: prior values pass unchanged, none is invented.
  await handler(new Request("http://proxy/v2/keys/k", { headers: { "X-Forwarded-For": "203.0.113.1" } }));
  assert.is(net.calls[2]!.headers.get("x-forwarded-for"), "203.0.113.1");
  await handler(new Request("http://proxy/v2/keys/k"));
  assert.is(net.calls[3]!.headers.get("x-forwarded-for"), null);
});

test("an unclean path is redirected (301) by the proxy itself, as Go's ServeMux does", async () => {
  const net = fakeNet();
  const { handler } = handlerWith(net, [A], { cors: ["*"] });
  const r = await handler(new Request("http://proxy/v2/keys/a"), { rawTarget: "/v2/keys/x/../a?recursive=true" });
  assert.is(r.status, 301);
  assert.is(r.headers.get("location"), "/v2/keys/a?recursive=true");
  assert.is(await r.text(), '<a href="/v2/keys/a?recursive=true">Moved Permanently</a>.\n\n');
  assert.is(r.headers.get("access-control-allow-origin"), null);
  assert.is(net.calls.length, 0);
});

test("/v2/config/local/proxy lists the endpoints in use; other methods get 405", async () => {
  const net = fakeNet();
  net.down.add(A);
  const { handler } = handlerWith(net, [A, B]);
  await handler(new Request("http://proxy/v2/keys/k")); // marks A out
  const r = await handler(new Request("http://proxy/v2/config/local/proxy"));
  assert.is(r.status, 200);
  assert.is(r.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.is(await r.text(), `{"endpoints":["${B}"]}\n`);
  const p = await handler(new Request("http://proxy/v2/config/local/proxy", { method: "PUT", body: "x" }));
  assert.is(p.status, 405);
  assert.is(p.headers.get("allow"), "GET");
  assert.is(await p.text(), "Method Not Allowed\n");
});

test("CORS (when configured): headers added once, OPTIONS answered by the proxy", async () => {
  const net = fakeNet(() => new Response("ok", { headers: { "Access-Control-Allow-Origin": "*" } }));
  const { handler } = handlerWith(net, [A], { cors: ["*"] });
  const o = await handler(new Request("http://proxy/v2/keys/k", { method: "OPTIONS" }));
  assert.is(o.status, 200);
  assert.is(o.headers.get("access-control-allow-methods"), "POST, GET, OPTIONS, PUT, DELETE");
  assert.is(net.calls.length, 0);
  const g = await handler(new Request("http://proxy/v2/keys/k"));
  assert.is(g.headers.get("access-control-allow-origin"), "*");
  assert.is(g.headers.get("access-control-allow-headers"), "accept, content-type, authorization");
  const only = fakeNet();
  const h2 = handlerWith(only, [A], { cors: ["http://a.example"] }).handler;
  const g2 = await h2(new Request("http://proxy/v2/keys/k", { headers: { Origin: "http://b.example" } }));
  assert.is(g2.headers.get("access-control-allow-origin"), null);
  const g3 = await h2(new Request("http://proxy/v2/keys/k", { headers: { Origin: "http://a.example" } }));
  assert.is(g3.headers.get("access-control-allow-origin"), "http://a.example");
});

test("redirects from a member are passed back, not followed", async () => {
  const net = fakeNet(() => new Response(null, { status: 307, headers: { Location: "http://10.0.0.9:2379/v2/keys/k" } }));
  const { handler } = handlerWith(net, [A]);
  const r = await handler(new Request("http://proxy/v2/keys/k"));
  assert.is(r.status, 307);
  assert.is(r.headers.get("location"), "http://10.0.0.9:2379/v2/keys/k");
});

test.run();
