// Shared by the examples: the endpoints (ENDPOINTS="http://a:2379,http://b:2379" overrides the
// `npm run cluster` defaults) and a unique prefix so that runs do not see each other's keys.
import { EtcdClient } from "../client/index.ts";

declare const Deno: { env: { get(k: string): string | undefined } } | undefined;

function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  if (p?.env) return p.env[name];
  return typeof Deno !== "undefined" ? Deno.env.get(name) : undefined;
}

export const ENDPOINTS = (env("ENDPOINTS") ?? "http://127.0.0.1:2379,http://127.0.0.1:22379,http://127.0.0.1:32379")
  .split(",").map((s) => s.trim()).filter((s) => s !== "");

export function client(): EtcdClient {
  return new EtcdClient({ endpoints: ENDPOINTS, timeoutMs: 3000 });
}

/** A key prefix unique to this run. */
export const RUN = `/examples/${Date.now().toString(36)}`;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function log(...a: unknown[]): void {
  console.log(new Date().toISOString().slice(11, 23), ...a);
}

/** Remove this run's keys at the end. */
export async function cleanup(c: EtcdClient): Promise<void> {
  await c.delete(RUN, { recursive: true }).catch(() => {});
}
