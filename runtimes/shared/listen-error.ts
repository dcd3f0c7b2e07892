// One error shape for a failed listen on every runtime: a readable message and Node's
// `code` ("EADDRINUSE", "EACCES", ...) so callers can branch on it.
import type { ServeOptions } from "../../core/runtime.ts";

export function listenError(opts: ServeOptions, code: string | undefined, cause: unknown): Error {
  const where = `${opts.hostname}:${opts.port}`;
  const reason =
    code === "EADDRINUSE"
      ? "address already in use"
      : cause instanceof Error
        ? cause.message
        : String(cause);
  return Object.assign(new Error(`cannot listen on ${where}: ${reason}`, { cause }), { code });
}
