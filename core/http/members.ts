// /v2/members: list, leader, add, remove, update peer URLs.
import { jsonString } from "../store/json.ts";
import { EtcdError } from "../errors.ts";
import type { MemberApi, MemberChangeError, MemberInfo } from "./api.ts";
import { goUnmarshalPeerURLs } from "./go-json.ts";
import { json, methodNotAllowed, text } from "./responses.ts";
import { validateURLs } from "./urls.ts";

const METHODS = ["GET", "POST", "DELETE", "PUT"];

/** An httptypes.HTTPError: {"message":...} as json.Marshal writes it, without a trailing newline. */
function httpError(status: number, message: string, headers: Record<string, string>): Response {
  return new Response('{"message":' + jsonString(message) + "}", {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function memberJSON(m: MemberInfo): MemberInfo {
  return { id: m.id, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs };
}

async function readPeerURLs(req: Request, headers: Record<string, string>): Promise<string[] | Response> {
  let ctype = req.headers.get("content-type") ?? "";
  const semi = ctype.indexOf(";");
  if (semi >= 0) ctype = ctype.slice(0, semi).trim().toLowerCase();
  if (ctype !== "application/json") {
    return httpError(415, `Bad Content-Type ${ctype}, accept application/json`, headers);
  }
  const parsed = goUnmarshalPeerURLs(new Uint8Array(await req.arrayBuffer()));
  if (!parsed.ok) return httpError(400, parsed.message, headers);
  try {
    return validateURLs(parsed.peerURLs);
  } catch (e) {
    return httpError(400, (e as Error).message, headers);
  }
}

function changeError(e: MemberChangeError, headers: Record<string, string>): Response {
  switch (e.kind) {
    case "exists": return httpError(409, e.message, headers);
    case "notFound": return httpError(404, `No such member: ${e.id}`, headers);
    case "removed": return httpError(410, `Member permanently removed: ${e.id}`, headers);
    default: return httpError(500, "Internal Server Error", headers);
  }
}

/** `rest` is the path after "/v2/members" with its leading "/" removed. */
export async function handleMembers(m: MemberApi, req: Request, rest: string): Promise<Response> {
  try {
    return await serveMembers(m, req, rest);
  } catch (e) {
    // etcd answers any other failure (timeout, no leader, stopped) with a bare 500.
    m.log?.warn(`etcdhttp: /v2/members ${req.method} failed: ${(e as Error)?.message ?? e}${e instanceof EtcdError ? ` (${e.cause})` : ""}`);
    return httpError(500, "Internal Server Error", { "X-Etcd-Cluster-Id": m.clusterId });
  }
}

async function serveMembers(m: MemberApi, req: Request, rest: string): Promise<Response> {
  if (!METHODS.includes(req.method)) return methodNotAllowed(METHODS);
  // etcd's root-access check reads the v2 auth state for writes (a failed get while auth is off).
  if (req.method !== "GET") m.store.countAuthProbe();
  const headers = { "X-Etcd-Cluster-Id": m.clusterId };
  switch (req.method) {
    case "GET": {
      if (rest === "") return json({ members: m.members().map(memberJSON) }, 200, headers);
      if (rest === "leader") {
        const leader = m.members().find((x) => x.id === m.leaderId());
        if (!leader) return httpError(503, "During election", headers);
        return json(memberJSON(leader), 200, headers);
      }
      return httpError(404, "Not found", headers);
    }
    case "POST": {
      const urls = await readPeerURLs(req, headers);
      if (urls instanceof Response) return urls;
      const added = await m.addMember(urls);
      if ("kind" in added) return changeError(added, headers);
      return json(memberJSON(added), 201, headers);
    }
    default: {
      if (rest === "") return text("Method Not Allowed\n", 405, { ...headers, "X-Content-Type-Options": "nosniff" });
      if (!/^[0-9a-fA-F]{1,16}$/.test(rest)) return httpError(404, `No such member: ${rest}`, headers);
      const id = BigInt("0x" + rest).toString(16);
      let err: MemberChangeError | null;
      if (req.method === "DELETE") {
        err = await m.removeMember(id);
      } else {
        const urls = await readPeerURLs(req, headers);
        if (urls instanceof Response) return urls;
        err = await m.updateMember(id, urls);
      }
      if (err) return changeError(err, headers);
      return new Response(null, { status: 204, headers });
    }
  }
}
