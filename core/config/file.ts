// --config-file: etcd's YAML configuration, whose keys are the flag names (TLS settings sit
// under client-transport-security / peer-transport-security). Values are typed as in etcd's
// Go struct: numbers must be YAML numbers, booleans YAML booleans, durations integers of
// nanoseconds, log-outputs a sequence; URL lists are comma-separated strings. Type errors
// read like etcd's (Go's JSON decoder); unknown keys are ignored, as by etcd, with a warning.
import { FLAGS, type FlagDef, type FlagKind } from "./flags.ts";
import { goQuote } from "./goparse.ts";
import { defaultSettings, type FlagValue, type Settings } from "./store.ts";
import { newUrls } from "./urls.ts";
import { parseYaml, resolveScalar, type YamlNode } from "./yaml.ts";

export type FileOutcome =
  | { ok: true; settings: Settings; warnings: string[] }
  /** `verify`: reported as "error verifying flags, ..."; `fatal`: printed as is (exit 1); `panic`: exit 2. */
  | { ok: false; kind: "verify" | "fatal" | "panic"; message: string };

type FileType = "string" | "bool" | "uint" | "uint64" | "int" | "int64" | "uint32" | "duration" | "stringList";

const GO_TYPE: Record<FileType, string> = {
  string: "string",
  bool: "bool",
  uint: "uint",
  uint64: "uint64",
  int: "int",
  int64: "int64",
  uint32: "uint32",
  duration: "time.Duration",
  stringList: "[]string",
};

function fileType(def: FlagDef): FileType {
  if (def.fileType) return def.fileType;
  const k: FlagKind = def.kind;
  switch (k) {
    case "bool":
    case "uint":
    case "uint64":
    case "int":
    case "int64":
    case "uint32":
    case "duration":
      return k;
    default:
      return "string";
  }
}

/** Go's JSON type name for what a YAML node becomes. */
function jsonType(node: YamlNode): string {
  if (node.kind === "seq") return "array";
  if (node.kind === "map") return "object";
  const r = resolveScalar(node);
  return r.type === "int" || r.type === "float" ? "number" : r.type === "bool" ? "bool" : "string";
}

