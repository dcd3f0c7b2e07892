// ETCD_* environment variables, as etcd's pkg/flags.SetFlagsFromEnv applies them: every flag
// not given on the command line takes its ETCD_<FLAG> variable when that is non-empty; a
// variable whose flag was also given on the command line is fatal (even when empty); other
// ETCD_* variables only produce a warning.
import { FLAGS, flagToEnv } from "./flags.ts";
import { goQuote } from "./goparse.ts";
import type { FlagStore } from "./store.ts";

export interface EnvOutcome {
  /** A variable with a bad value (etcd reports the last one, in flag-name order). */
  invalid?: string;
  /** A variable shadowed by a command-line flag: fatal. */
  conflict?: string;
  warnings: string[];
  /** "recognized and used environment variable ..." lines (info level). */
  info: string[];
}

export function applyEnv(store: FlagStore, env: Readonly<Record<string, string | undefined>>): EnvOutcome {
  const out: EnvOutcome = { warnings: [], info: [] };
  const fromFlags = new Set<string>();
  for (const def of FLAGS) if (store.isSet(def.name)) fromFlags.add(flagToEnv(def.name));

  const used = new Set<string>();
  const names = FLAGS.map((d) => d.name).sort();
  for (const name of names) {
    const key = flagToEnv(name);
    if (fromFlags.has(key)) continue;
    const val = env[key];
    if (val === undefined || val === "") continue;
    used.add(key);
    const err = store.set(name, val);
    if (err !== undefined) out.invalid = `invalid value ${goQuote(val)} for ${key}: ${err}`;
    else out.info.push(`recognized and used environment variable ${key}=${val}`);
  }

  for (const [key, val] of Object.entries(env)) {
    if (val === undefined || used.has(key)) continue;
    if (fromFlags.has(key)) {
      out.conflict =
        `conflicting environment variable ${goQuote(key)} is shadowed by corresponding command-line flag ` +
        `(either unset environment variable or disable flag)`;
      return out;
    }
    if (key.startsWith("ETCD_")) out.warnings.push(`unrecognized environment variable ${key}=${val}`);
  }
  return out;
}
