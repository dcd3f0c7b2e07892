// Configuration in a directory: load it once into a Map, then receive every change.
//
//   const cfg = await watchConfig(client, "/config/app", { onChange: (c) => console.log(c) });
//   cfg.get("db/host");                       // the current value
//   for await (const c of cfg.changes()) ...  // or iterate
//   cfg.close();
import type { EtcdClient } from "../client.ts";
import { DirectoryMirror, type MirrorChange } from "./mirror.ts";

export type ConfigChange = MirrorChange;

export interface Config {
  /** The current values, keys relative to the directory ("db/host"). Kept up to date. */
  readonly values: ReadonlyMap<string, string>;
  get(key: string): string | undefined;
  /** The store index the values reflect. */
  readonly index: number;
  /** Every change from now on (ends on close()). */
  changes(): AsyncIterable<ConfigChange>;
  /** Subscribe; returns an unsubscribe function. */
  onChange(fn: (changes: ConfigChange[]) => void): () => void;
  /** Resolves when following stops; `error` says why if it was not close(). */
  readonly done: Promise<void>;
  readonly error: unknown;
  close(): void;
}

export async function watchConfig(
  client: EtcdClient, dir: string, o: { onChange?: (changes: ConfigChange[]) => void; signal?: AbortSignal } = {},
): Promise<Config> {
  const m = await DirectoryMirror.open(client, dir, o.signal ? { signal: o.signal } : {});
  if (o.onChange) m.on(o.onChange);
  return {
    values: m.values,
    get: (k) => m.values.get(k.replace(/^\/+/, "")),
    get index() { return m.index; },
    changes: () => m.changes(),
    onChange: (fn) => m.on(fn),
    done: m.done,
    get error() { return m.error; },
    close: () => m.close(),
  };
}
