// The command table: names, usage texts and flags exactly as etcdctl 3.4 declares them
// (they make the help output), and the function that runs each command.
import type { EtcdClient } from "../client/index.ts";
import * as keys from "./commands/keys.ts";
import { elect, lock } from "./commands/lock.ts";
import { clusterHealth, memberAdd, memberList, memberRemove, memberUpdate } from "./commands/member.ts";
import { execWatch, watch } from "./commands/watch.ts";
import type { Ctx } from "./context.ts";
import type { FlagDef } from "./flags.ts";
import type { HelpCommand } from "./help.ts";
import { Exit } from "./io.ts";

export interface Command extends HelpCommand {
  action?: (c: Ctx) => Promise<void>;
  subcommands?: Command[];
}

export const GLOBAL_FLAGS: FlagDef[] = [
  { names: ["debug"], kind: "bool", usage: "output cURL commands which can be used to reproduce the request" },
  { names: ["no-sync"], kind: "bool", usage: "don't synchronize cluster information before sending request" },
  { names: ["output", "o"], kind: "string", def: "simple", usage: "output response in the given format (`simple`, `extended` or `json`)" },
  { names: ["discovery-srv", "D"], kind: "string", usage: "domain name to query for SRV records describing cluster endpoints" },
  { names: ["insecure-discovery"], kind: "bool", usage: "accept insecure SRV records describing cluster endpoints" },
  { names: ["peers", "C"], kind: "string", def: "", usage: "DEPRECATED - \"--endpoints\" should be used instead" },
  { names: ["endpoint"], kind: "string", def: "", usage: "DEPRECATED - \"--endpoints\" should be used instead" },
  { names: ["endpoints"], kind: "string", def: "", usage: "a comma-delimited list of machine addresses in the cluster (default: \"http://127.0.0.1:2379,http://127.0.0.1:4001\")" },
  { names: ["cert-file"], kind: "string", def: "", usage: "identify HTTPS client using this SSL certificate file" },
  { names: ["key-file"], kind: "string", def: "", usage: "identify HTTPS client using this SSL key file" },
  { names: ["ca-file"], kind: "string", def: "", usage: "verify certificates of HTTPS-enabled servers using this CA bundle" },
  { names: ["username", "u"], kind: "string", def: "", usage: "provide username[:password] and prompt if password is not supplied." },
  { names: ["timeout"], kind: "duration", def: 2000, usage: "connection timeout per request" },
  { names: ["total-timeout"], kind: "duration", def: 5000, usage: "timeout for the command execution (except watch)" },
];

const TTL: FlagDef = { names: ["ttl"], kind: "int", def: 0, usage: "key time-to-live in seconds" };

/** Run a keys command with a client created (and synchronised) first, as etcdctl does. */
function withClient(f: (c: Ctx, cl: () => Promise<EtcdClient>) => Promise<void>): (c: Ctx) => Promise<void> {
  return (c) => f(c, () => c.client());
}

function unsupported(what: string): (c: Ctx) => Promise<void> {
  return async (c) => {
    c.err(`etcdctl-ts: ${what} is not supported: the etcd-ts member has no v2 authentication\n`);
    throw new Exit(1);
  };
}

