#!/usr/bin/env node
// Start a local 3-member cluster in etcd's Procfile layout, in the foreground:
//
//   infra1  client http://127.0.0.1:2379   peer http://127.0.0.1:2380   data ./infra1.etcd
//   infra2  client http://127.0.0.1:22379  peer http://127.0.0.1:22380  data ./infra2.etcd
//   infra3  client http://127.0.0.1:32379  peer http://127.0.0.1:32380  data ./infra3.etcd
//
//   npm run cluster                                  # three members of ours on Node
//   npm run cluster -- --runtimes node,bun,deno      # one member per runtime
//   npm run cluster -- --etcd                        # the same layout with real etcd
//   npm run cluster -- --clean -- --snapshot-count 100   # wipe the data dirs first; extra flags for every member
//
// Options:
//   --runtimes LIST   runtime of each member: node | bun | deno (default node,node,node)
//   --etcd            run real etcd (ETCD_BIN or etcd on PATH) instead of our members
//   --data-root DIR   where the infraN.etcd data dirs live (default: the current directory)
//   --clean           remove the three data dirs before starting
//   --token T         --initial-cluster-token (default etcd-cluster-1, as in etcd's Procfile)
//   -- FLAGS...       everything after a lone "--" is appended to every member's flags
//
// Once a member has a data dir (member/wal), etcd ignores the --initial-* flags and restarts
// from its data; ours does the same. Our data dirs and etcd's are not interchangeable: use
// --clean when switching between --etcd and ours. Prints each member's command, prefixes each
// log line with the member's name, and stops every member on Ctrl-C (SIGTERM, SIGKILL after 5 s).
//
// This file also exports the launcher used by scripts/bench.mjs.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const RUNTIMES = ["node", "bun", "deno"];

/** etcd's Procfile layout (client ports as given in the brief: 2379, 22379, 32379). */
export const PROCFILE_LAYOUT = [
  { name: "infra1", clientPort: 2379, peerPort: 2380 },
  { name: "infra2", clientPort: 22379, peerPort: 22380 },
  { name: "infra3", clientPort: 32379, peerPort: 32380 },
];

export function etcdBinary() {
  if (process.env.ETCD_BIN) return existsSync(process.env.ETCD_BIN) ? process.env.ETCD_BIN : null;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "etcd"))) return join(dir, "etcd");
  }
  return null;
}

/** The command that starts one member of the given kind ("etcd", "node", "bun", "deno"). */
export function commandFor(kind, flags) {
  switch (kind) {
    case "etcd": {
      const bin = etcdBinary();
      if (!bin) throw new Error("etcd is not installed (not on PATH; set ETCD_BIN)");
      return { cmd: bin, args: flags };
    }
    case "node":
      if (!existsSync(join(ROOT, "dist", "runtimes", "node", "main.js"))) {
        throw new Error("dist/runtimes/node/main.js is missing: run `npm run build` first");
      }
      return { cmd: process.execPath, args: ["bin/etcd-ts.mjs", ...flags] };
    case "bun":
      return { cmd: join(ROOT, "node_modules", ".bin", "bun"), args: ["bin/etcd-ts.mjs", ...flags] };
    case "deno":
      return {
        cmd: join(ROOT, "node_modules", ".bin", "deno"),
        args: ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "runtimes/deno/main.ts", ...flags],
      };
    default:
      throw new Error(`unknown runtime "${kind}" (expected node, bun, deno or etcd)`);
  }
}

/** Printable shell form of a command. */
export function shellLine(cmd, args) {
  const q = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [cmd, ...args].map(q).join(" ");
}

