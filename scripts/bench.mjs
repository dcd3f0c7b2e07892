#!/usr/bin/env node
// Benchmark ours against real etcd with the shared load tool (../shared/tools/load.mjs):
// starts a local 3-member cluster of ours, runs load.mjs against it, stops it; then (when etcd
// is installed) a 3-member etcd cluster on other ports with the same load options; never both
// at once. Prints a table (phase, conns, ops/s ours and etcd, ratio ours/etcd, p50/p99 latency
// of both) with the setup, and writes the JSON results to bench-results/.
//
//   npm run build && npm run bench
//   npm run bench -- --single                      # one member each (works without the Raft cluster)
//   npm run bench -- --runtimes node,bun,deno --duration 5 --conns 1,64,256
//   npm run bench -- --no-etcd                     # ours only
//
// Options (defaults in brackets):
//   --runtimes LIST   our members' runtimes, node | bun | deno                  [node,node,node]
//   --single          one member each (ours on the first runtime, and one etcd)
//   --no-etcd         skip etcd; --etcd-only skips ours
//   --duration S      seconds measured per phase (load.mjs --duration)         [3]
//   --warmup S        load.mjs --warmup                                         [0.5]
//   --conns LIST      connection counts for put/get/qget                        [1,256]
//   --phases LIST     seqput,put,get,qget,watch                                 [all]
//   --watch-rounds N  load.mjs --watch-rounds                                   [200]
//   --keyspace N / --value-size B   passed to load.mjs                         [its defaults]
//   --out-dir DIR     where the JSON goes                                        [bench-results]
//   --load PATH       the load tool                                              [../shared/tools/load.mjs]
//   -- FLAGS...       extra flags for every member (both systems), e.g. -- --snapshot-count 10000
//
// Endpoints are given to load.mjs leader first, then followers, for both systems (load.mjs
// sends 1-connection phases and the watch's PUTs to the first endpoint, and watches on the
// second). Members' PIDs are passed with --pids, so server CPU seconds are reported.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { ROOT, commandFor, etcdBinary, freePort, startCluster, waitReady } from "./cluster.mjs";

/** Clusters currently running (killed if the bench is interrupted). */
const running = new Set();

function parseArgs(argv) {
  const o = {
    runtimes: ["node", "node", "node"], single: false, etcd: true, ours: true,
    duration: "3", warmup: "0.5", conns: "1,256", phases: "seqput,put,get,qget,watch", watchRounds: "200",
    keyspace: null, valueSize: null, outDir: join(ROOT, "bench-results"), load: join(ROOT, "..", "shared", "tools", "load.mjs"), extra: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      return v;
    };
    if (a === "--") { o.extra = argv.slice(i + 1); break; }
    else if (a === "--runtimes") o.runtimes = val().split(",").map((s) => s.trim()).filter(Boolean);
    else if (a === "--single") o.single = true;
    else if (a === "--no-etcd") o.etcd = false;
    else if (a === "--etcd-only") o.ours = false;
    else if (a === "--duration") o.duration = val();
    else if (a === "--warmup") o.warmup = val();
    else if (a === "--conns") o.conns = val();
    else if (a === "--phases") o.phases = val();
    else if (a === "--watch-rounds") o.watchRounds = val();
    else if (a === "--keyspace") o.keyspace = val();
    else if (a === "--value-size") o.valueSize = val();
    else if (a === "--out-dir") o.outDir = resolve(val());
    else if (a === "--load") o.load = resolve(val());
    else if (a === "-h" || a === "--help") {
      const lines = readFileSync(new URL(import.meta.url), "utf8").split("\n").slice(1);
      console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith("//"))).map((l) => l.replace(/^\/\/ ?/, "")).join("\n"));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  for (const r of o.runtimes) if (!["node", "bun", "deno"].includes(r)) throw new Error(`unknown runtime "${r}"`);
  if (o.runtimes.length === 1) o.runtimes = [o.runtimes[0], o.runtimes[0], o.runtimes[0]];
  if (o.single) o.runtimes = [o.runtimes[0]];
  else if (o.runtimes.length !== 3) throw new Error(`--runtimes needs 3 entries (or 1 for all), got ${o.runtimes.join(",")}`);
  return o;
}

function version(cmd, args) {
  try {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000, cwd: ROOT });
    return (r.stdout || r.stderr || "").trim().split("\n")[0];
  } catch {
    return "unknown";
  }
}

