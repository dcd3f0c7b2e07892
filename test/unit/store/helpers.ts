// Command builders and assertions shared by the store and watch tests.

import * as assert from "uvu/assert";
import { EtcdError } from "../../../core/errors.ts";
import type { StoreCommand } from "../../../core/store/types.ts";

/** A fixed wall clock for TTLs: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);

export const set = (path: string, value = "", o: { dir?: boolean; expireAt?: number | null; refresh?: boolean } = {}): StoreCommand => ({
  op: "set",
  path,
  value,
  dir: o.dir ?? false,
  expireAt: o.expireAt ?? null,
  refresh: o.refresh ?? false,
});

export const mkdir = (path: string, expireAt: number | null = null): StoreCommand => set(path, "", { dir: true, expireAt });

export const create = (path: string, value = "", o: { dir?: boolean; expireAt?: number | null; unique?: boolean } = {}): StoreCommand => ({
  op: "create",
  path,
  value,
  dir: o.dir ?? false,
  expireAt: o.expireAt ?? null,
  unique: o.unique ?? false,
});

export const update = (path: string, value = "", o: { expireAt?: number | null; refresh?: boolean } = {}): StoreCommand => ({
  op: "update",
  path,
  value,
  expireAt: o.expireAt ?? null,
  refresh: o.refresh ?? false,
});

export const cas = (
  path: string,
  value: string,
  prevValue: string,
  prevIndex: number,
  o: { expireAt?: number | null; refresh?: boolean } = {},
): StoreCommand => ({ op: "compareAndSwap", path, value, prevValue, prevIndex, expireAt: o.expireAt ?? null, refresh: o.refresh ?? false });

export const del = (path: string, o: { dir?: boolean; recursive?: boolean } = {}): StoreCommand => ({
  op: "delete",
  path,
  dir: o.dir ?? false,
  recursive: o.recursive ?? false,
});

export const cad = (path: string, prevValue: string, prevIndex = 0): StoreCommand => ({ op: "compareAndDelete", path, prevValue, prevIndex });

export const sync = (time: number): StoreCommand => ({ op: "sync", time });

/** Run fn, expect an EtcdError with this code, cause and index. */
export function throwsEtcd(fn: () => unknown, code: number, cause: string, index: number): EtcdError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof EtcdError)) throw e;
    assert.is(e.errorCode, code, `errorCode (cause ${JSON.stringify(e.cause)})`);
    assert.is(e.cause, cause, "cause");
    assert.is(e.index, index, "index");
    return e;
  }
  assert.unreachable(`expected EtcdError ${code} ${cause}`);
  throw new Error("unreachable");
}