export const COMMANDS: Command[] = [
  {
    name: "backup", usage: "backup an etcd directory", argsUsage: " ",
    flags: [
      { names: ["data-dir"], kind: "string", def: "", usage: "Path to the etcd data dir" },
      { names: ["wal-dir"], kind: "string", def: "", usage: "Path to the etcd wal dir" },
      { names: ["backup-dir"], kind: "string", def: "", usage: "Path to the backup dir" },
      { names: ["backup-wal-dir"], kind: "string", def: "", usage: "Path to the backup wal dir" },
      { names: ["with-v3"], kind: "bool", usage: "Backup v3 backend data" },
    ],
    // Loaded on demand: backup alone needs files (node:fs), the other commands stay node:*-free.
    action: async (c) => (await import("./commands/backup.ts")).backup(c),
  },
  {
    name: "cluster-health", usage: "check the health of the etcd cluster", argsUsage: " ",
    flags: [{ names: ["forever", "f"], kind: "bool", usage: "forever check the health every 10 second until CTRL+C" }],
    action: clusterHealth,
  },
  {
    name: "mk", usage: "make a new key with a given value", argsUsage: "<key> <value>",
    flags: [{ names: ["in-order"], kind: "bool", usage: "create in-order key under directory <key>" }, TTL],
    action: withClient(keys.mk),
  },
  { name: "mkdir", usage: "make a new directory", argsUsage: "<key>", flags: [TTL], action: withClient(keys.mkdir) },
  {
    name: "rm", usage: "remove a key or a directory", argsUsage: "<key>",
    flags: [
      { names: ["dir"], kind: "bool", usage: "removes the key if it is an empty directory or a key-value pair" },
      { names: ["recursive", "r"], kind: "bool", usage: "removes the key and all child keys(if it is a directory)" },
      { names: ["with-value"], kind: "string", def: "", usage: "previous value" },
      { names: ["with-index"], kind: "int", def: 0, usage: "previous index" },
    ],
    action: withClient(keys.rm),
  },
  { name: "rmdir", usage: "removes the key if it is an empty directory or a key-value pair", argsUsage: "<key>", action: withClient(keys.rmdir) },
  {
    name: "get", usage: "retrieve the value of a key", argsUsage: "<key>",
    flags: [
      { names: ["sort"], kind: "bool", usage: "returns result in sorted order" },
      { names: ["quorum", "q"], kind: "bool", usage: "require quorum for get request" },
    ],
    action: withClient(keys.get),
  },
  {
    name: "ls", usage: "retrieve a directory", argsUsage: "[key]",
    flags: [
      { names: ["sort"], kind: "bool", usage: "returns result in sorted order" },
      { names: ["recursive", "r"], kind: "bool", usage: "returns all key names recursively for the given path" },
      { names: ["p"], kind: "bool", usage: "append slash (/) to directories" },
      { names: ["quorum", "q"], kind: "bool", usage: "require quorum for get request" },
    ],
    action: withClient(keys.ls),
  },
  {
    name: "set", usage: "set the value of a key", argsUsage: "<key> <value>",
    description: "Set sets the value of a key.\n\n   When <value> begins with '-', <value> is interpreted as a flag.\n   Insert '--' for workaround:\n\n   $ set -- <key> <value>",
    flags: [
      TTL,
      { names: ["swap-with-value"], kind: "string", def: "", usage: "previous value" },
      { names: ["swap-with-index"], kind: "int", def: 0, usage: "previous index" },
    ],
    action: withClient(keys.set),
  },
  { name: "setdir", usage: "create a new directory or update an existing directory TTL", argsUsage: "<key>", flags: [TTL], action: withClient(keys.setdir) },
  { name: "update", usage: "update an existing key with a given value", argsUsage: "<key> <value>", flags: [TTL], action: withClient(keys.update) },
  { name: "updatedir", usage: "update an existing directory", argsUsage: "<key> <value>", flags: [TTL], action: withClient(keys.updatedir) },
  {
    name: "watch", usage: "watch a key for changes", argsUsage: "<key>",
    flags: [
      { names: ["forever", "f"], kind: "bool", usage: "forever watch a key until CTRL+C" },
      { names: ["after-index"], kind: "int", def: 0, usage: "watch after the given index" },
      { names: ["recursive", "r"], kind: "bool", usage: "returns all values for key and child keys" },
    ],
    action: withClient(watch),
  },
  {
    name: "exec-watch", usage: "watch a key for changes and exec an executable", argsUsage: "<key> <command> [args...]",
    flags: [
      { names: ["after-index"], kind: "int", def: 0, usage: "watch after the given index" },
      { names: ["recursive", "r"], kind: "bool", usage: "watch all values for key and child keys" },
    ],
    action: withClient(execWatch),
  },
  {
    name: "member", usage: "member add, remove and list subcommands",
    subcommands: [
      { name: "list", usage: "enumerate existing cluster members", argsUsage: " ", action: memberList },
      { name: "add", usage: "add a new member to the etcd cluster", argsUsage: "<name> <peerURL>", action: memberAdd },
      { name: "remove", usage: "remove an existing member from the etcd cluster", argsUsage: "<memberID>", action: memberRemove },
      { name: "update", usage: "update an existing member in the etcd cluster", argsUsage: "<memberID> <peerURLs>", action: memberUpdate },
    ],
  },
  { name: "user", usage: "user add, grant and revoke subcommands", subcommands: [], action: unsupported("user") },
  { name: "role", usage: "role add, grant and revoke subcommands", subcommands: [], action: unsupported("role") },
  { name: "auth", usage: "overall auth controls", subcommands: [], action: unsupported("auth") },
  // etcd-ts extensions (etcdctl has lock/elect in v3 mode only). Hidden from the command list
  // so that `etcdctl-ts help` stays byte-identical to etcdctl's; `help lock` describes them.
  {
    name: "lock", hidden: true, usage: "acquire a named lock (etcd-ts extension)", argsUsage: "<name> [command [args...]]",
    flags: [
      { names: ["ttl"], kind: "int", def: 10, usage: "seconds the lock outlives a silent holder" },
      { names: ["prefix"], kind: "string", def: "/locks", usage: "directory of the locks" },
    ],
    action: lock,
  },
  {
    name: "elect", hidden: true, usage: "observe and participate in leader election (etcd-ts extension)", argsUsage: "<name> [proposal]",
    flags: [
      { names: ["listen", "l"], kind: "bool", usage: "observation mode: print each new leader's proposal" },
      { names: ["ttl"], kind: "int", def: 10, usage: "seconds a silent leader keeps the role" },
      { names: ["prefix"], kind: "string", def: "/elections", usage: "directory of the elections" },
    ],
    action: elect,
  },
];
