// SRV lookups through node:dns (Node and Bun). A bounded timeout keeps a machine without
// a reachable resolver from stalling bootstrap for the resolver's default ~minute.
import { Resolver } from "node:dns/promises";
import type { SrvRecord } from "../../core/runtime.ts";

export async function resolveSrvNode(name: string): Promise<SrvRecord[]> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  const records = await resolver.resolveSrv(name);
  return records.map((r) => ({ name: r.name, port: r.port, priority: r.priority, weight: r.weight }));
}
