// The peer-facing app (--listen-peer-urls). With one member it answers the membership and
// version queries that joining members and tools make; Raft messages come with the cluster.
import { Hono } from "hono";
import { VERSION } from "../config.ts";
import type { MemberApi } from "./api.ts";
import { notFound } from "./responses.ts";

/** `raft` serves the Raft transport's routes (/raft/...), or returns null for other paths. */
export function createPeerApp(m: MemberApi, raft?: (req: Request) => Promise<Response> | null): Hono {
  const app = new Hono();
  if (raft) {
    app.all("/raft/*", async (c) => (await raft(c.req.raw)) ?? notFound());
    app.all("/raft", async (c) => (await raft(c.req.raw)) ?? notFound());
  }
  app.get("/members", () => {
    // etcd writes member IDs on this path as raw JSON numbers (uint64).
    const body = "[" + m.members().map((x) =>
      `{"id":${BigInt("0x" + x.id).toString()},"name":${JSON.stringify(x.name)},"peerURLs":${JSON.stringify(x.peerURLs)},"clientURLs":${JSON.stringify(x.clientURLs)}}`,
    ).join(",") + "]";
    return new Response(body, { headers: { "Content-Type": "application/json", "X-Etcd-Cluster-Id": m.clusterId } });
  });
  app.get("/version", () =>
    new Response(JSON.stringify({ etcdserver: VERSION.server, etcdcluster: m.clusterVersion() }), {
      headers: { "Content-Type": "application/json" },
    }),
  );
  app.all("*", () => notFound());
  return app;
}
