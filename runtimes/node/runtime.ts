// Runtime for Node 20+: HTTP through @hono/node-server, files through node:fs/promises.
import { createAdaptorServer } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "../../core/log.ts";
import type { Handler, Listener, Logger, Runtime, ServeOptions } from "../../core/runtime.ts";
import { guardHandler } from "../shared/handler.ts";
import { listenError } from "../shared/listen-error.ts";
import { resolveSrvNode } from "../shared/node-dns.ts";
import { createNodeFs } from "../shared/node-fs.ts";
import { makeSetTimer } from "../shared/timer.ts";

export interface NodeRuntimeOptions {
  log?: Logger;
}

export function createNodeRuntime(opts: NodeRuntimeOptions = {}): Runtime {
  const now = (): number => performance.timeOrigin + performance.now();
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

function serveNode(opts: ServeOptions, handler: Handler, log: Logger): Promise<Listener> {
  const server = createAdaptorServer({
    fetch: guardHandler(handler, log),
    hostname: opts.hostname,
    // Leave the global Request/Response alone: core and fetch() keep the standard classes.
    overrideGlobalObjects: false,
    serverOptions: {
      // requestTimeout bounds receiving a whole request body; a slow peer stream may take
      // longer than the 5-minute default. Idle/keep-alive limits stay as Node sets them.
      requestTimeout: 0,
    },
  }) as Server;

  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      reject(listenError(opts, e.code, e));
    };
    const onListening = (): void => {
      server.off("error", onError);
      server.on("error", (e) => log.error("http server error", { error: e }));
      resolve(listener(server));
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(opts.port, opts.hostname);
  });
}

function listener(server: Server): Listener {
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // server.close() alone waits for every open connection to end; a watch stream may
        // never end, and idle keep-alive sockets would hold it for seconds. Cut them all.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
