// Runtime for Bun: files through the shared node:fs adapter (Bun implements node:fs/promises),
// SRV through node:dns, HTTP through Bun's node:http (default) or Bun.serve.
//
// Why node:http by default: Bun 1.4's Bun.serve holds back the end of the response head
// (Date, Transfer-Encoding and the blank line) until a stream body yields its first chunk, so
// a client waiting on a quiet watch never even gets the headers (oven-sh/bun PR #33660, open).
// Bun's node:http sends the head at once. The conformance suite shows which passes.
import { createLogger } from "../../core/log.ts";
import type { Handler, Listener, Logger, Runtime, ServeOptions } from "../../core/runtime.ts";
import { guardHandler } from "../shared/handler.ts";
import { listenError } from "../shared/listen-error.ts";
import { resolveSrvNode } from "../shared/node-dns.ts";
import { createNodeFs } from "../shared/node-fs.ts";
import { serveNode } from "../shared/node-serve.ts";
import { makeWallClock } from "../shared/clock.ts";
import { makeSetTimer } from "../shared/timer.ts";

export interface BunRuntimeOptions {
  log?: Logger;
  /** "node-http" (default): Bun's node:http via @hono/node-server. "bun-serve": Bun.serve. */
  server?: "node-http" | "bun-serve";
}

export function createBunRuntime(opts: BunRuntimeOptions = {}): Runtime {
  const now = makeWallClock();
  const log = opts.log ?? createLogger((line) => process.stderr.write(line + "\n"), now);
  return {
    name: "bun",
    now,
    monotonic: () => performance.now(),
    setTimer: makeSetTimer(),
    random: Math.random,
    fs: createNodeFs(),
    serve: (o, handler) =>
      opts.server === "bun-serve" ? serveBun(o, handler, log) : serveNode(o, handler, log),
    fetch: (req) => globalThis.fetch(req),
    resolveSrv: resolveSrvNode,
    log,
  };
}

async function serveBun(opts: ServeOptions, handler: Handler, log: Logger): Promise<Listener> {
  const serveOne = guardHandler(handler, log);
  let server: ReturnType<typeof Bun.serve>;
  try {
    // Bun.serve binds synchronously: it is listening once it returns, or it throws.
    server = Bun.serve({
      hostname: opts.hostname,
      port: opts.port,
      // Bun's default closes a connection after 10 s without traffic; a watch stream can be
      // silent for minutes. 0 disables the idle timeout.
      idleTimeout: 0,
      development: false,
      // Must be explicit: with development: false, Bun 1.4 turns SO_REUSEPORT on, and a second
      // server on a taken port then "succeeds" instead of failing with EADDRINUSE.
      reusePort: false,
      // Bun.serve normalises req.url ("." and ".." resolved), so this path loses the raw target.
      fetch: (req) => serveOne(req, { rawTarget: new URL(req.url).pathname + new URL(req.url).search }),
    });
  } catch (e) {
    throw listenError(opts, (e as { code?: string }).code, e);
  }
  const port = server.port;
  if (port === undefined) throw new Error("Bun.serve returned a server without a port");
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      // true: end in-flight requests (open watch streams) instead of waiting for them.
      closing ??= server.stop(true);
      return closing;
    },
  };
}