/** True when nothing listens on 127.0.0.1:port (we can bind it). */
export function portFree(port) {
  return new Promise((res) => {
    const srv = createServer();
    srv.once("error", () => res(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
  });
}

/** A free port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start the members of a static cluster. `members`: [{name, kind, clientPort, peerPort, dataDir}].
 * onLine(name, line, stream) receives every output line. Returns {members, stop()}; each member
 * gets {child, pid, clientURL, peerURL, command}. Does not wait for readiness (see waitReady).
 */
export function startCluster({ members, token = "etcd-cluster-1", extraArgs = [], onLine = () => {}, onExit = () => {} }) {
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");
  const started = [];
  for (const m of members) {
    const clientURL = `http://127.0.0.1:${m.clientPort}`;
    const peerURL = `http://127.0.0.1:${m.peerPort}`;
    const flags = [
      "--enable-v2",
      "--name", m.name,
      "--data-dir", m.dataDir,
      "--listen-client-urls", clientURL,
      "--advertise-client-urls", clientURL,
      "--listen-peer-urls", peerURL,
      "--initial-advertise-peer-urls", peerURL,
      "--initial-cluster", initialCluster,
      "--initial-cluster-token", token,
      "--initial-cluster-state", "new",
      ...extraArgs,
    ];
    const { cmd, args } = commandFor(m.kind, flags);
    const env = { ...process.env, NO_COLOR: "1" };
    for (const k of Object.keys(env)) if (k.startsWith("ETCD_") && k !== "ETCD_BIN") delete env[k];
    delete env.ETCD_BIN;
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const entry = { ...m, child, pid: child.pid, clientURL, peerURL, command: shellLine(cmd, args), exit: null };
    for (const [stream, s] of [["stdout", child.stdout], ["stderr", child.stderr]]) {
      let buf = "";
      s.setEncoding("utf8");
      s.on("data", (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          onLine(m.name, buf.slice(0, i), stream);
          buf = buf.slice(i + 1);
        }
      });
      s.on("end", () => { if (buf) onLine(m.name, buf, stream); buf = ""; });
    }
    entry.exited = new Promise((res) => {
      child.on("error", (err) => { entry.exit = { code: null, signal: null, error: err.message }; onExit(entry); res(entry.exit); });
      child.on("exit", (code, signal) => { entry.exit = { code, signal }; onExit(entry); res(entry.exit); });
    });
    started.push(entry);
  }
  async function stop(graceMs = 5000) {
    for (const m of started) if (m.exit === null) { try { m.child.kill("SIGTERM"); } catch { /* gone */ } }
    const all = Promise.all(started.map((m) => m.exited));
    const r = await Promise.race([all.then(() => "done"), sleep(graceMs).then(() => "timeout")]);
    if (r === "timeout") {
      for (const m of started) if (m.exit === null) { try { m.child.kill("SIGKILL"); } catch { /* gone */ } }
      await all;
    }
  }
  return { members: started, stop };
}

async function getJSON(url, timeoutMs = 2000) {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}

/** Wait until every member answers /health 200 and they agree on a leader; returns the leader's client URL. */
export async function waitReady(members, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const dead = members.find((m) => m.exit !== null);
    if (dead) throw new Error(`${dead.name} exited (code ${dead.exit.code}, signal ${dead.exit.signal}) before the cluster was ready`);
    try {
      const health = await Promise.all(members.map((m) => getJSON(m.clientURL + "/health")));
      last = health.map((h, i) => `${members[i].name}:/health ${h.status}`).join(" ");
      if (health.every((h) => h.status === 200)) {
        const leaders = await Promise.all(members.map((m) => getJSON(m.clientURL + "/v2/members/leader")));
        const ids = leaders.map((l) => l.json?.id ?? null);
        last += " leader " + ids.join(",");
        if (ids[0] && ids.every((x) => x === ids[0])) return leaders[0].json.clientURLs[0];
      }
    } catch (err) {
      last = String(err?.message ?? err);
    }
    await sleep(200);
  }
  throw new Error(`the cluster was not ready within ${timeoutMs} ms (last: ${last})`);
}

// ------------------------------------------------------------------ main (npm run cluster)
function usage() {
  const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
  const out = [];
  for (const l of lines.slice(1)) {
    if (!l.startsWith("//")) break;
    if (l.startsWith("// This file also exports")) break;
    out.push(l.replace(/^\/\/ ?/, ""));
  }
  return out.join("\n");
}

