// --help and --version texts, and the versions etcd-ts reports.
import { FLAGS, type Section } from "./flags.ts";

/** The etcd versions this server speaks as (GET /version and peers' version checks). */
export const VERSION = { server: "3.4.23", cluster: "3.4.0" } as const;

/** The version of etcd-ts itself. */
export const ETCD_TS_VERSION = "0.1.0";

/** The usage summary etcd prints above its flags (and after a flag error). */
export const usageLine = `Usage:

  etcd [flags]
    Start an etcd server.

  etcd --version
    Show the version of etcd.

  etcd -h | --help
    Show the help information about etcd.

  etcd --config-file
    Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.
`;

const SECTIONS: readonly Section[] = [
  "Member",
  "Clustering",
  "Security",
  "Auth",
  "Profiling and Monitoring",
  "Logging",
  "v2 Proxy (to be deprecated in v4)",
  "Experimental feature",
  "Unsafe feature",
  "TO BE DEPRECATED",
];

function flagsText(): string {
  let out = "";
  for (const section of SECTIONS) {
    out += `\n${section}:\n`;
    if (section === "TO BE DEPRECATED") out += "\n";
    for (const def of FLAGS) {
      if (def.section !== section) continue;
      const shown = def.shownDefault ?? def.default;
      out += `  --${def.name} '${shown}'\n`;
      for (const line of def.help.split("\n")) out += `    ${line}\n`;
      if (def.unsupported) out += `    (etcd-ts: accepted, no effect: ${def.unsupported}.)\n`;
    }
    if (section === "Unsafe feature") {
      out += "\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n";
    }
  }
  return out;
}

/** The full --help text: the usage summary, then every flag by section with its default. */
export const usageText: string = `${usageLine}${flagsText()}
Every flag can also be set by an environment variable: --foo-bar is ETCD_FOO_BAR.
`;

/** What --version prints about the program running etcd-ts (Go's lines in etcd). */
export interface HostInfo {
  /** "Node", "Bun", "Deno" */
  runtime: string;
  version: string;
  os: string;
  arch: string;
}

/** The --version text, in the shape of etcd's (the Go lines name the JavaScript runtime). */
export function versionText(host?: HostInfo): string {
  const lines = [`etcd Version: ${VERSION.server}`, `Git SHA: Not provided (etcd-ts ${ETCD_TS_VERSION})`];
  if (host) {
    lines.push(`${host.runtime} Version: ${host.version}`, `${host.runtime} OS/Arch: ${host.os}/${host.arch}`);
  }
  return lines.join("\n") + "\n";
}
