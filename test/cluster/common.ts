// Shared setup for the cluster tests: which targets (CLUSTER_TARGETS), a lazily started
// cluster per test file (uvu swallows errors thrown in `before` hooks, so the cluster is
// started inside the first test that needs it and a start failure fails that test loudly),
// and small read helpers.
//
//   CLUSTER_TARGETS=node,bun,deno   one member per runtime (default)
//   CLUSTER_TARGETS=etcd            three real etcd members (proves the tests)
//   CLUSTER_TARGETS=node            three Node members
import { createHash } from "node:crypto";
import { req } from "../support/http.ts";
import type { Res } from "../support/http.ts";
import { Cluster, parseClusterTargets } from "../support/cluster.ts";
import type { ClusterOptions } from "../support/cluster.ts";
import type { Member, TargetName } from "../support/processes.ts";
import { etcdInstalled } from "../support/processes.ts";

export const TARGETS: TargetName[] = parseClusterTargets(process.env.CLUSTER_TARGETS);
export const TARGETS_LABEL = TARGETS.join(",");
/** How long a member may take to become healthy (CLUSTER_START_MS, default 30 s). */
export const START_MS = Number(process.env.CLUSTER_START_MS ?? 30_000);

/** Fail at once, clearly, when etcd is asked for but not installed. */
export function checkTargets(): void {
  if (TARGETS.includes("etcd") && !etcdInstalled()) {
    throw new Error("CLUSTER_TARGETS asks for etcd, but etcd is not installed (not on PATH; set ETCD_BIN)");
  }
}

/**
 * One cluster shared by the tests of a file, started by the first test that asks for it.
 * A start failure is remembered, so every later test fails with the same error.
 */
export function sharedCluster(opts: Omit<ClusterOptions, "targets"> & { targets?: TargetName[] }): { get(): Promise<Cluster>; stop(): Promise<void> } {
  let cluster: Cluster | null = null;
  let failure: unknown = null;
  return {
    async get(): Promise<Cluster> {
      if (failure !== null) throw new Error(`the cluster did not start (see the first failure): ${String((failure as Error)?.message ?? failure).split("\n")[0]}`);
      if (cluster === null) {
        try {
          checkTargets();
          cluster = await Cluster.start({ startTimeoutMs: START_MS, ...opts, targets: opts.targets ?? TARGETS });
        } catch (err) {
          failure = err;
          throw err;
        }
      }
      return cluster;
    },
    async stop(): Promise<void> {
      await cluster?.stop();
    },
  };
}

/** Start a cluster for one test; always stopped afterwards; logs printed on failure. */
export async function withTestCluster<T>(opts: Omit<ClusterOptions, "targets"> & { targets?: TargetName[] }, fn: (c: Cluster) => Promise<T>): Promise<T> {
  checkTargets();
  const c = await Cluster.start({ startTimeoutMs: START_MS, ...opts, targets: opts.targets ?? TARGETS });
  try {
    return await c.check(() => fn(c));
  } finally {
    await c.stop();
  }
}

export async function get(m: Member, path: string, query?: Record<string, string | number | boolean>, timeoutMs = 5000): Promise<Res> {
  return req(m.clientURL, "GET", path, { ...(query ? { query } : {}), timeoutMs });
}

/** GET /v2/keys<key>?quorum=true (linearizable). */
export async function quorumGet(m: Member, key: string, extra: Record<string, string | number | boolean> = {}, timeoutMs = 10_000): Promise<Res> {
  return get(m, `/v2/keys${key}`, { quorum: true, ...extra }, timeoutMs);
}

/** Flatten a recursive v2 GET answer into key -> {value, modifiedIndex, createdIndex} (dirs included). */
export function flatten(node: any, out = new Map<string, { value?: string; dir: boolean; modifiedIndex: number; createdIndex: number }>()): Map<string, { value?: string; dir: boolean; modifiedIndex: number; createdIndex: number }> {
  if (node === undefined || node === null) return out;
  out.set(node.key ?? "/", {
    ...(node.value !== undefined ? { value: node.value } : {}),
    dir: node.dir === true,
    modifiedIndex: node.modifiedIndex,
    createdIndex: node.createdIndex,
  });
  for (const child of node.nodes ?? []) flatten(child, out);
  return out;
}

/** The recursive, sorted content of a directory on one member, as JSON text (stable to compare). */
export async function treeText(m: Member, dir: string, quorum: boolean, timeoutMs = 15_000): Promise<{ text: string; index: number; count: number }> {
  const r = await get(m, `/v2/keys${dir}`, { recursive: true, sorted: true, ...(quorum ? { quorum: true } : {}) }, timeoutMs);
  if (r.status !== 200) throw new Error(`${r.describe()}: ${r.text.slice(0, 300)}`);
  const node = r.json().node;
  return { text: JSON.stringify(node), index: r.etcdIndex, count: flatten(node).size };
}

/** X-Etcd-Index of a member (GET /v2/keys/ plain read). */
export async function etcdIndexOf(m: Member, timeoutMs = 3000): Promise<number> {
  const r = await get(m, "/v2/keys/", undefined, timeoutMs);
  return r.etcdIndex;
}

export function elapsedSince(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** etcd's member ID: SHA-1 over the sorted peer URLs concatenated, then the token. */
export function expectedMemberId(peerURLs: string[], token: string): string {
  const d = createHash("sha1").update([...peerURLs].sort().join("") + token).digest();
  return d.readBigUInt64BE(0).toString(16);
}

/** etcd's cluster ID: SHA-1 over the sorted member IDs, each 8 bytes big-endian. */
export function expectedClusterId(ids: string[]): string {
  const sorted = ids.map((id) => BigInt("0x" + id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return createHash("sha1").update(buf).digest().readBigUInt64BE(0).toString(16);
}