function parseArgs(argv) {
  const o = { runtimes: ["node", "node", "node"], etcd: false, dataRoot: process.cwd(), clean: false, token: "etcd-cluster-1", extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      return v;
    };
    if (a === "--") { o.extra = argv.slice(i + 1); break; }
    else if (a === "--runtimes") o.runtimes = val().split(",").map((s) => s.trim()).filter(Boolean);
    else if (a === "--etcd") o.etcd = true;
    else if (a === "--data-root") o.dataRoot = resolve(val());
    else if (a === "--clean") o.clean = true;
    else if (a === "--token") o.token = val();
    else if (a === "-h" || a === "--help") { console.log(usage()); process.exit(0); }
    else throw new Error(`unknown option ${a} (see --help)`);
  }
  if (!o.etcd) {
    if (o.runtimes.length === 1) o.runtimes = [o.runtimes[0], o.runtimes[0], o.runtimes[0]];
    if (o.runtimes.length !== 3) throw new Error(`--runtimes needs 3 entries (or 1 for all), got ${o.runtimes.join(",")}`);
    for (const r of o.runtimes) if (!RUNTIMES.includes(r)) throw new Error(`unknown runtime "${r}" (expected node, bun or deno)`);
  }
  return o;
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`cluster: ${err.message}`);
    process.exit(2);
  }
  const kinds = o.etcd ? ["etcd", "etcd", "etcd"] : o.runtimes;
  const members = PROCFILE_LAYOUT.map((l, i) => ({ ...l, kind: kinds[i], dataDir: join(o.dataRoot, `${l.name}.etcd`) }));
  for (const m of members) {
    for (const p of [m.clientPort, m.peerPort]) {
      if (!(await portFree(p))) {
        console.error(`cluster: port ${p} (${m.name}) is already in use; is another cluster running?`);
        process.exit(1);
      }
    }
    if (o.clean) rmSync(m.dataDir, { recursive: true, force: true });
  }
  const colors = process.stdout.isTTY ? ["\x1b[36m", "\x1b[33m", "\x1b[35m"] : ["", "", ""];
  const reset = process.stdout.isTTY ? "\x1b[0m" : "";
  const width = Math.max(...members.map((m) => m.name.length));
  const prefix = (name) => {
    const i = members.findIndex((m) => m.name === name);
    return `${colors[i] ?? ""}${name.padEnd(width)} |${reset} `;
  };
  let stopping = false;
  let cluster;
  try {
    cluster = startCluster({
      members,
      token: o.token,
      extraArgs: o.extra,
      onLine: (name, line) => process.stdout.write(prefix(name) + line + "\n"),
      onExit: (m) => {
        process.stdout.write(prefix(m.name) + `exited (code ${m.exit.code}, signal ${m.exit.signal}${m.exit.error ? `, ${m.exit.error}` : ""})\n`);
        if (!stopping && cluster && cluster.members.every((x) => x.exit !== null)) {
          console.log("cluster: every member has exited");
          process.exit(1);
        }
      },
    });
  } catch (err) {
    console.error(`cluster: ${err.message}`);
    process.exit(1);
  }
  for (const m of cluster.members) {
    console.log(`${prefix(m.name)}${m.kind} pid ${m.pid}: ${m.command}`);
  }
  const shutdown = async (sig) => {
    if (stopping) {
      for (const m of cluster.members) if (m.exit === null) { try { m.child.kill("SIGKILL"); } catch { /* gone */ } }
      process.exit(130);
    }
    stopping = true;
    console.log(`\ncluster: ${sig}: stopping every member (SIGTERM, SIGKILL after 5 s; press Ctrl-C again to kill now)`);
    await cluster.stop(5000);
    console.log("cluster: stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("exit", () => {
    for (const m of cluster.members) if (m.exit === null) { try { m.child.kill("SIGKILL"); } catch { /* gone */ } }
  });
  try {
    const leaderURL = await waitReady(cluster.members, 60_000);
    console.log(`cluster: ready: ${cluster.members.map((m) => `${m.name} ${m.clientURL}`).join(", ")}; leader ${leaderURL}`);
    console.log(`cluster: try  curl -L ${cluster.members[0].clientURL}/v2/keys/foo -XPUT -d value=bar   (Ctrl-C stops all)`);
  } catch (err) {
    if (!stopping) console.log(`cluster: ${err.message} (members keep running; Ctrl-C stops them)`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
