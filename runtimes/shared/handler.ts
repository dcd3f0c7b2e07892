// Wraps the member's request handler the same way on every runtime: a throw or rejection
// becomes a logged 500 instead of each runtime's own default (silent 500, HTML error page...).
import type { Handler, Logger, RequestInfo } from "../../core/runtime.ts";

export function guardHandler(handler: Handler, log: Logger): (req: Request, info: RequestInfo) => Promise<Response> {
  return async (req, info) => {
    try {
      return await handler(req, info);
    } catch (e) {
      log.error("http handler failed", { method: req.method, url: req.url, error: describe(e) });
      return new Response("internal server error\n", {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
  };
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
