// Help texts exactly as etcdctl 3.4 (v2 mode) prints them: urfave/cli v1's templates, run
// through Go's text/tabwriter (padding 2).
import { formatGoDuration, type FlagDef } from "./flags.ts";

export const APP_NAME = "etcdctl";
export const APP_USAGE = "A simple command line client for etcd.";
/** The etcdctl release whose v2 mode this CLI reproduces (and the version it reports). */
export const APP_VERSION = "3.4.23";

export interface HelpCommand {
  name: string;
  aliases?: string[];
  usage: string;
  argsUsage?: string;
  description?: string;
  flags?: FlagDef[];
  subcommands?: HelpCommand[];
  /** Left out of help listings (etcdctl-ts extensions still show; nothing uses this yet). */
  hidden?: boolean;
}

/** urfave/cli's flag placeholder: the first `backquoted` word of the usage, else "value". */
function placeholder(usage: string): { name: string; usage: string } {
  const a = usage.indexOf("`");
  if (a >= 0) {
    const b = usage.indexOf("`", a + 1);
    if (b > a) return { name: usage.slice(a + 1, b), usage: usage.slice(0, a) + usage.slice(a + 1, b) + usage.slice(b + 1) };
  }
  return { name: "value", usage };
}

/** A flag's help line: "--name value, -n value\tusage (default: ...)". */
export function flagLine(d: FlagDef): string {
  const ph = placeholder(d.usage);
  const withValue = d.kind !== "bool";
  const names = d.names.map((n) => (n.length === 1 ? "-" : "--") + n + (withValue ? ` ${ph.name}` : "")).join(", ");
  let def = "";
  if (d.kind === "string" && d.def !== undefined && d.def !== "") def = ` (default: "${d.def}")`;
  else if (d.kind === "int") def = ` (default: ${d.def ?? 0})`;
  else if (d.kind === "duration") def = ` (default: ${formatGoDuration(Number(d.def ?? 0))})`;
  return `${names}\t${ph.usage}${def}`;
}

/** text/tabwriter (minwidth 0, padding 2, spaces) for lines with at most one tab. */
export function tabwrite(text: string): string {
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length) {
    if (!lines[i]!.includes("\t")) {
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j]!.includes("\t")) j++;
    const width = Math.max(...lines.slice(i, j).map((l) => [...l.slice(0, l.indexOf("\t"))].length)) + 2;
    for (let k = i; k < j; k++) {
      const l = lines[k]!;
      const t = l.indexOf("\t");
      const cell = l.slice(0, t);
      lines[k] = cell + " ".repeat(width - [...cell].length) + l.slice(t + 1);
    }
    i = j;
  }
  return lines.join("\n");
}

export const HELP_FLAG: FlagDef = { names: ["help", "h"], kind: "bool", usage: "show help" };
export const VERSION_FLAG: FlagDef = { names: ["version", "v"], kind: "bool", usage: "print the version" };
export const HELP_COMMAND: HelpCommand = { name: "help", aliases: ["h"], usage: "Shows a list of commands or help for one command", argsUsage: "[command]" };

function commandList(cmds: HelpCommand[]): string {
  return cmds.filter((c) => !c.hidden).map((c) => `\n   ${[c.name, ...(c.aliases ?? [])].join(", ")}\t${c.usage}`).join("");
}

/** `etcdctl`, `etcdctl help`, `etcdctl --help`. */
export function appHelp(commands: HelpCommand[], globalFlags: FlagDef[]): string {
  const flags = [...globalFlags, HELP_FLAG, VERSION_FLAG].filter((f) => !f.hidden);
  return tabwrite(
    `NAME:\n   ${APP_NAME} - ${APP_USAGE}\n\nUSAGE:\n   ${APP_NAME} [global options] command [command options] [arguments...]\n\n` +
    `VERSION:\n   ${APP_VERSION}\n\nCOMMANDS:${commandList([...commands, HELP_COMMAND])}\n\n` +
    `GLOBAL OPTIONS:\n   ${flags.map(flagLine).join("\n   ")}\n`,
  );
}

/** `etcdctl help <cmd>`, `etcdctl <cmd> --help` (helpName: "etcdctl get", "etcdctl member list"). */
export function commandHelp(cmd: HelpCommand, helpName: string): string {
  const flags = (cmd.flags ?? []).filter((f) => !f.hidden);
  let s = `NAME:\n   ${helpName} - ${cmd.usage}\n\nUSAGE:\n   ${helpName}${flags.length ? " [command options]" : ""} ${cmd.argsUsage || "[arguments...]"}`;
  if (cmd.description) s += `\n\nDESCRIPTION:\n   ${cmd.description}`;
  if (flags.length) s += `\n\nOPTIONS:\n   ${flags.map((f) => flagLine(f) + "\n   ").join("")}`;
  return tabwrite(s + "\n");
}

/** `etcdctl member` (a command with subcommands, run without one). */
export function subcommandHelp(cmd: HelpCommand, helpName: string): string {
  return tabwrite(
    `NAME:\n   ${helpName} - ${cmd.usage}\n\nUSAGE:\n   ${helpName} command [command options] [arguments...]\n\n` +
    `COMMANDS:${commandList(cmd.subcommands ?? [])}\n\nOPTIONS:\n   ${flagLine(HELP_FLAG)}\n   \n`,
  );
}

/** `etcdctl member help` (urfave/cli shows the sub-app's own app help). */
export function subAppHelp(cmd: HelpCommand, helpName: string): string {
  return tabwrite(
    `NAME:\n   ${helpName} - ${cmd.usage}\n\nUSAGE:\n   ${helpName} [global options] command [command options] [arguments...]\n\n` +
    `VERSION:\n   ${APP_VERSION}\n\nCOMMANDS:${commandList(cmd.subcommands ?? [])}\n\nGLOBAL OPTIONS:\n   ${flagLine(HELP_FLAG)}\n`,
  );
}

/** `etcdctl help help` / `etcdctl help h`: urfave/cli prints the help command with an empty name. */
export function helpOfHelp(): string {
  return `NAME:\n    - ${HELP_COMMAND.usage}\n\nUSAGE:\n    ${HELP_COMMAND.argsUsage}\n`;
}

export function versionText(): string {
  return `${APP_NAME} version: ${APP_VERSION}\nAPI version: 2\n`;
}
