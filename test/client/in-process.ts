// A one-member cluster inside the test process, for the client's unit tests: the real Member
// (Raft, store, watch hub, TTL sync) over an in-memory disk and the real clock, served by the
// real client Hono app, reached through a `fetch` that hands each Request to app.fetch. No
// sockets and no node:* import, so the same tests run on Node, Bun and Deno.
//
// `fetch` also counts requests and lets a test break the "network": fail() makes every request
// reject as a refused connection would, and answers can be rewritten per request (wrap()).
import { parseConfig } from "../../core/config.ts";
import { MemoryFileSystem } from "../../core/fs/memory.ts";
import { createClientApp } from "../../core/http/app.ts";
import type { Handler, Listener, Logger, Runtime, ServeOptions, SrvRecord } from "../../core/runtime.ts";
import { Member } from "../../core/server/member.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Real clock, real timers, memory disk; no network. */
export class RealtimeMemoryRuntime implements Runtime {
  readonly name = "memory" as const;
  readonly fs = new MemoryFileSystem();
  readonly log = quiet;
  now(): number { return Date.now(); }
  monotonic(): number { return performance.now(); }
  setTimer(ms: number, fn: () => void): () => void {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  }
  random(): number { return Math.random(); }
  serve(_o: ServeOptions, _h: Handler): Promise<Listener> { throw new Error("no network in process"); }
  fetch(_r: Request): Promise<Response> { return Promise.reject(new Error("no network in process")); }
  resolveSrv(_n: string): Promise<SrvRecord[]> { return Promise.reject(new Error("no network in process")); }
}

export interface Recorded {
  method: string;
  url: string;
  body: string | undefined;
}

export interface InProcessMember {
  member: Member;
  /** Hand a request to the member's client app. */
  handle(req: Request): Promise<Response>;
  /** A fetch for the client: URL host ignored, requests recorded in `requests`. */
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  requests: Recorded[];
  stop(): Promise<void>;
}

export async function startInProcess(name = "n1"): Promise<InProcessMember> {
  const r = parseConfig(["--name", name, "--data-dir", `/data/${name}`, "--enable-v2"], {});
  if (r.kind !== "ok") throw new Error(`parseConfig: ${JSON.stringify(r)}`);
  const rt = new RealtimeMemoryRuntime();
  const member = await Member.open(rt, r.config);
  await member.publish();
  for (let i = 0; i < 50 && member.clusterVersion() === "not_decided"; i++) await new Promise((res) => setTimeout(res, 50));
  const app = createClientApp(member);
  const requests: Recorded[] = [];
  const handle = async (req: Request): Promise<Response> => app.fetch(req);
  return {
    member,
    handle,
    requests,
    fetch: async (input, init) => {
      requests.push({ method: init.method ?? "GET", url: input, body: typeof init.body === "string" ? init.body : undefined });
      if (init.signal?.aborted) throw init.signal.reason;
      return abortable(await handle(new Request(input, init)), init.signal);
    },
    stop: () => member.stop(),
  };
}

/**
 * As a real fetch does: once the request's signal aborts, reading the body fails with the
 * signal's reason (app.fetch alone would just end the body).
 */
export function abortable(res: Response, signal: AbortSignal | null | undefined): Response {
  if (!signal || !res.body) return res;
  const reader = res.body.getReader();
  let onAbort = (): void => {};
  let finished = false;
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      onAbort = () => {
        if (finished) return;
        finished = true;
        try { ctl.error(signal.reason); } catch { /* closed */ }
        reader.cancel().catch(() => {});
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(ctl) {
      try {
        const r = await reader.read();
        if (finished) return;
        if (r.done) {
          finished = true;
          signal.removeEventListener("abort", onAbort);
          ctl.close();
        } else {
          ctl.enqueue(r.value);
        }
      } catch (e) {
        if (!finished) {
          finished = true;
          ctl.error(e);
        }
      }
    },
    cancel(reason) {
      finished = true;
      signal.removeEventListener("abort", onAbort);
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** p, or a rejection naming `what` once ms have passed. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
