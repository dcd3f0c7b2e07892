// Watches as long polls: one `GET ...?wait=true&waitIndex=N` per event, resumed from the last
// event's modifiedIndex + 1 after a disconnect, an empty answer or a failover, so no event is
// skipped. Why not `stream=true`: a stream served from the history sends one event and then
// stays silent (etcd quirk), and a live stream whose 100-event buffer overflows is silently
// unhooked by etcd; a long poll with waitIndex goes through the 1000-event history each time,
// so the only way to lose events is error 401 (EventIndexCleared), which is reported.
import { EtcdConnectionError, EtcdError, ErrorCodes } from "./errors.ts";
import { keysResponse } from "./response.ts";
import { abortReason, describe, errorFromAnswer, type Transport } from "./transport.ts";
import type { EtcdResponse, ResyncEvent } from "./types.ts";

interface PollResult {
  event: EtcdResponse | null;
  /** X-Etcd-Index of the answer: the store index when the watch was registered. */
  registeredAt: number;
  endpoint: string;
  /** Why there is no event: the body was empty, or reading it failed. */
  broken?: string;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortReason(signal!));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** One long poll: an event, or null when the server ended the answer without one. */
async function pollOnce(t: Transport, path: string, recursive: boolean, waitIndex: number | undefined, signal?: AbortSignal): Promise<PollResult> {
  let q = "wait=true";
  if (recursive) q += "&recursive=true";
  if (waitIndex !== undefined) q += `&waitIndex=${waitIndex}`;
  const ans = await t.send({ method: "GET", target: `/v2/keys${path === "/" ? "/" : path}?${q}`, idempotent: true, stream: true, signal });
  if (ans.status < 200 || ans.status >= 300) throw errorFromAnswer(ans.status, ans.text, ans.endpoint);
  const registeredAt = Number(ans.headers.get("X-Etcd-Index") ?? "0") || 0;
  let text: string;
  try {
    text = await ans.response.text();
  } catch (e) {
    if (signal?.aborted) throw abortReason(signal);
    return { event: null, registeredAt, endpoint: ans.endpoint, broken: describe(e) };
  } finally {
    ans.done();
  }
  const line = text.split("\n").find((l) => l.trim() !== "");
  if (line === undefined) return { event: null, registeredAt, endpoint: ans.endpoint, broken: "empty answer" };
  const event = keysResponse(ans.status, ans.headers, line, ans.endpoint);
  return { event, registeredAt, endpoint: ans.endpoint };
}

/**
 * Follows one key (or subtree) from an index: next() resolves with the next event, retrying
 * empty answers and broken connections (on the next endpoint) from the same index.
 */
export class WatchCursor {
  /** The index the next poll asks for (undefined: "from now", before the first answer). */
  nextIndex: number | undefined;
  private failures = 0;

  constructor(
    private readonly t: Transport,
    private readonly path: string,
    private readonly recursive: boolean,
    nextIndex: number | undefined,
    private readonly signal?: AbortSignal,
  ) {
    this.nextIndex = nextIndex;
  }

  async next(): Promise<EtcdResponse> {
    const maxFailures = this.t.pool.order().length * 3;
    for (;;) {
      const r = await pollOnce(this.t, this.path, this.recursive, this.nextIndex, this.signal);
      // Registered without waitIndex at store index S: the next event has index > S.
      if (this.nextIndex === undefined && r.registeredAt > 0) this.nextIndex = r.registeredAt + 1;
      if (r.event !== null) {
        this.failures = 0;
        this.nextIndex = r.event.node.modifiedIndex + 1;
        return r.event;
      }
      // An empty answer (etcd ends a watch that way when it drops the watcher) or a broken
      // connection: ask again from the same index, the next endpoint first.
      this.failures++;
      this.t.pool.demote(r.endpoint);
      if (this.failures > maxFailures) {
        throw new EtcdConnectionError(`watch ${this.path}: ${this.failures} answers in a row without an event (last: ${r.endpoint}: ${r.broken})`, [r.endpoint], [new Error(r.broken ?? "no event")]);
      }
      await sleep(Math.min(1000, 25 * 2 ** Math.min(this.failures, 6)), this.signal);
    }
  }
}

/** The state of the key read again after error 401, as a ResyncEvent. */
export type Reread = () => Promise<ResyncEvent>;

/** The async iterable behind EtcdClient.watch. */
export async function* watchEvents(
  t: Transport,
  path: string,
  o: { recursive: boolean; afterIndex?: number | undefined; onOutdated: "throw" | "resync"; signal?: AbortSignal | undefined },
  reread: Reread,
): AsyncGenerator<EtcdResponse, void, undefined> {
  const cursor = new WatchCursor(t, path, o.recursive, o.afterIndex !== undefined ? o.afterIndex + 1 : undefined, o.signal);
  for (;;) {
    let ev: EtcdResponse;
    try {
      ev = await cursor.next();
    } catch (e) {
      if (o.signal?.aborted) return; // the caller stopped the watch: the iteration just ends
      if (EtcdError.is(e, ErrorCodes.EventIndexCleared) && o.onOutdated === "resync") {
        const snap = await reread();
        cursor.nextIndex = snap.etcdIndex + 1;
        yield snap;
        continue;
      }
      throw e;
    }
    yield ev;
  }
}

/** One wait (EtcdClient.waitNext). */
export async function waitOnce(t: Transport, path: string, o: { recursive: boolean; waitIndex?: number | undefined; signal?: AbortSignal | undefined }): Promise<EtcdResponse> {
  return new WatchCursor(t, path, o.recursive, o.waitIndex, o.signal).next();
}
