// One logical request, sent to the endpoints in turn: a per-request timeout (AbortController),
// the caller's AbortSignal honoured, failover on network errors, timeouts and 5xx answers,
// and the rule for writes that are not safe to repeat (see send()).
import { EtcdConnectionError, EtcdError, EtcdIndeterminateError, EtcdTimeoutError } from "./errors.ts";
import type { EndpointPool } from "./endpoints.ts";
import type { FetchLike } from "./types.ts";

export interface Attempt {
  method: "GET" | "PUT" | "POST" | "DELETE";
  /** Path and query, e.g. "/v2/keys/a?quorum=true". */
  target: string;
  body?: string;
  contentType?: string;
  /**
   * Safe to send again after an unknown outcome (it may have been applied): reads, watches,
   * plain set/update/refresh/delete. Not: create, POST, compare-and-swap/delete, member add/remove.
   */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
  /** Send to this endpoint only (no failover). */
  only?: string | undefined;
  /** Watch: the timeout covers the headers; the body is left for the caller (call done() after). */
  stream?: boolean;
  /** Hand back 5xx answers instead of failing over (health of one endpoint). */
  accept5xx?: boolean;
}

export interface Answer {
  status: number;
  headers: Headers;
  /** The body (empty for a stream: read `response` instead). */
  text: string;
  endpoint: string;
  response: Response;
  /** Stream only: unhook the caller's signal once the body has been read or abandoned. */
  done(): void;
  /** Stream only: abort the body read. */
  abort(): void;
}

/** Whether the error shows that the connection was never made (the request was not sent). */
export function isConnectRefused(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && e !== undefined; depth++) {
    if (typeof e === "object") {
      const code = (e as { code?: unknown }).code;
      if (code === "ECONNREFUSED" || code === "ConnectionRefused" || code === "ENOTFOUND" || code === "EAI_AGAIN") return true;
      const msg = String((e as { message?: unknown }).message ?? "");
      if (/ECONNREFUSED|connection refused|ConnectionRefused|os error 111|Unable to connect/i.test(msg)) return true;
      e = (e as { cause?: unknown }).cause;
    } else {
      return false;
    }
  }
  return false;
}

/** An error answer as an EtcdError (keys API body, `{"message"}` body, or any other body). */
export function errorFromAnswer(status: number, text: string, endpoint: string): EtcdError {
  try {
    const b = JSON.parse(text) as { errorCode?: unknown; message?: unknown; cause?: unknown; index?: unknown };
    if (b && typeof b === "object") {
      if (typeof b.errorCode === "number") {
        return new EtcdError({
          errorCode: b.errorCode, message: String(b.message ?? ""), status, endpoint,
          cause: typeof b.cause === "string" ? b.cause : "",
          index: typeof b.index === "number" ? b.index : 0,
        });
      }
      if (typeof b.message === "string") return new EtcdError({ errorCode: 0, message: b.message, status, endpoint });
    }
  } catch {
    /* not JSON */
  }
  return new EtcdError({ errorCode: 0, message: `HTTP ${status}: ${text.trim().slice(0, 200) || "(empty body)"}`, status, endpoint });
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

export class Transport {
  constructor(
    readonly pool: EndpointPool,
    private readonly fetchFn: FetchLike,
    readonly timeoutMs: number,
    private readonly headers: Record<string, string>,
    private readonly retryUnsafe: boolean,
  ) {}

  /**
   * Sends the request to the pinned endpoint, then the others, until one answers with a
   * status below 500. Failover happens on a network error, a timeout or a 5xx answer, except
   * for a request that is not idempotent (and retryUnsafe is off): after a failure that may
   * have happened once the request was sent (anything but a refused connection), it throws
   * EtcdIndeterminateError at once instead of sending it again elsewhere.
   *
   * The caller's signal aborts at once with the signal's reason; it never causes failover.
   */
  async send(a: Attempt): Promise<Answer> {
    const order = a.only !== undefined ? [a.only] : this.pool.order();
    const tried: string[] = [];
    const errors: Error[] = [];
    const what = `${a.method} ${a.target}`;
    for (const ep of order) {
      if (a.signal?.aborted) throw abortReason(a.signal);
      tried.push(ep);
      const ctl = new AbortController();
      let timedOut = false;
      const onAbort = (): void => ctl.abort(abortReason(a.signal!));
      a.signal?.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(() => {
        timedOut = true;
        ctl.abort(new EtcdTimeoutError(ep, this.timeoutMs));
      }, this.timeoutMs);
      let cleaned = false;
      const cleanup = (): void => {
        if (cleaned) return;
        cleaned = true;
        clearTimeout(timer);
        a.signal?.removeEventListener("abort", onAbort);
      };
      let failure: Error;
      let notSent = false;
      try {
        const headers: Record<string, string> = { ...this.headers };
        if (a.contentType !== undefined) headers["Content-Type"] = a.contentType;
        const init: RequestInit = { method: a.method, headers, signal: ctl.signal };
        if (a.body !== undefined) init.body = a.body;
        const res = await this.fetchFn(ep + a.target, init);
        if (a.stream && res.status >= 200 && res.status < 300) {
          clearTimeout(timer);
          this.pool.pin(ep);
          return { status: res.status, headers: res.headers, text: "", endpoint: ep, response: res, done: cleanup, abort: () => ctl.abort() };
        }
        const text = await res.text();
        cleanup();
        if (res.status < 500 || a.accept5xx) {
          this.pool.pin(ep);
          return { status: res.status, headers: res.headers, text, endpoint: ep, response: res, done: () => {}, abort: () => {} };
        }
        failure = errorFromAnswer(res.status, text, ep);
      } catch (e) {
        cleanup();
        if (a.signal?.aborted) throw abortReason(a.signal);
        if (timedOut) {
          failure = new EtcdTimeoutError(ep, this.timeoutMs);
        } else {
          notSent = isConnectRefused(e);
          const msg = describe(e);
          failure = new Error(`${ep}: ${msg}`, { cause: e });
        }
      }
      errors.push(failure);
      this.pool.demote(ep);
      if (!a.idempotent && !this.retryUnsafe && !notSent) {
        throw new EtcdIndeterminateError(
          `${what}: outcome unknown (${explain(ep, failure)}); not sent to another endpoint because it is not safe to repeat`,
          tried, errors,
        );
      }
    }
    throw new EtcdConnectionError(`${what}: no endpoint answered (${tried.map((t, i) => explain(t, errors[i]!)).join("; ")})`, tried, errors);
  }
}

/** An error's message with its cause's (fetch errors hide the useful part in `cause`). */
export function describe(e: unknown): string {
  const parts: string[] = [];
  let x: unknown = e;
  for (let i = 0; i < 3 && x !== undefined && x !== null; i++) {
    const m = typeof x === "object" ? String((x as { message?: unknown }).message ?? x) : String(x);
    if (m !== "" && !parts.includes(m)) parts.push(m);
    x = typeof x === "object" ? (x as { cause?: unknown }).cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}

/** One endpoint's failure for a summary message. */
function explain(endpoint: string, e: Error): string {
  const text = e instanceof EtcdError
    ? `HTTP ${e.status}${e.errorCode ? ` error ${e.errorCode}` : ""}: ${e.message}${e.cause ? ` (${e.cause})` : ""}`
    : e.message;
  return text.startsWith(endpoint) ? text : `${endpoint}: ${text}`;
}
