// Starting a member from a parsed configuration. (Filled in by the server module.)
import type { Runtime } from "../runtime.ts";
import type { Config } from "../config.ts";

export interface RunningMember {
  /** Graceful stop: stop serving, finish in-flight writes, close the WAL. */
  stop(): Promise<void>;
  /** Resolves when the member stops by itself (fatal error or removal); rejects with the fatal error. */
  readonly done: Promise<void>;
}

export async function startMember(rt: Runtime, cfg: Config): Promise<RunningMember> {
  throw new Error(`startMember not implemented yet (${rt.name}, ${cfg.name})`);
}
