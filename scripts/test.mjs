#!/usr/bin/env node
// Runs the whole suite (after `npm run build`): unit tests, the Runtime conformance suite on
// Node, Bun and Deno, the HTTP conformance suite against member processes on all three, the
// differential cases against real etcd (skipped when etcd is not installed), and the crash
// tests. Prints one closing line: "N passed, N failed, N skipped".
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bun = join(root, "node_modules/.bin/bun");
const deno = join(root, "node_modules/.bin/deno");

function findTests(dir, pattern) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p, pattern));
    else if (pattern.test(name)) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const steps = [
  ...findTests(join(root, "dist/test/unit"), /\.test\.js$/).map((f) => ({ name: f.slice(root.length), cmd: "node", args: [f] })),
  { name: "runtime conformance (node)", cmd: "node", args: ["dist/test/runtime/node.test.js"] },
  { name: "runtime conformance (bun)", cmd: bun, args: ["test/runtime/bun.test.ts"] },
  { name: "runtime conformance (deno)", cmd: deno, args: ["run", "-A", "test/runtime/deno.deno.ts"] },
  ...findTests(join(root, "dist/test/conformance"), /\.test\.js$/).map((f) => ({ name: f.slice(root.length), cmd: "node", args: [f] })),
  ...findTests(join(root, "dist/test/proxy"), /\.test\.js$/).map((f) => ({ name: f.slice(root.length), cmd: "node", args: [f] })),
  // The fetch-only client: its unit tests on all three runtimes (Bun and Deno run the sources;
  // `bun <file>` runs it as a script, `bun test` would be Bun's own runner), then against a cluster.
  ...["client", "recipes"].flatMap((t) => [
    { name: `client ${t} (node)`, cmd: "node", args: [`dist/test/client/${t}.test.js`] },
    { name: `client ${t} (bun)`, cmd: bun, args: [`test/client/${t}.test.ts`] },
    { name: `client ${t} (deno)`, cmd: deno, args: ["run", "-A", `test/client/${t}.test.ts`] },
  ]),
  { name: "client cluster (node)", cmd: "node", args: ["dist/test/client/cluster.test.js"] },
  ...findTests(join(root, "dist/test/cli"), /\.test\.js$/).map((f) => ({ name: f.slice(root.length), cmd: "node", args: [f] })),
  ...findTests(join(root, "dist/test/cluster"), /\.test\.js$/).map((f) => ({ name: f.slice(root.length), cmd: "node", args: [f] })),
  ...findTests(join(root, "dist/test/sim"), /\.test\.js$/).map((f) => ({ name: f.slice(root.length), cmd: "node", args: [f] })),
  ...findTests(join(root, "dist/test/fault"), /\.test\.js$/).map((f) => ({ name: f.slice(root.length), cmd: "node", args: [f] })),
].filter((s) => only.length === 0 || only.some((o) => s.name.includes(o)));

function run(step) {
  return new Promise((resolve) => {
    const child = spawn(step.cmd, step.args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, FORCE_COLOR: "0" } });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on("close", (code) => resolve({ code, out }));
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const step of steps) {
  console.log(`\n=== ${step.name}`);
  const { code, out } = await run(step);
  // uvu's summary: "Total: N", "Passed: N", "Skipped: N" (one block per test file).
  const num = (label) => [...out.matchAll(new RegExp(`${label}:\\s+(\\d+)`, "g"))].reduce((a, m) => a + Number(m[1]), 0);
  const total = num("Total");
  const ok = num("Passed");
  passed += ok;
  skipped += num("Skipped");
  const bad = Math.max(total - ok, 0);
  failed += bad;
  if (code !== 0 || bad > 0) {
    failures.push(step.name);
    if (bad === 0) failed += 1; // a step that crashed before reporting counts as one failure
  }
}
console.log("");
if (failures.length) console.log(`failed steps: ${failures.join(", ")}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failures.length ? 1 : 0);
