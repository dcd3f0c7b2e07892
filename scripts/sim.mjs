#!/usr/bin/env node
// Deterministic simulation of whole clusters (test/sim/): builds, then runs the simulator.
//
//   npm run sim -- --seed 7                     replay one seed: config, fault schedule, trace
//                                               around the first violation, figures
//   npm run sim -- --seed 7 --trace             ... printing every trace line as it happens
//   npm run sim -- --seeds 10000 --minutes 30   a campaign on every CPU: simulated time, operations
//                                               checked, faults injected, violations (each with
//                                               its replay command)
//   npm run sim -- --unsafe --figure8 --seed 2  Raft's test-only unsafeCommitOldTerms switch on
//
// Every option is described at the top of test/sim/run.ts. --no-build skips the compile.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const noBuild = args.includes("--no-build");
const rest = args.filter((a) => a !== "--no-build");

if (!noBuild) {
  const tsc = spawnSync(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (tsc.status !== 0) console.error("sim: tsc reported errors (running what was emitted)");
}
const entry = join(root, "dist/test/sim/run.js");
if (!existsSync(entry)) {
  console.error(`sim: ${entry} is missing; build first (npx tsc -p tsconfig.json)`);
  process.exit(2);
}
const child = spawn(process.execPath, [entry, ...rest], { cwd: root, stdio: "inherit" });
child.on("close", (code) => process.exit(code ?? 1));
