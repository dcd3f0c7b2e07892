// Dispatch as urfave/cli v1 does it for etcdctl: global flags, then the command (or help),
// then the command's flags (reordered), then its action. Returns the exit code.
import { Ctx } from "./context.ts";
import { FlagError, parseFlags, reorderArgs, type FlagValues } from "./flags.ts";
import {
  APP_NAME, HELP_FLAG, VERSION_FLAG, appHelp, commandHelp, helpOfHelp, subAppHelp, subcommandHelp, versionText,
} from "./help.ts";
import { Exit, type Io } from "./io.ts";
import { COMMANDS, GLOBAL_FLAGS, type Command } from "./table.ts";

function find(cmds: Command[], name: string): Command | undefined {
  return cmds.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

function noHelpTopic(io: Io, name: string): number {
  io.err(`No help topic for '${name}'\n`);
  return 3;
}

/** `help [command]` at the top level. */
function helpAction(io: Io, args: string[]): number {
  const first = args[0];
  if (first === undefined || first === "") {
    io.out(appHelp(COMMANDS, GLOBAL_FLAGS));
    return 0;
  }
  if (first === "help" || first === "h") {
    io.out(helpOfHelp());
    return 0;
  }
  const c = find(COMMANDS, first);
  if (!c) return noHelpTopic(io, first);
  io.out(commandHelp(c, `${APP_NAME} ${c.name}`));
  return 0;
}

async function runLeaf(io: Io, global: FlagValues, cmd: Command, helpName: string, argv: string[]): Promise<number> {
  const defs = [...(cmd.flags ?? []), HELP_FLAG];
  let parsed;
  try {
    parsed = parseFlags(defs, reorderArgs(defs, argv));
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    io.out(`Incorrect Usage: ${e.message}\n\n`);
    io.out(commandHelp(cmd, helpName));
    io.err(`${e.message}\n`);
    return 1;
  }
  if (parsed.values.get("help") === true) {
    io.out(commandHelp(cmd, helpName));
    return 0;
  }
  const ctx = new Ctx(io, global, parsed.values, parsed.args);
  try {
    await cmd.action!(ctx);
    return 0;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
}

/** A command with subcommands (member): urfave/cli runs it as a small app of its own. */
async function runGroup(io: Io, global: FlagValues, cmd: Command, argv: string[]): Promise<number> {
  const helpName = `${APP_NAME} ${cmd.name}`;
  let parsed;
  try {
    parsed = parseFlags([HELP_FLAG], argv);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    io.out(`Incorrect Usage. ${e.message}\n\n`);
    io.out(subAppHelp(cmd, helpName));
    io.err(`${e.message}\n`);
    return 1;
  }
  if (parsed.values.get("help") === true) {
    io.out(subcommandHelp(cmd, helpName));
    return 0;
  }
  const first = parsed.args[0];
  if (first === "help" || first === "h") {
    const topic = parsed.args[1];
    if (topic === undefined) {
      io.out(subAppHelp(cmd, helpName));
      return 0;
    }
    const sub = find(cmd.subcommands ?? [], topic);
    if (!sub) return noHelpTopic(io, topic);
    io.out(commandHelp(sub, `${helpName} ${sub.name}`));
    return 0;
  }
  if (first !== undefined) {
    const sub = find(cmd.subcommands ?? [], first);
    if (sub) return runLeaf(io, global, sub, `${helpName} ${sub.name}`, parsed.args.slice(1));
    return noHelpTopic(io, first);
  }
  io.out(subcommandHelp(cmd, helpName));
  return 0;
}

export async function run(io: Io, argv: string[] = io.args): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags([...GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG], argv);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    io.out(`Incorrect Usage. ${e.message}\n\n`);
    io.out(appHelp(COMMANDS, GLOBAL_FLAGS));
    io.err(`${e.message}\n`);
    return 1;
  }
  if (parsed.values.get("help") === true) {
    io.out(appHelp(COMMANDS, GLOBAL_FLAGS));
    return 0;
  }
  if (parsed.values.get("version") === true) {
    io.out(versionText());
    return 0;
  }
  const name = parsed.args[0];
  if (name !== undefined) {
    if (name === "help" || name === "h") return helpAction(io, parsed.args.slice(1));
    const cmd = find(COMMANDS, name);
    if (cmd) {
      if (cmd.subcommands && cmd.subcommands.length > 0) return runGroup(io, parsed.values, cmd, parsed.args.slice(1));
      return runLeaf(io, parsed.values, cmd, `${APP_NAME} ${cmd.name}`, parsed.args.slice(1));
    }
  }
  return helpAction(io, parsed.args);
}
