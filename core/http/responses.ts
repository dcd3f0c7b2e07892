// Response shapes shared by the client routes: etcd errors, Go-style 404/405, JSON bodies.
import type { EtcdError } from "../errors.ts";
import { errorJSON } from "../store/json.ts";
import { externalKey } from "../store/path.ts";
import { reply } from "./reply.ts";

/** An etcd v2 error: JSON body + "\n", X-Etcd-Index = the error's index, "/1" stripped from the cause. */
export function errorResponse(e: EtcdError, headers: Record<string, string> = {}, head = false): Response {
  const body = e.toJSON();
  if (body.cause !== undefined && body.cause.startsWith("/1")) {
    const cause = externalKey(body.cause);
    if (cause === "") delete body.cause;
    else body.cause = cause;
  }
  return reply(e.status, { "Content-Type": "application/json", ...headers, "X-Etcd-Index": String(e.index) }, head ? null : errorJSON(body) + "\n");
}

/** Go's http.Error(w, "Method Not Allowed", 405) after setting Allow. */
export function methodNotAllowed(allowed: string[]): Response {
  return reply(405, {
    Allow: allowed.join(","),
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
  }, "Method Not Allowed\n");
}

/** Go's http.NotFound. */
export function notFound(): Response {
  return reply(404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" }, "404 page not found\n");
}

/** A JSON body; etcd's encoders add "\n" for some endpoints and not others. */
export function json(value: unknown, status = 200, headers: Record<string, string> = {}, newline = true): Response {
  return reply(status, { "Content-Type": "application/json", ...headers }, JSON.stringify(value) + (newline ? "\n" : ""));
}

/** A plain text body as Go's content sniffing labels it. */
export function text(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return reply(status, { "Content-Type": "text/plain; charset=utf-8", ...headers }, body);
}
