// Flag values with the semantics of the Go flag.Value types etcd registers: how a value is
// parsed, what a repeated flag does, and which flags count as "set" (given on the command
// line or taken from the environment) for etcd's "explicitly set" rules.
import { FLAGS, flagDef, isBoolKind, type FlagDef } from "./flags.ts";
import { parseGoBool, parseGoDuration, parseIntFlag, parseUint32Flag, parseUintFlag } from "./goparse.ts";
import { newUrls } from "./urls.ts";

/** A parsed flag value: text, switch, number (durations in ms), or list. */
export type FlagValue = string | boolean | number | readonly string[];

/** Every flag's value, and which ones were given (by flag, environment or config file). */
export interface Settings {
  readonly values: Map<string, FlagValue>;
  readonly explicit: Set<string>;
}

/** The state behind a URL-list flag (etcd's UniqueURLs): the accepted strings and the URLs. */
interface UrlState {
  seen: Set<string>;
  list: readonly string[];
}

export class FlagStore {
  private readonly values = new Map<string, FlagValue>();
  private readonly urlStates = new Map<string, UrlState>();
  private readonly actual = new Set<string>();
  /** Lines to log (the ignored pre-v3 flags). */
  readonly warnings: string[] = [];

  constructor() {
    for (const def of FLAGS) {
      if (def.kind === "urls" || def.kind === "cors") this.urlStates.set(def.name, { seen: new Set(), list: [] });
      if (def.kind === "ignored") continue;
      const err = this.assign(def, def.default);
      if (err !== undefined) throw new Error(`bad default for --${def.name}: ${err}`);
    }
  }

  has(name: string): boolean {
    return flagDef(name) !== undefined;
  }

  isBool(name: string): boolean {
    const def = flagDef(name);
    return def !== undefined && isBoolKind(def.kind);
  }

  /** flag.FlagSet.Set: parse, store, and mark as set. Returns Go's error text on failure. */
  set(name: string, raw: string): string | undefined {
    const def = flagDef(name);
    if (!def) return `no such flag -${name}`;
    const err = this.assign(def, raw);
    if (err === undefined) this.actual.add(name);
    return err;
  }

  isSet(name: string): boolean {
    return this.actual.has(name);
  }

  settings(): Settings {
    return { values: new Map(this.values), explicit: new Set(this.actual) };
  }

  private assign(def: FlagDef, raw: string): string | undefined {
    const put = (v: FlagValue): undefined => {
      this.values.set(def.name, v);
      return undefined;
    };
    switch (def.kind) {
      case "string":
        return put(raw);
      case "bool": {
        const b = parseGoBool(raw);
        return b === undefined ? "parse error" : put(b);
      }
      case "uint":
      case "uint64": {
        const r = parseUintFlag(raw, 64);
        return r.ok ? put(r.value) : r.error;
      }
      case "int":
      case "int64": {
        const r = parseIntFlag(raw, 64);
        return r.ok ? put(r.value) : r.error;
      }
      case "uint32": {
        const r = parseUint32Flag(raw);
        return r.ok ? put(r.value) : r.error;
      }
      case "duration": {
        const r = parseGoDuration(raw);
        return r.ok ? put(r.value) : "parse error";
      }
      case "choice":
        return def.choices?.includes(raw) ? put(raw) : "invalid value";
      case "uniqueStrings":
        return put([...new Set(raw.split(","))].sort());
      case "strings":
        return put(raw.split(",").filter((s) => s !== ""));
      case "urls":
      case "cors":
        return this.assignUrls(def, raw);
      case "ignored":
        this.warnings.push(`flag "-${def.name}" is no longer supported - ignoring.`);
        return put(true);
    }
  }

  /**
   * etcd's UniqueURLs.Set: a string seen before is a no-op; an allowed exception ("" or "*")
   * is remembered without touching the URLs; anything else replaces the list.
   */
  private assignUrls(def: FlagDef, raw: string): string | undefined {
    const st = this.urlStates.get(def.name)!;
    if (st.seen.has(raw)) {
      // no-op
    } else if (def.exceptions?.includes(raw)) {
      st.seen.add(raw);
    } else {
      const r = newUrls(raw.split(","));
      if (!r.ok) return r.error;
      st.seen = new Set(r.value);
      st.list = r.value;
    }
    this.values.set(def.name, def.kind === "cors" ? [...st.seen].sort() : st.list);
    return undefined;
  }
}

/** The defaults of every flag, none of them set. */
export function defaultSettings(): Settings {
  return new FlagStore().settings();
}
