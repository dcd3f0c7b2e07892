// Runtime for Bun: HTTP through Bun.serve, files through the shared node:fs adapter
// (Bun implements node:fs/promises), SRV through node:dns.
import { createLogger } from "../../core/log.ts";
import type { Handler, Listener, Logger, Runtime, ServeOptions } from "../../core/runtime.ts";
import { guardHandler } from "../shared/handler.ts";
import { listenError } from "../shared/listen-error.ts";
import { resolveSrvNode } from "../shared/node-dns.ts";
import { createNodeFs } from "../shared/node-fs.ts";
import { makeSetTimer } from "../shared/timer.ts";

export interface BunRuntimeOptions {
  log?: Logger;
}

export function createBunRuntime(opts: BunRuntimeOptions = {}): Runtime {
  const now = (): number => performance.timeOrigin + performance.now();
  const log = opts.log ?? createLogger((line) => process.stderr.write(line + "\n"), now);
  return {
    name: "bun",
    now,
    monotonic: () => performance.now(),
    setTimer: makeSetTimer(),
    random: Math.random,
    fs: createNodeFs(),
    serve: (o, handler) => serveBun(o, handler, log),
    fetch: (req) => globalThis.fetch(req),
    resolveSrv: resolveSrvNode,
    log,
  };
}

async function serveBun(opts: ServeOptions, handler: Handler, log: Logger): Promise<Listener> {
  const fetch = guardHandler(handler, log);
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
      fetch: (req) => fetch(req),
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
