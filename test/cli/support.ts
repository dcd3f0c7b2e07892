// Running a CLI for the etcdctl-ts tests: real etcdctl (ETCDCTL_API=2) or etcdctl-ts on Node,
// Bun or Deno, with the output captured; and the masking of what legitimately differs
// between two clusters (URLs, ports, member IDs, expiration times, TTL seconds).
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot, which } from "../support/processes.ts";
import type { Member } from "../support/processes.ts";

export type Cli = "etcdctl" | "node" | "bun" | "deno";

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

export function etcdctlInstalled(): boolean {
  const bin = which("etcdctl");
  if (bin === null) return false;
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "2" }, timeout: 10_000 });
  return r.status === 0 && r.stdout.includes("API version: 2");
}

export function cliCommand(cli: Cli, args: string[]): { cmd: string; args: string[] } {
  const root = repoRoot();
  switch (cli) {
    case "etcdctl":
      return { cmd: which("etcdctl") ?? "etcdctl", args };
    case "node":
      return { cmd: process.execPath, args: [join(root, "bin", "etcdctl-ts.mjs"), ...args] };
    case "bun":
      return { cmd: join(root, "node_modules", ".bin", "bun"), args: [join(root, "bin", "etcdctl-ts.mjs"), ...args] };
    case "deno":
      return { cmd: join(root, "node_modules", ".bin", "deno"), args: ["run", "-A", "--quiet", join(root, "cli", "main.ts"), ...args] };
  }
}

/** The environment of a CLI run: no stray ETCDCTL_* settings, the endpoint given. */
export function cliEnv(endpoints: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ETCDCTL_")) env[k] = v;
  env.ETCDCTL_API = "2";
  env.NO_COLOR = "1";
  if (endpoints !== undefined) env.ETCDCTL_ENDPOINTS = endpoints;
  return { ...env, ...extra };
}

export function runCli(cli: Cli, args: string[], o: { endpoints?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const { cmd, args: argv } = cliCommand(cli, args);
  const r = spawnSync(cmd, argv, {
    cwd: repoRoot(), encoding: "utf8", input: o.input ?? "", env: cliEnv(o.endpoints, o.env), timeout: o.timeoutMs ?? 20_000,
  });
  return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", code: r.status };
}

/** A CLI run in the background (watch, exec-watch, lock): stop() sends SIGINT and collects. */
export function startCli(cli: Cli, args: string[], o: { endpoints?: string; env?: Record<string, string> } = {}) {
  const { cmd, args: argv } = cliCommand(cli, args);
  const child = spawn(cmd, argv, { cwd: repoRoot(), env: cliEnv(o.endpoints, o.env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (s: string) => (stdout += s));
  child.stderr.on("data", (s: string) => (stderr += s));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    /** Wait until stdout holds `text` (or the timeout passes). */
    async waitFor(text: string, ms = 10_000): Promise<boolean> {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (stdout.includes(text)) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    },
    exited,
    async stop(signal: NodeJS.Signals = "SIGINT"): Promise<CliResult> {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      const code = await exited;
      clearTimeout(t);
      return { stdout, stderr, code };
    },
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The member's ID as /v2/members shows it. */
export async function memberId(m: Member): Promise<string> {
  const r = await fetch(`${m.clientURL}/v2/members`);
  const j = (await r.json()) as { members: Array<{ id: string; name: string }> };
  return j.members.find((x) => x.name === m.name)?.id ?? "";
}

/** Mask what differs legitimately between two clusters. */
export function mask(s: string, m: { clientURL: string; peerURL: string; id: string }): string {
  let t = s.split(m.clientURL).join("<client-url>").split(m.peerURL).join("<peer-url>");
  const port = (u: string) => new URL(u).port;
  t = t.split(`127.0.0.1:${port(m.clientURL)}`).join("<client-hostport>");
  if (m.id) t = t.replace(new RegExp(`\\b${escapeRe(m.id)}\\b`, "g"), "<member-id>");
  t = t.replace(/"expiration":"[^"]*"/g, '"expiration":"<exp>"');
  t = t.replace(/"ttl":\d+/g, '"ttl":<ttl>').replace(/^TTL: [1-9]\d*$/gm, "TTL: <ttl>");
  return t;
}
