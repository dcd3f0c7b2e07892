// Differential test: the same request script against real etcd and one of our members, and
// the answers compared (status, the relevant headers, bodies) after masking what is
// volatile: expiration timestamps, ttl (±1), X-Raft-* (presence only), member and cluster
// IDs, URLs and ports, stats times. Indexes are compared relative to each server's index
// when the script started; /v2/stats/store relative to its values then.
//
//   npx tsc -p tsconfig.json && node dist/test/conformance/differential.test.js
//   DIFF_TARGET=bun|deno|node|etcd   the server compared with etcd (default node; etcd = a
//                                    second etcd, which checks that the masking works)
//   DIFF_SEED=<n>                    seed of the random part (default 20231)
//   DIFF_RANDOM=<n>                  number of random operations (default 300)
import { suite } from "uvu";
import { Watch, encodePairs, rawReq, req, withQuery } from "../support/http.ts";
import type { Res } from "../support/http.ts";
import { etcdInstalled, isTargetName, startMember } from "../support/processes.ts";
import type { Member, TargetName } from "../support/processes.ts";
import { prng, randomStep, scriptedSteps } from "./diff-script.ts";
import { fail } from "./match.ts";
import type { Pairs, ReqStep, Step, WatchStep } from "./diff-script.ts";

const diffTarget = (process.env.DIFF_TARGET ?? "node").trim();
if (!isTargetName(diffTarget)) throw new Error(`DIFF_TARGET=${diffTarget}: expected node, bun, deno or etcd`);
const seed = Number(process.env.DIFF_SEED ?? 20231);
const randomCount = Number(process.env.DIFF_RANDOM ?? 300);
/** DIFF_LOG=1 prints every compared answer (etcd's side, masked). */
const log = process.env.DIFF_LOG === "1";

/** One server under comparison. */
class Server {
  readonly label: string;
  readonly m: Member;
  memberId = "";
  clusterId = "";
  baseIndex = 0;
  lastIndex = 0;
  statsBase: Record<string, number> = {};

  constructor(label: string, m: Member) {
    this.label = label;
    this.m = m;
  }

  get base(): string {
    return this.m.clientURL;
  }

  async init(): Promise<void> {
    const r = await req(this.base, "GET", "/v2/keys/");
    this.clusterId = r.header("x-etcd-cluster-id") ?? "";
    this.baseIndex = r.etcdIndex;
    this.lastIndex = this.baseIndex;
    const mr = await req(this.base, "GET", "/v2/members");
    const members = JSON.parse(mr.text).members as Array<{ id: string; name: string }>;
    this.memberId = members.find((x) => x.name === this.m.name)?.id ?? "";
    const sr = await req(this.base, "GET", "/v2/stats/store");
    this.statsBase = JSON.parse(sr.text);
  }

  /** Replace index tokens (see diff-script.ts). */
  resolve(s: string): string {
    return s.replace(/@(pad:)?(last|base)([+-]\d+)?/g, (_m, pad: string | undefined, which: string, off: string | undefined) => {
      const n = (which === "last" ? this.lastIndex : this.baseIndex) + (off ? Number(off) : 0);
      return pad ? String(n).padStart(20, "0") : String(n);
    });
  }

  resolvePairs(p: Pairs | string | undefined): Pairs | string | undefined {
    if (p === undefined) return undefined;
    if (typeof p === "string") return this.resolve(p);
    return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, this.resolve(v)]));
  }

  /** Relative form of an index. */
  rel(n: string): string {
    if (n.length > 15) return n; // e.g. a client-given 18446744073709551615
    const v = Number(n);
    if (v === 0) return "0";
    const d = v - this.baseIndex;
    return d >= 0 ? `@+${d}` : `@${d}`;
  }

  seen(res: { headers: Headers }): void {
    const x = res.headers.get("x-etcd-index");
    if (x !== null && /^\d+$/.test(x) && Number(x) > 0) this.lastIndex = Number(x);
  }
}

/** What is compared for one answer. */
interface Observed {
  status: number | string;
  headers: Record<string, string>;
  body: string;
  ttls: number[];
}

const COMPARED_HEADERS = [
  "content-type", "x-etcd-index", "x-raft-index", "x-raft-term", "x-etcd-cluster-id", "allow", "location",
  "x-content-type-options", "access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers",
];

function maskHeaders(s: Server, h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of COMPARED_HEADERS) {
    const v = h.get(name);
    if (v === null) continue;
    if (name === "x-etcd-index") out[name] = s.rel(v);
    else if (name === "x-raft-index" || name === "x-raft-term") out[name] = /^\d+$/.test(v) ? "<n>" : `<bad ${v}>`;
    else if (name === "x-etcd-cluster-id") out[name] = v === s.clusterId ? "<cluster-id>" : v;
    else out[name] = v;
  }
  return out;
}

