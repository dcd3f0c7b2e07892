// The /v2/keys handler: parse, dispatch to a store operation (local read, watch, or a
// command through the log), and write etcd's response.
import { EtcdError, ErrorCode } from "../errors.ts";
import { eventJSON } from "../store/json.ts";
import type { StoreCommand, StoreEvent, Watcher } from "../store/types.ts";
import type { MemberApi } from "./api.ts";
import { FormError, readForm } from "./form.ts";
import { type KeyRequest, expireAt, parseKeyRequest } from "./key-request.ts";
import { type ReplyStream, reply } from "./reply.ts";
import { errorResponse, methodNotAllowed } from "./responses.ts";

const KEY_METHODS = ["HEAD", "GET", "PUT", "POST", "DELETE"];

/** The store command for a write, as etcd's applyV2 dispatches it. */
export function commandFor(r: KeyRequest, now: number): StoreCommand {
  const exp = expireAt(r.ttl, now);
  switch (r.method) {
    case "POST":
      return { op: "create", path: r.path, value: r.value, dir: r.dir, expireAt: exp, unique: true };
    case "PUT":
      if (r.prevExist === true) {
        if (r.prevIndex === 0 && r.prevValue === "") {
          return { op: "update", path: r.path, value: r.value, expireAt: exp, refresh: r.refresh };
        }
        return casCommand(r, exp);
      }
      if (r.prevExist === false) {
        return { op: "create", path: r.path, value: r.value, dir: r.dir, expireAt: exp, unique: false };
      }
      if (r.prevIndex !== 0 || r.prevValue !== "") return casCommand(r, exp);
      return { op: "set", path: r.path, value: r.value, dir: r.dir, expireAt: exp, refresh: r.refresh };
    case "DELETE":
      if (r.prevIndex !== 0 || r.prevValue !== "") {
        return { op: "compareAndDelete", path: r.path, prevValue: r.prevValue, prevIndex: r.prevIndex };
      }
      return { op: "delete", path: r.path, dir: r.dir, recursive: r.recursive };
    default: // GET with quorum
      return { op: "get", path: r.path, recursive: r.recursive, sorted: r.sorted };
  }
}

function casCommand(r: KeyRequest, exp: number | null): StoreCommand {
  return {
    op: "compareAndSwap", path: r.path, value: r.value, prevValue: r.prevValue, prevIndex: r.prevIndex,
    expireAt: exp, refresh: r.refresh,
  };
}

function eventResponse(m: MemberApi, ev: StoreEvent, noValue: boolean, head: boolean): Response {
  const created = ev.action === "create" || (ev.action === "set" && ev.prevNode === undefined);
  // noValueOnSuccess only shortens the answers of writes that carry a value.
  const drop = noValue && (ev.action === "set" || ev.action === "create" || ev.action === "update" || ev.action === "compareAndSwap");
  const body = head ? null : eventJSON(ev, m.now(), drop) + "\n";
  return reply(created ? 201 : 200, {
    "Content-Type": "application/json",
    "X-Etcd-Cluster-Id": m.clusterId,
    "X-Etcd-Index": String(ev.etcdIndex),
    "X-Raft-Index": String(m.raftIndex()),
    "X-Raft-Term": String(m.raftTerm()),
  }, body);
}

function watchResponse(m: MemberApi, watcher: Watcher, stream: boolean, signal: AbortSignal): Response {
  let closed = false;
  const finish = (): void => {
    if (closed) return;
    closed = true;
    watcher.remove();
  };
  signal.addEventListener("abort", finish, { once: true });
  const body: ReplyStream = {
    async pull() {
      const ev = await watcher.next();
      if (ev === null || closed) {
        finish();
        return null;
      }
      const chunk = eventJSON(ev, m.now()) + "\n";
      if (!stream) finish();
      return { chunk, done: !stream };
    },
    cancel: finish,
  };
  return reply(200, {
    "Content-Type": "application/json",
    "X-Etcd-Cluster-Id": m.clusterId,
    "X-Etcd-Index": String(watcher.startIndex),
    "X-Raft-Index": String(m.raftIndex()),
    "X-Raft-Term": String(m.raftTerm()),
  }, body);
}

/** Serve one /v2/keys request; `keyPath` is the decoded path after "/v2/keys". */
export async function handleKeys(m: MemberApi, req: Request, keyPath: string, rawQuery: string): Promise<Response> {
  if (!KEY_METHODS.includes(req.method)) return methodNotAllowed(KEY_METHODS);
  const headers = { "X-Etcd-Cluster-Id": m.clusterId };
  let r: KeyRequest;
  try {
    const form = await readForm(req, rawQuery);
    r = parseKeyRequest(req.method, keyPath, form);
  } catch (e) {
    if (e instanceof FormError) return errorResponse(new EtcdError(ErrorCode.InvalidForm, e.message), headers);
    if (e instanceof EtcdError) return errorResponse(e, headers);
    throw e;
  }
  m.store.countAuthProbe();
  try {
    if (r.method === "GET" || r.method === "HEAD") {
      if (r.method === "GET" && r.quorum) {
        return eventResponse(m, await m.propose(commandFor(r, m.now())), false, false);
      }
      if (r.method === "GET" && r.wait) {
        const watcher = m.store.watch(r.path, r.recursive, r.stream, r.waitIndex);
        return watchResponse(m, watcher, r.stream, req.signal);
      }
      return eventResponse(m, m.store.get(r.path, r.recursive, r.sorted), false, r.method === "HEAD");
    }
    const ev = await m.propose(commandFor(r, m.now()));
    return eventResponse(m, ev, r.noValueOnSuccess, false);
  } catch (e) {
    if (e instanceof EtcdError) return errorResponse(e, headers, r.method === "HEAD");
    return errorResponse(new EtcdError(ErrorCode.RaftInternal, String((e as Error)?.message ?? e)), headers);
  }
}