const INT_RANGE: Record<string, [bigint, bigint]> = {
  uint: [0n, (1n << 64n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
  uint32: [0n, (1n << 32n) - 1n],
  int: [-(1n << 63n), (1n << 63n) - 1n],
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  duration: [-(1n << 63n), (1n << 63n) - 1n],
};


class TypeError_ extends Error {}

/** Converts one node to the flag's value, or undefined for null (the default stays). */
function convert(node: YamlNode, t: FileType, field: string): FlagValue | undefined {
  const mismatch = (what = jsonType(node), type = GO_TYPE[t]): never => {
    throw new TypeError_(`json: cannot unmarshal ${what} into Go struct field ${field} of type ${type}`);
  };
  if (node.kind === "scalar" && resolveScalar(node).type === "null") return undefined;
  if (t === "stringList") {
    if (node.kind !== "seq") return mismatch();
    return node.items.map((item) => {
      const r = item.kind === "scalar" ? resolveScalar(item) : undefined;
      if (r?.type === "null") return "";
      return r?.type === "string" ? r.value : mismatch(jsonType(item), "string");
    });
  }
  if (node.kind !== "scalar") return mismatch();
  const r = resolveScalar(node);
  // etcd's YAML decoding does not turn numbers or booleans into strings: `name: 123` is an error.
  if (t === "string") return r.type === "string" ? r.value : mismatch();
  if (t === "bool") return r.type === "bool" ? r.value : mismatch();
  // numbers
  if (r.type === "float") {
    if (Number.isInteger(r.value)) return convert({ ...node, text: BigInt(r.value).toString() }, t, field);
    return mismatch(`number ${r.value}`);
  }
  if (r.type !== "int") return mismatch();
  const [lo, hi] = INT_RANGE[t]!;
  if (r.value < lo || r.value > hi) return mismatch(`number ${r.value}`);
  return t === "duration" ? Number(r.value) / 1e6 : Number(r.value);
}

/** Where each flag lives in the file. */
function filePath(def: FlagDef): readonly string[] | null {
  if (def.fileKey === null || def.kind === "ignored") return null;
  return def.fileKey ?? [def.name];
}

const KNOWN_BLOCKS = new Set(["client-transport-security", "peer-transport-security"]);

/** Reads a config file's text into settings (before etcd's validation). */
export function settingsFromFile(text: string): FileOutcome {
  const parsed = parseYaml(text);
  if (!parsed.ok) return { ok: false, kind: "verify", message: `error converting YAML to JSON: ${parsed.error}` };
  const root = parsed.value;
  const settings = defaultSettings();
  const warnings: string[] = [];
  const raw = new Map<string, string>(); // URL-list flags, parsed after the types (as etcd)
  if (root !== null && root.kind !== "map") {
    return {
      ok: false,
      kind: "verify",
      message: `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonType(root)} into Go value of type embed.configYAML`,
    };
  }
  const entries = root?.entries ?? new Map<string, YamlNode>();
  const claimed = new Set<string>();
  try {
    for (const def of FLAGS) {
      const path = filePath(def);
      if (!path) continue;
      claimed.add(path[0]!);
      let node: YamlNode | undefined = entries.get(path[0]!);
      if (node && path.length > 1) {
        if (node.kind === "scalar" && resolveScalar(node).type === "null") continue;
        if (node.kind !== "map") {
          throw new TypeError_(
            `json: cannot unmarshal ${jsonType(node)} into Go struct field configYAML.${path[0]} of type embed.securityConfig`,
          );
        }
        node = node.entries.get(path[1]!);
      }
      if (!node) continue;
      const t = fileType(def);
      const field = path.length > 1 ? `securityConfig.${path.join(".")}` : `configYAML.${path[0]}`;
      const value = convert(node, t, field);
      if (value === undefined) continue;
      if (def.kind === "urls" || def.kind === "cors" || (def.kind === "uniqueStrings" && t === "string")) {
        raw.set(def.name, value as string);
        continue;
      }
      settings.values.set(def.name, value);
      settings.explicit.add(def.name);
    }
  } catch (e) {
    if (e instanceof TypeError_) return { ok: false, kind: "verify", message: `error unmarshaling JSON: while decoding JSON: ${e.message}` };
    throw e;
  }
  for (const key of entries.keys()) {
    if (!claimed.has(key) && !KNOWN_BLOCKS.has(key)) warnings.push(`config file: unknown key ${goQuote(key)} ignored`);
  }

  // URL lists: an empty string keeps the default.
  for (const name of ["listen-peer-urls", "listen-client-urls", "advertise-client-urls", "initial-advertise-peer-urls", "listen-metrics-urls"]) {
    const v = raw.get(name);
    if (v === undefined || v === "") continue;
    const r = newUrls(v.split(","));
    if (!r.ok) return { ok: false, kind: "fatal", message: `unexpected error setting up ${name}: ${r.error}` };
    settings.values.set(name, r.value);
    settings.explicit.add(name);
  }
  const cors = raw.get("cors");
  if (cors !== undefined && cors !== "") {
    let list: readonly string[] = ["*"];
    if (cors !== "*") {
      const r = newUrls(cors.split(","));
      // etcd panics here (exit status 2).
      if (!r.ok) return { ok: false, kind: "panic", message: `new UniqueURLs should never fail: ${r.error}` };
      list = r.value;
    }
    settings.values.set("cors", list);
    settings.explicit.add("cors");
  }
  const hosts = raw.get("host-whitelist");
  if (hosts !== undefined && hosts !== "") {
    settings.values.set("host-whitelist", [...new Set(hosts.split(","))].sort());
    settings.explicit.add("host-whitelist");
  }
  return { ok: true, settings, warnings };
}
