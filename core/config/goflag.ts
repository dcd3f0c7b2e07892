// Command-line parsing with the rules of Go's flag package, which etcd uses: -flag and --flag
// are the same, values come as --flag=value or --flag value, boolean flags take no separate
// value (--x=false, not --x false), parsing stops at the first non-flag argument or at "--",
// and -h / -help ask for help unless defined.
import { goQuote } from "./goparse.ts";
import type { FlagStore } from "./store.ts";

export type GoFlagOutcome =
  | { kind: "ok"; /** Arguments left after the flags. */ args: string[] }
  | { kind: "help" }
  | { kind: "error"; /** Go's message, e.g. "flag provided but not defined: -x". */ message: string };

export function parseGoFlags(argv: readonly string[], store: FlagStore): GoFlagOutcome {
  const args = [...argv];
  const error = (message: string): GoFlagOutcome => ({ kind: "error", message });
  while (args.length > 0) {
    const s = args[0]!;
    if (s.length < 2 || s[0] !== "-") break;
    let minuses = 1;
    if (s[1] === "-") {
      minuses = 2;
      if (s.length === 2) {
        args.shift(); // "--" ends the flags
        break;
      }
    }
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") return error(`bad flag syntax: ${s}`);
    args.shift();
    let hasValue = false;
    let value = "";
    const eq = name.indexOf("=");
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
      hasValue = true;
    }
    if (!store.has(name)) {
      if (name === "help" || name === "h") return { kind: "help" };
      return error(`flag provided but not defined: -${name}`);
    }
    if (store.isBool(name)) {
      const err = store.set(name, hasValue ? value : "true");
      if (err !== undefined) {
        return error(hasValue ? `invalid boolean value ${goQuote(value)} for -${name}: ${err}` : `invalid boolean flag ${name}: ${err}`);
      }
      continue;
    }
    if (!hasValue && args.length > 0) {
      value = args.shift()!;
      hasValue = true;
    }
    if (!hasValue) return error(`flag needs an argument: -${name}`);
    const err = store.set(name, value);
    if (err !== undefined) return error(`invalid value ${goQuote(value)} for flag -${name}: ${err}`);
  }
  return { kind: "ok", args };
}
