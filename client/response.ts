// Turning an answer of the keys API into an EtcdResponse (or the EtcdError it carries).
import { EtcdError } from "./errors.ts";
import { errorFromAnswer } from "./transport.ts";
import type { EtcdNode, EtcdResponse } from "./types.ts";

function headerInt(h: Headers, name: string): number {
  const v = h.get(name);
  if (v === null) return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** The response of a keys request; throws the EtcdError of an error answer. */
export function keysResponse(status: number, headers: Headers, text: string, endpoint: string): EtcdResponse {
  if (status < 200 || status >= 300) throw errorFromAnswer(status, text, endpoint);
  let body: { action?: unknown; node?: EtcdNode; prevNode?: EtcdNode };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new EtcdError({ errorCode: 0, message: `${endpoint}: the answer is not JSON: ${text.slice(0, 200)}`, status, endpoint });
  }
  const node: EtcdNode = body.node ?? { key: "/", createdIndex: 0, modifiedIndex: 0 };
  // The root directory comes without key and indexes.
  if (node.key === undefined) node.key = "/";
  if (node.createdIndex === undefined) node.createdIndex = 0;
  if (node.modifiedIndex === undefined) node.modifiedIndex = 0;
  const out: EtcdResponse = {
    action: String(body.action ?? ""),
    node,
    etcdIndex: headerInt(headers, "X-Etcd-Index"),
    raftIndex: headerInt(headers, "X-Raft-Index"),
    raftTerm: headerInt(headers, "X-Raft-Term"),
  };
  if (body.prevNode !== undefined) out.prevNode = body.prevNode;
  const cid = headers.get("X-Etcd-Cluster-Id");
  if (cid !== null) out.clusterId = cid;
  return out;
}
