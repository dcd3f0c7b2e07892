// Operation counters of /v2/stats/store (etcd's v2store/stats.go), in etcd's field order.

import type { StoreStats } from "./types.ts";

export type StatCounters = Omit<StoreStats, "watchers">;
export type StatName = keyof StatCounters;

export const STAT_NAMES: readonly StatName[] = [
  "getsSuccess",
  "getsFail",
  "setsSuccess",
  "setsFail",
  "deleteSuccess",
  "deleteFail",
  "updateSuccess",
  "updateFail",
  "createSuccess",
  "createFail",
  "compareAndSwapSuccess",
  "compareAndSwapFail",
  "compareAndDeleteSuccess",
  "compareAndDeleteFail",
  "expireCount",
];

export function newCounters(from?: Partial<Record<StatName, unknown>>): StatCounters {
  const c = {} as StatCounters;
  for (const name of STAT_NAMES) {
    const v = from?.[name];
    c[name] = typeof v === "number" && Number.isFinite(v) ? v : 0;
  }
  return c;
}
