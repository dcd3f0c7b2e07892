// serve() over node:http through @hono/node-server. Node uses it; Bun can too (its node:http
// sends the response head at once, which Bun.serve does not do for a stream body).
import { createAdaptorServer } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Handler, Listener, Logger, ServeOptions } from "../../core/runtime.ts";
import { guardHandler } from "./handler.ts";
import { listenError } from "./listen-error.ts";

export function serveNode(opts: ServeOptions, handler: Handler, log: Logger): Promise<Listener> {
  const guarded = guardHandler(handler, log);
  const server = createAdaptorServer({
    // The adaptor's Request has a WHATWG-normalised url; the raw target comes from node:http.
    fetch: (req: Request, env: { incoming: { url?: string } }) =>
      guarded(req, { rawTarget: env.incoming.url ?? new URL(req.url).pathname }),
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
