// Runtime for Node 20+: HTTP through @hono/node-server, files through node:fs/promises.
import { createLogger } from "../../core/log.ts";
import type { Logger, Runtime } from "../../core/runtime.ts";
import { resolveSrvNode } from "../shared/node-dns.ts";
import { createNodeFs } from "../shared/node-fs.ts";
import { serveNode } from "../shared/node-serve.ts";
import { makeWallClock } from "../shared/clock.ts";
import { makeSetTimer } from "../shared/timer.ts";

export interface NodeRuntimeOptions {
  log?: Logger;
}

export function createNodeRuntime(opts: NodeRuntimeOptions = {}): Runtime {
  const now = makeWallClock();
  const log = opts.log ?? createLogger((line) => process.stderr.write(line + "\n"), now);
  return {
    name: "node",
    now,
    monotonic: () => performance.now(),
    // Timers are not unref'd: a member's pending timers must keep the process alive.
    setTimer: makeSetTimer(),
    random: Math.random,
    fs: createNodeFs(),
    serve: (o, handler) => serveNode(o, handler, log),
    fetch: (req) => globalThis.fetch(req),
    resolveSrv: resolveSrvNode,
    log,
  };
}