function sortNodes(n: any): void {
  if (n && Array.isArray(n.nodes)) {
    n.nodes.sort((a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const c of n.nodes) sortNodes(c);
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Mask the volatile parts of a body. */
function maskBody(s: Server, path: string, query: string, text: string): { body: string; ttls: number[] } {
  let t = text;
  // Unsorted directory listings come in arbitrary order: sort them before comparing.
  if (path.startsWith("/v2/keys") && !/(^|&)sorted=(1|t|T|TRUE|true|True)(&|$)/.test(query) && t.includes('"nodes"')) {
    try {
      const j = JSON.parse(t);
      if (j.node) sortNodes(j.node);
      t = JSON.stringify(j) + (t.endsWith("\n") ? "\n" : "");
    } catch { /* not JSON */ }
  }
  if (path === "/v2/stats/store") {
    try {
      const j = JSON.parse(t) as Record<string, number>;
      for (const k of Object.keys(j)) if (k !== "watchers") j[k] = j[k]! - (s.statsBase[k] ?? 0);
      t = JSON.stringify(j);
    } catch { /* not JSON */ }
  }
  const ttls: number[] = [];
  t = t.split(s.m.clientURL).join("<client-url>").split(s.m.peerURL).join("<peer-url>");
  if (s.memberId) t = t.replace(new RegExp(escapeRe(s.memberId), "g"), "<member-id>");
  t = t.replace(/"expiration":"[^"]*"/g, '"expiration":"<exp>"');
  t = t.replace(/"ttl":(-?\d+)/g, (_m, n: string) => {
    ttls.push(Number(n));
    return '"ttl":<ttl>';
  });
  t = t.replace(/"(modifiedIndex|createdIndex|index)":(\d+)/g, (_m, f: string, n: string) => `"${f}":"${s.rel(n)}"`);
  t = t.replace(/\b(\d{20})\b/g, (_m, n: string) => `<inorder ${s.rel(String(Number(n)))}>`);
  t = t.replace(/\[(\d+) != (\d+)\]/g, (_m, a: string, b: string) => `[${s.rel(a)} != ${s.rel(b)}]`);
  t = t.replace(/cleared \[(\d+)\/(\d+)\]/g, (_m, a: string, b: string) => `cleared [${s.rel(a)}/${s.rel(b)}]`);
  t = t.replace(/"(startTime)":"[^"]*"/g, '"$1":"<time>"').replace(/"uptime":"[^"]*"/g, '"uptime":"<duration>"');
  return { body: t, ttls };
}

function observe(s: Server, res: Res | { status: number; headers: Headers; text: string }, path: string, query: string): Observed {
  const { body, ttls } = maskBody(s, path, query, res.text);
  return { status: res.status, headers: maskHeaders(s, res.headers), body, ttls };
}

function sameObserved(a: Observed, b: Observed): string | null {
  const diffs: string[] = [];
  if (a.status !== b.status) diffs.push(`status ${a.status} vs ${b.status}`);
  const hs = new Set([...Object.keys(a.headers), ...Object.keys(b.headers)]);
  for (const h of hs) if (a.headers[h] !== b.headers[h]) diffs.push(`header ${h}: ${JSON.stringify(a.headers[h])} vs ${JSON.stringify(b.headers[h])}`);
  if (a.body !== b.body) diffs.push(`body:\n      etcd: ${JSON.stringify(a.body).slice(0, 1500)}\n      ${diffTarget === "etcd" ? "etcd2" : diffTarget}: ${JSON.stringify(b.body).slice(0, 1500)}`);
  else if (a.ttls.length !== b.ttls.length || a.ttls.some((x, i) => Math.abs(x - b.ttls[i]!) > 1)) diffs.push(`ttl ${JSON.stringify(a.ttls)} vs ${JSON.stringify(b.ttls)}`);
  return diffs.length ? diffs.join("\n    ") : null;
}

function describeStep(st: Step): string {
  if (st.t === "req") {
    const q = st.query === undefined ? "" : typeof st.query === "string" ? st.query : encodePairs(st.query);
    const f = st.form === undefined ? "" : typeof st.form === "string" ? st.form : encodePairs(st.form);
    return `${st.method} ${withQuery(st.path, q)}${f ? `  form ${f.length > 120 ? f.slice(0, 120) + "…" : f}` : ""}${st.body ? `  body ${st.body.slice(0, 80)}` : ""}`;
  }
  if (st.t === "watch") return `WATCH ${withQuery(st.path, encodePairs(st.query))}`;
  return `BULK ${st.n} writes`;
}

async function execReq(s: Server, st: ReqStep): Promise<{ obs: Observed; json: any }> {
  const path = s.resolve(st.path);
  const query = s.resolvePairs(st.query);
  const qs = query === undefined ? "" : typeof query === "string" ? query : encodePairs(query);
  let res: Res;
  try {
    if (st.raw) {
      res = await rawReq(s.base, st.method, withQuery(path, qs), {
        ...(st.headers ? { headers: st.headers } : {}),
        ...(st.body !== undefined ? { body: st.body } : {}),
      });
    } else {
      const form = s.resolvePairs(st.form);
      res = await req(s.base, st.method, path, {
        query: qs,
        ...(form !== undefined ? { form } : {}),
        ...(st.body !== undefined ? { body: st.body } : {}),
        ...(st.headers ? { headers: st.headers } : {}),
        timeoutMs: st.timeoutMs ?? 15_000,
      });
    }
  } catch (err) {
    return { obs: { status: `error: ${(err as Error).message}`, headers: {}, body: "", ttls: [] }, json: null };
  }
  s.seen(res);
  let json: any = null;
  try { json = JSON.parse(res.text); } catch { /* not JSON */ }
  return { obs: observe(s, res, path.split("?")[0]!, qs), json };
}

class Differ {
  readonly a: Server;
  readonly b: Server;
  readonly mismatches: string[] = [];
  steps = 0;
  compared = 0;
  /** Relative modifiedIndex per key, as etcd reported it (for the random part). */
  readonly known = new Map<string, number>();

  constructor(a: Server, b: Server) {
    this.a = a;
    this.b = b;
  }

  private record(label: string, oa: Observed, ob: Observed): void {
    this.compared++;
    if (log) console.log(`#${this.steps} ${label}\n    ${oa.status} ${JSON.stringify(oa.headers)}\n    ${JSON.stringify(oa.body.slice(0, 400))}`);
    const d = sameObserved(oa, ob);
    if (d !== null) this.mismatches.push(`#${this.steps} ${label}\n    ${d}`);
  }

  private learn(json: any): void {
    const n = json?.node;
    if (!n || typeof n.key !== "string") return;
    if (json.action === "delete" || json.action === "compareAndDelete" || json.action === "expire") {
      for (const k of [...this.known.keys()]) if (k === n.key || k.startsWith(n.key + "/")) this.known.delete(k);
    } else if (typeof n.modifiedIndex === "number" && json.action !== "get") {
      this.known.set(n.key, n.modifiedIndex - this.a.baseIndex);
    }
  }

  async run(st: Step): Promise<void> {
    this.steps++;
    if (st.t === "req") {
      const [ra, rb] = await Promise.all([execReq(this.a, st), execReq(this.b, st)]);
      this.learn(ra.json);
      this.record(describeStep(st), ra.obs, rb.obs);
      return;
    }
    if (st.t === "bulk") {
      for (let i = 0; i < st.n; i++) {
        const w: ReqStep = { t: "req", method: "PUT", path: st.path(i), form: { value: st.value(i) } };
        const [ra, rb] = await Promise.all([execReq(this.a, w), execReq(this.b, w)]);
        this.record(`bulk ${i}: ${describeStep(w)}`, ra.obs, rb.obs);
      }
      return;
    }
    await this.runWatch(st);
  }

  private async runWatch(st: WatchStep): Promise<void> {
    const label = describeStep(st);
    const open = (s: Server): { w: Watch; path: string; qs: string } => {
      const path = s.resolve(st.path);
      const qs = encodePairs(s.resolvePairs(st.query) as Pairs);
      return { w: new Watch(s.base, path, qs), path, qs };
    };
    const wa = open(this.a);
    const wb = open(this.b);
    try {
      const head = async (s: Server, x: { w: Watch; path: string; qs: string }): Promise<Observed> => {
        try {
          const r = await x.w.response(5000);
          s.seen(r);
          return { status: r.status, headers: maskHeaders(s, r.headers), body: "", ttls: [] };
        } catch (err) {
          return { status: `error: ${(err as Error).message.replace(/http:\/\/127\.0\.0\.1:\d+/g, "")}`, headers: {}, body: "", ttls: [] };
        }
      };
      const [ha, hb] = await Promise.all([head(this.a, wa), head(this.b, wb)]);
      this.record(`${label} (headers)`, ha, hb);
      for (const d of st.during) await this.run(d);
      const limit = st.timeoutMs ?? 5000;
      for (let i = 0; i < st.events; i++) {
        let rawA = "";
        const next = async (s: Server, x: { w: Watch; path: string; qs: string }): Promise<Observed> => {
          try {
            const line = await x.w.next(limit);
            if (s === this.a) rawA = line;
            const { body, ttls } = maskBody(s, x.path, x.qs, line);
            return { status: "event", headers: {}, body, ttls };
          } catch (err) {
            const msg = (err as Error).message;
            return { status: /no event within/.test(msg) ? "no event" : /ended/.test(msg) ? "ended" : `error`, headers: {}, body: "", ttls: [] };
          }
        };
        const [ea, eb] = await Promise.all([next(this.a, wa), next(this.b, wb)]);
        if (rawA !== "") {
          try { this.learn(JSON.parse(rawA)); } catch { /* not JSON */ }
        }
        this.record(`${label} (event ${i + 1})`, ea, eb);
      }
      if (st.quietMs) {
        const quiet = async (x: { w: Watch }): Promise<Observed> => {
          try {
            await x.w.expectQuiet(st.quietMs!);
            return { status: "quiet", headers: {}, body: "", ttls: [] };
          } catch (err) {
            return { status: "not quiet", headers: {}, body: (err as Error).message.replace(/http:\/\/127\.0\.0\.1:\d+/g, ""), ttls: [] };
          }
        };
        const [qa, qb] = await Promise.all([quiet(wa), quiet(wb)]);
        this.record(`${label} (quiet)`, qa, qb);
      }
    } finally {
      wa.w.close();
      wb.w.close();
    }
  }
}

const test = suite("differential");

if (!etcdInstalled()) {
  console.log("etcd not installed: the differential cases were skipped");
  test.skip("differential: scripted sequence", async () => {});
  test.skip("differential: random operations", async () => {});
  test.run();
} else {
  let a: Server | null = null;
  let b: Server | null = null;
  let differ: Differ | null = null;
  let startError: Error | null = null;

  test.before(async () => {
    try {
      const [ma, mb] = await Promise.all([startMember("etcd"), startMember(diffTarget as TargetName)]);
      a = new Server("etcd", ma);
      b = new Server(diffTarget, mb);
      await a.init();
      await b.init();
      differ = new Differ(a, b);
    } catch (err) {
      startError = err instanceof Error ? err : new Error(String(err));
      console.error(`differential: could not start the servers:\n${startError.message}`);
      await Promise.all([(a as Server | null)?.m.stop(), (b as Server | null)?.m.stop()]);
      a = b = null;
    }
  });

  test.after(async () => {
    await Promise.all([(a as Server | null)?.m.stop(), (b as Server | null)?.m.stop()]);
  });

  const report = (d: Differ, what: string, from: number): void => {
    const mine = d.mismatches.slice(from);
    if (mine.length > 0) {
      const shown = mine.slice(0, 25).join("\n\n");
      fail(`${what}: ${mine.length} of ${d.compared} compared answers differ between etcd and ${diffTarget}${d.mismatches.length > 25 ? " (first 25 shown)" : ""}:\n\n${shown}\n`);
    }
  };

  test(`differential: scripted sequence (etcd vs ${diffTarget})`, async () => {
    if (startError !== null || differ === null) throw new Error(`servers did not start: ${startError?.message.split("\n")[0]}`);
    const d = differ as Differ;
    for (const st of scriptedSteps()) await d.run(st);
    console.log(`\n  differential: ${d.steps} scripted steps, ${d.compared} answers compared`);
    report(d, "scripted sequence", 0);
  });

  test(`differential: random operations (seed ${seed}, ${randomCount} ops)`, async () => {
    if (startError !== null || differ === null) throw new Error(`servers did not start: ${startError?.message.split("\n")[0]}`);
    const d = differ as Differ;
    const from = d.mismatches.length;
    const before = d.compared;
    const rnd = prng(seed);
    for (let i = 0; i < randomCount; i++) await d.run(randomStep(rnd, d.known));
    // Finish with a full, sorted listing of the random key space and the store counters.
    await d.run({ t: "req", method: "GET", path: "/v2/keys/r", query: { recursive: "true", sorted: "true" } });
    await d.run({ t: "req", method: "GET", path: "/v2/stats/store" });
    console.log(`  differential: ${randomCount} random operations (seed ${seed}), ${d.compared - before} answers compared`);
    report(d, `random operations (seed ${seed}; replay with DIFF_SEED=${seed})`, from);
  });

  test.run();
}
