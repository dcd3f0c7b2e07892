// watch and exec-watch (etcdctl/ctlv2/command/watch_command.go, exec_watch_command.go).
import type { EtcdClient } from "../../client/index.ts";
import { ExitCode, type Ctx } from "../context.ts";
import { printResponseKey } from "../format.ts";
import { Exit } from "../io.ts";

/** Run fn until it ends or a SIGINT/SIGTERM arrives (etcdctl exits 0 on Ctrl+C). */
async function untilSignal(c: Ctx, fn: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const ctl = new AbortController();
  let signalled = false;
  const unhook = c.io.onSignal(() => {
    signalled = true;
    ctl.abort();
  });
  try {
    await fn(ctl.signal);
  } catch (e) {
    if (!signalled) throw e;
  } finally {
    unhook();
  }
  if (signalled) throw new Exit(0);
}

export async function watch(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  if (c.args.length === 0) c.fail(ExitCode.BadArgs, new Error("key required"));
  const key = c.args[0]!;
  const recursive = c.bool("recursive");
  const forever = c.bool("forever");
  const index = c.int("after-index");
  await untilSignal(c, async (signal) => {
    try {
      for await (const r of client.watch(key, { recursive, ...(index > 0 ? { afterIndex: index } : {}), signal })) {
        if (r.node.dir) continue;
        if (recursive) c.out(`[${r.action}] ${r.node.key}\n`);
        printResponseKey(c, r, c.output, r.node.key === "/");
        if (!forever) return;
      }
    } catch (e) {
      if (e instanceof Exit || signal.aborted) throw e;
      c.fail(ExitCode.ServerError, e);
    }
  });
}

export async function execWatch(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const args = c.args;
  if (args.length < 2) c.fail(ExitCode.BadArgs, new Error("key and command to exec required"));
  let key: string;
  let cmdArgs: string[];
  if (args.some((a, i) => a === "--" && i !== 0)) {
    key = args[0]!;
    cmdArgs = args.slice(2);
  } else {
    // As etcdctl: without "--" the key is the last argument.
    key = args[args.length - 1]!;
    cmdArgs = args.slice(0, -1);
  }
  // etcdctl passes after-index + 1 as the watcher's AfterIndex (so it waits from +2).
  const index = c.int("after-index") !== 0 ? c.int("after-index") + 1 : 0;
  const recursive = c.bool("recursive");
  // Spawning needs child processes: node:child_process (Node, Bun and Deno all provide it),
  // loaded only here so that the other commands import nothing from node:*.
  const { spawn } = await import("node:child_process");
  await untilSignal(c, async (signal) => {
    try {
      for await (const r of client.watch(key, { recursive, ...(index > 0 ? { afterIndex: index } : {}), signal })) {
        if (r.node.dir) {
          c.err(`Ignored dir ${r.node.key} change\n`);
          continue;
        }
        if (cmdArgs.length === 0) {
          c.err("exec: no command");
          throw new Exit(1);
        }
        const env = {
          ...c.io.environ(),
          ETCD_WATCH_ACTION: r.action,
          ETCD_WATCH_MODIFIED_INDEX: String(r.node.modifiedIndex),
          ETCD_WATCH_KEY: r.node.key,
          ETCD_WATCH_VALUE: r.node.value ?? "",
        };
        const child = spawn(cmdArgs[0]!, cmdArgs.slice(1), { env, stdio: ["ignore", "inherit", "inherit"] });
        child.on("error", (err: Error & { code?: string }) => {
          c.err(err.code === "ENOENT" ? `exec: "${cmdArgs[0]}": executable file not found in $PATH` : err.message);
          void c.io.exit(1);
        });
      }
    } catch (e) {
      if (e instanceof Exit || signal.aborted) throw e;
      c.fail(ExitCode.ServerError, e);
    }
  });
}