/** Start a cluster of `kinds`, run load.mjs against it, stop it. Returns the load JSON and the setup. */
async function runSystem(label, kinds, o, tmpRoot) {
  const size = kinds.length;
  const ports = [];
  while (ports.length < size * 2) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const names = kinds.map((_, i) => (size === 1 ? "bench1" : `bench${i + 1}`));
  const dataRoot = mkdtempSync(join(tmpRoot, `${label}-`));
  const members = kinds.map((kind, i) => ({ name: names[i], kind, clientPort: ports[2 * i], peerPort: ports[2 * i + 1], dataDir: join(dataRoot, `${names[i]}.etcd`) }));
  const logs = new Map(members.map((m) => [m.name, []]));
  const cluster = startCluster({
    members,
    token: `bench-${label}-${Date.now()}`,
    extraArgs: o.extra,
    onLine: (name, line) => {
      const l = logs.get(name);
      l.push(line);
      if (l.length > 400) l.splice(0, l.length - 300);
    },
  });
  running.add(cluster);
  const tail = () => cluster.members.map((m) => `--- ${m.name} (${m.kind}, pid ${m.pid}${m.exit ? `, exited ${JSON.stringify(m.exit)}` : ""})\n${logs.get(m.name).slice(-40).join("\n")}`).join("\n");
  try {
    console.error(`\n== ${label}: ${kinds.join(",")} (${size} member${size > 1 ? "s" : ""})`);
    for (const m of cluster.members) console.error(`   ${m.name} pid ${m.pid}: ${m.command}`);
    let leaderURL;
    try {
      leaderURL = await waitReady(cluster.members, 90_000);
    } catch (err) {
      throw new Error(`${label}: ${err.message}\n${tail()}`);
    }
    const ordered = [...cluster.members].sort((a, b) => (a.clientURL === leaderURL ? -1 : b.clientURL === leaderURL ? 1 : 0));
    const outFile = join(dataRoot, "load.json");
    const loadArgs = [
      o.load,
      "--endpoints", ordered.map((m) => m.clientURL).join(","),
      "--phases", o.phases, "--duration", o.duration, "--warmup", o.warmup, "--conns", o.conns,
      "--watch-rounds", o.watchRounds,
      ...(o.keyspace ? ["--keyspace", o.keyspace] : []),
      ...(o.valueSize ? ["--value-size", o.valueSize] : []),
      "--pids", cluster.members.map((m) => m.pid).join(","),
      "--label", `${label} ${kinds.join(",")}`,
      "--out", outFile, "--quiet",
    ];
    console.error(`   load: node ${loadArgs.map((a) => (a.includes(" ") ? `'${a}'` : a)).join(" ")}`);
    const code = await new Promise((res) => {
      const child = spawn(process.execPath, loadArgs, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
      child.on("exit", (c) => res(c));
      child.on("error", () => res(-1));
    });
    const dead = cluster.members.filter((m) => m.exit !== null);
    if (code !== 0 || !existsSync(outFile)) throw new Error(`${label}: load.mjs exited with ${code}\n${tail()}`);
    if (dead.length > 0) throw new Error(`${label}: member(s) died during the run: ${dead.map((m) => m.name).join(", ")}\n${tail()}`);
    const result = JSON.parse(readFileSync(outFile, "utf8"));
    return {
      label,
      runtimes: kinds,
      members: cluster.members.map((m) => ({ name: m.name, kind: m.kind, pid: m.pid, clientURL: m.clientURL, command: m.command })),
      leader: leaderURL,
      result,
    };
  } finally {
    await cluster.stop(5000);
    running.delete(cluster);
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "-";
  return digits ? n.toFixed(digits) : String(Math.round(n));
}

function table(ours, etcd) {
  const key = (p) => `${p.phase}/${p.conns}`;
  const rows = [];
  const phases = ours?.result.phases ?? etcd?.result.phases ?? [];
  const other = new Map((etcd?.result.phases ?? []).map((p) => [key(p), p]));
  const seen = new Set();
  const rate = (p) => (p === undefined ? null : p.phase === "watch" ? (p.latencyMs?.mean ? 1000 / p.latencyMs.mean : null) : p.opsPerSec);
  const push = (a, b) => {
    const ra = rate(a);
    const rb = rate(b);
    const p = a ?? b;
    rows.push([
      p.phase, p.phase === "watch" ? "1+1" : String(p.conns),
      fmt(ra), fmt(rb), ra && rb ? (ra / rb).toFixed(2) : "-",
      a ? `${fmt(a.latencyMs?.p50, 2)}/${fmt(a.latencyMs?.p99, 2)}` : "-",
      b ? `${fmt(b.latencyMs?.p50, 2)}/${fmt(b.latencyMs?.p99, 2)}` : "-",
      [a?.errors ? `ours ${a.errors}` : "", b?.errors ? `etcd ${b.errors}` : ""].filter(Boolean).join(" ") || "0",
      a?.serverCpuSec != null || b?.serverCpuSec != null ? `${fmt(a?.serverCpuSec, 2)}/${fmt(b?.serverCpuSec, 2)}` : "-",
    ]);
  };
  for (const p of phases) {
    seen.add(key(p));
    push(ours ? p : undefined, ours ? other.get(key(p)) : p);
  }
  for (const p of etcd?.result.phases ?? []) if (!seen.has(key(p)) && ours) push(undefined, p);
  const head = ["phase", "conns", "ours ops/s", "etcd ops/s", "ours/etcd", "ours p50/p99 ms", "etcd p50/p99 ms", "errors", "cpu s ours/etcd"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err.message}`);
    process.exit(2);
  }
  if (!existsSync(o.load)) {
    console.error(`bench: the load tool is missing: ${o.load}\n(expected the shared tools next to the repository: ../shared/tools/load.mjs; or pass --load PATH)`);
    process.exit(1);
  }
  const haveEtcd = etcdBinary() !== null;
  if (o.etcd && !haveEtcd) console.error("bench: etcd is not installed (not on PATH; set ETCD_BIN): measuring ours only");
  const runEtcd = o.etcd && haveEtcd;
  if (!o.ours && !runEtcd) {
    console.error("bench: nothing to run");
    process.exit(2);
  }
  if (o.ours) {
    try {
      for (const k of new Set(o.runtimes)) commandFor(k, []);
    } catch (err) {
      console.error(`bench: ${err.message}`);
      process.exit(1);
    }
  }
  const size = o.single ? 1 : 3;
  const tmpRoot = mkdtempSync(join(os.tmpdir(), "etcd-ts-bench-"));
  process.on("SIGINT", () => { console.error("bench: interrupted"); process.exit(130); });
  process.on("SIGTERM", () => { console.error("bench: terminated"); process.exit(143); });
  process.on("exit", () => {
    for (const c of running) for (const m of c.members) if (m.exit === null) { try { m.child.kill("SIGKILL"); } catch { /* gone */ } }
    try { rmSync(tmpRoot, { recursive: true, force: true }); } catch { /* best effort */ }
  });
  const setup = {
    date: new Date().toISOString(),
    host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, loadavgBefore: os.loadavg() },
    versions: {
      node: process.version,
      ...(o.ours && o.runtimes.includes("bun") ? { bun: version(join(ROOT, "node_modules", ".bin", "bun"), ["--version"]) } : {}),
      ...(o.ours && o.runtimes.includes("deno") ? { deno: version(join(ROOT, "node_modules", ".bin", "deno"), ["--version"]) } : {}),
      ...(runEtcd ? { etcd: version(etcdBinary(), ["--version"]).replace(/^etcd Version:\s*/, "") } : {}),
      etcdTs: JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
    },
    members: size,
    ours: o.ours ? o.runtimes : null,
    memberFlags: ["--enable-v2", "--initial-cluster-state new", ...o.extra],
    load: { tool: o.load, duration: Number(o.duration), warmup: Number(o.warmup), conns: o.conns, phases: o.phases, watchRounds: Number(o.watchRounds), keyspace: o.keyspace, valueSize: o.valueSize },
  };
  let ours = null;
  let etcd = null;
  const failures = [];
  try {
    if (o.ours) {
      try {
        ours = await runSystem("ours", o.runtimes, o, tmpRoot);
      } catch (err) {
        failures.push(err.message);
        console.error(`bench: ${err.message}`);
      }
    }
    if (runEtcd) {
      await new Promise((r) => setTimeout(r, 1000));
      try {
        etcd = await runSystem("etcd", Array.from({ length: size }, () => "etcd"), o, tmpRoot);
      } catch (err) {
        failures.push(err.message);
        console.error(`bench: ${err.message}`);
      }
    }
  } finally {
    rmSync(tmpRoot, { recursive: true, force: true });
  }

  console.log("");
  console.log(`setup: ${setup.host.cpus} cores (${setup.host.cpuModel}), ${setup.host.memGiB} GiB, ${setup.host.platform}`);
  console.log(`       ${Object.entries(setup.versions).map(([k, v]) => `${k} ${v}`).join("; ")}`);
  console.log(`       ${size} member${size > 1 ? "s" : ""} each; ours on ${o.ours ? o.runtimes.join(",") : "-"}; member flags: ${setup.memberFlags.join(" ")} (+ name, URLs, data dir, token)`);
  console.log(`       load.mjs --duration ${o.duration} --warmup ${o.warmup} --conns ${o.conns} --phases ${o.phases} --watch-rounds ${o.watchRounds}; endpoints leader first`);
  console.log(`       watch row: ops/s = 1000 / mean set->notify latency (one watcher, one setter)`);
  console.log("");
  if (ours || etcd) console.log(table(ours, etcd));
  mkdirSync(o.outDir, { recursive: true });
  const stamp = setup.date.replace(/[:.]/g, "-");
  const file = join(o.outDir, `bench-${o.single ? "single" : "cluster"}-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ setup, ours, etcd, failures }, null, 2) + "\n");
  console.log(`\nresults: ${file}`);
  if (failures.length > 0) {
    console.log(`failures: ${failures.length} (see above)`);
    process.exit(1);
  }
}

await main();
