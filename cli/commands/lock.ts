// lock and elect: etcd-ts extensions (etcdctl has them in v3 mode only), built on the
// client's recipes (client/recipes/lock.ts Mutex, election.ts Election).
//
//   etcdctl-ts lock [--ttl N] <name> [command [args...]]
//     Blocks until the lock /locks/<name> is held, prints its key, then either runs the
//     command (with ETCD_LOCK_KEY and ETCD_LOCK_TOKEN, the fencing token, in its environment),
//     releases the lock and exits with the command's status; or, without a command, holds the
//     lock until Ctrl+C (SIGINT/SIGTERM), releases it and exits 0.
//   etcdctl-ts elect [--ttl N] [-l] <name> [proposal]
//     With a proposal: campaigns, prints the election key and the proposal once elected, and
//     leads until Ctrl+C (then resigns). With -l: prints each new leader's proposal.
// A holder that loses its key (TTL expiry, deletion) says so on stderr and exits 1.
import { Election, Mutex } from "../../client/index.ts";
import { ExitCode, type Ctx } from "../context.ts";
import { Exit } from "../io.ts";

function nameRequired(c: Ctx, what: string): string {
  if (c.args.length === 0) c.fail(ExitCode.BadArgs, new Error(`${what} name required`));
  return c.args[0]!;
}

function ttl(c: Ctx): number {
  const t = c.int("ttl");
  return t > 0 ? t : 10;
}

/** Resolves with "signal" on SIGINT/SIGTERM. */
function signalled(c: Ctx): { done: Promise<"signal">; unhook: () => void } {
  let unhook = () => {};
  const done = new Promise<"signal">((r) => (unhook = c.io.onSignal(() => r("signal"))));
  return { done, unhook };
}

export async function lock(c: Ctx): Promise<void> {
  const client = await c.client();
  const name = nameRequired(c, "lock");
  const cmd = c.args.slice(1);
  const sig = signalled(c);
  const ctl = new AbortController();
  void sig.done.then(() => ctl.abort());
  let lease;
  try {
    lease = await new Mutex(client, name, { ttl: ttl(c), prefix: c.str("prefix") || "/locks" }).acquire({ signal: ctl.signal });
  } catch (e) {
    sig.unhook();
    if (ctl.signal.aborted) throw new Exit(0);
    c.fail(ExitCode.ServerError, e);
  }
  c.out(`${lease.key}\n`);
  let code = 0;
  if (cmd.length > 0) {
    const { spawn } = await import("node:child_process");
    const child = spawn(cmd[0]!, cmd.slice(1), {
      stdio: ["inherit", "inherit", "inherit"],
      env: { ...c.io.environ(), ETCD_LOCK_KEY: lease.key, ETCD_LOCK_TOKEN: String(lease.token) },
    });
    const r = await Promise.race([
      new Promise<number>((res) => {
        child.on("error", (e: Error & { code?: string }) => {
          c.err(e.code === "ENOENT" ? `exec: "${cmd[0]}": executable file not found in $PATH\n` : `${e.message}\n`);
          res(1);
        });
        child.on("exit", (code: number | null) => res(code ?? 1));
      }),
      lease.lost.then((why) => {
        c.err(`lock lost: ${why}\n`);
        child.kill("SIGTERM");
        return 1;
      }),
    ]);
    code = r;
  } else {
    const r = await Promise.race([sig.done, lease.lost.then((why) => why)]);
    if (r !== "signal") {
      c.err(`lock lost: ${r}\n`);
      code = 1;
    }
  }
  sig.unhook();
  await lease.release().catch(() => {});
  throw new Exit(code);
}

export async function elect(c: Ctx): Promise<void> {
  const client = await c.client();
  const name = nameRequired(c, "election");
  const election = new Election(client, name, { ttl: ttl(c), prefix: c.str("prefix") || "/elections" });
  const sig = signalled(c);
  const ctl = new AbortController();
  void sig.done.then(() => ctl.abort());
  try {
    if (c.bool("listen")) {
      for await (const v of election.observe({ signal: ctl.signal })) if (v !== null) c.out(`${v}\n`);
      throw new Exit(0);
    }
    if (c.args.length < 2) c.fail(ExitCode.BadArgs, new Error("no proposal argument but -l not set"));
    const proposal = c.args[1]!;
    const lead = await election.campaign(proposal, { signal: ctl.signal });
    c.out(`${election.key}\n${proposal}\n`);
    const r = await Promise.race([sig.done, lead.lost]);
    if (r !== "signal") {
      c.err(`leadership lost: ${r}\n`);
      throw new Exit(1);
    }
    await lead.resign().catch(() => {});
    throw new Exit(0);
  } catch (e) {
    if (e instanceof Exit) throw e;
    if (ctl.signal.aborted) throw new Exit(0);
    c.fail(ExitCode.ServerError, e);
  } finally {
    sig.unhook();
  }
}
