// A checker for v2 watch streams (spec §9). Pure TypeScript, no I/O.
//
// Input: the committed events (the store's event log: index -> key, action; from the simulator's
// reference store, or from a member's history) and, per watcher, what it asked for and what it
// received. For each watcher it computes what etcd 3.4 delivers and compares:
//
//   * served from history: when start <= registeredAt (the store index at registration, the
//     X-Etcd-Index of the watch response), the first non-refresh committed event in
//     [start, registeredAt] that the history scan matches is delivered, and nothing else, stream
//     or not (spec §9.3, §9.5 quirk). History matching: key == path; recursive and key under
//     path + "/"; or a delete/expire of a directory whose key is a raw string prefix of path
//     (no slash boundary, spec §9.2 case 3 quirk). No hidden-key filtering.
//   * otherwise live: non-refresh events with index > registeredAt and >= start, matched as the
//     watcher hub does (spec §9.4, etcd's watcher_hub.notify / notifyWatchers):
//       - the event is offered on "/" and on every ancestor of its key and the key itself; a
//         watcher there takes it if it is on the key itself, or if it is recursive and the key has
//         no hidden ("_") component below the watched path;
//       - a delete/compareAndDelete/expire is also offered (flagged "deleted") to watchers on every
//         node it removed: the key itself and the descendants that existed (tracked from the
//         committed events and `initialPaths`); those take it whatever their flags;
//       - so a *stream* watcher on the exact key of a removed node gets the event twice (once as
//         a removed node, once on the walk): option duplicateOnRemoval.
//     A non-stream watcher gets only the first such event.
//
// Checked, per watcher: every received event was committed at that index with that key and
// action ("not-committed"); index >= start ("before-start"); indexes increase ("out-of-order"),
// except the allowed second copy ("duplicate" otherwise); every received event is one the watch
// should deliver ("unexpected"); nothing expected is skipped before the last received event
// ("gap"); and, when `upTo` is given, every expected event with index <= upTo arrived ("missing";
// with allowTruncation, a silently dropped watcher — 100-event buffer overflow — may stop early).
//
// Not checked: node values/prevNode in events (compare with the log yourself if needed), the
// 1000-event window and error 401 (leave such watches out), X-Etcd-Index headers.

export type WatchAction = "set" | "create" | "update" | "compareAndSwap" | "delete" | "compareAndDelete" | "expire";

export interface CommittedEvent {
  index: number;
  key: string;
  action: WatchAction;
  /** The node (prevNode for delete/expire) is a directory. */
  dir?: boolean;
  /** A TTL refresh: in the log, never delivered. */
  refresh?: boolean;
}

export interface ReceivedEvent {
  index: number;
  key: string;
  action: string;
}

export interface WatchRecord {
  id?: number | string;
  path: string;
  recursive: boolean;
  stream: boolean;
  /** The first index wanted: waitIndex, or (waitIndex absent/0) registeredAt + 1. */
  start: number;
  /** The store index when the watch was registered (X-Etcd-Index of the response). Default start - 1. */
  registeredAt?: number;
  events: readonly ReceivedEvent[];
  /** Every expected event with index <= upTo must have arrived (default: only gaps before the last received one count). */
  upTo?: number;
}

export interface WatchCheckOptions {
  /**
   * A stream watcher on the exact key of a deleted/compareAndDeleted/expired node: etcd 3.4 sends
   * the event twice. "allow" (default): one or two copies; "expect": exactly two; "forbid": one.
   */
  duplicateOnRemoval?: "allow" | "expect" | "forbid";
  /** Accept a watcher that stops early (dropped silently on buffer overflow). Default false. */
  allowTruncation?: boolean;
  /** Paths existing before the first committed event (directories included, or implied). */
  initialPaths?: Iterable<string>;
}

export type WatchFailureKind = "not-committed" | "before-start" | "out-of-order" | "duplicate" | "unexpected" | "gap" | "missing";

export interface WatchFailure {
  watcher: number | string;
  kind: WatchFailureKind;
  explanation: string;
}

export type WatchCheckResult = { ok: true } | ({ ok: false; all: WatchFailure[] } & WatchFailure);

/** An event a watcher should get: `min`..`max` copies in a row. */
export interface ExpectedDelivery {
  event: CommittedEvent;
  min: number;
  max: number;
}

const REMOVAL = new Set(["delete", "compareAndDelete", "expire"]);

function under(key: string, path: string): boolean {
  return path === "/" ? key !== "/" && key.startsWith("/") : key.startsWith(path + "/");
}

/** A "_" component in key below path (path is key or an ancestor of it). */
function hiddenBelow(path: string, key: string): boolean {
  if (path.length > key.length) return false;
  const rest = key.slice(path.length);
  return rest.startsWith("_") || rest.includes("/_");
}

function historyMatch(w: WatchRecord, e: CommittedEvent): boolean {
  if (e.key === w.path) return true;
  if (w.recursive) {
    const p = w.path.endsWith("/") ? w.path : w.path + "/";
    if (e.key.startsWith(p)) return true;
  }
  return (e.action === "delete" || e.action === "expire") && e.dir === true && w.path.startsWith(e.key);
}

/** Copies a live watcher gets of e (0, 1 or 2). pathExisted: w.path existed just before e. */
function liveCopies(w: WatchRecord, e: CommittedEvent, pathExisted: boolean): number {
  let c = 0;
  if (REMOVAL.has(e.action) && (w.path === e.key || (under(w.path, e.key) && pathExisted))) c++;
  if (w.path === e.key) c++;
  else if (under(e.key, w.path) && w.recursive && !hiddenBelow(w.path, e.key)) c++;
  return c;
}

/** Which watched paths existed before each removal event (only needed for descendants). */
function existenceBeforeRemovals(committed: readonly CommittedEvent[], paths: Set<string>, initial: Iterable<string>): Map<number, Set<string>> {
  const exists = new Set<string>();
  for (const p of initial) for (const w of paths) if (w === p || under(p, w)) exists.add(w);
  const out = new Map<number, Set<string>>();
  for (const e of committed) {
    if (REMOVAL.has(e.action)) {
      const s = new Set<string>();
      for (const w of paths) {
        if (w === e.key || under(w, e.key)) {
          if (exists.has(w)) s.add(w);
          exists.delete(w);
        }
      }
      out.set(e.index, s);
    } else {
      for (const w of paths) if (w === e.key || under(e.key, w)) exists.add(w);
    }
  }
  return out;
}

function sortedLog(committed: readonly CommittedEvent[]): CommittedEvent[] {
  const log = committed.slice().sort((a, b) => a.index - b.index);
  for (let i = 1; i < log.length; i++) {
    if (log[i]!.index === log[i - 1]!.index) throw new Error(`two committed events with index ${log[i]!.index}`);
  }
  return log;
}

function expectedFor(
  w: WatchRecord,
  log: readonly CommittedEvent[],
  existed: Map<number, Set<string>>,
  dup: "allow" | "expect" | "forbid",
): ExpectedDelivery[] {
  const reg = w.registeredAt ?? w.start - 1;
  if (w.start <= reg) {
    for (const e of log) {
      if (e.index < w.start || e.refresh) continue;
      if (e.index > reg) break;
      if (historyMatch(w, e)) return [{ event: e, min: 1, max: 1 }];
    }
  }
  const out: ExpectedDelivery[] = [];
  for (const e of log) {
    if (e.index <= reg || e.index < w.start || e.refresh) continue;
    const c = liveCopies(w, e, existed.get(e.index)?.has(w.path) ?? false);
    if (c === 0) continue;
    if (!w.stream) return [{ event: e, min: 1, max: 1 }];
    if (c === 1) out.push({ event: e, min: 1, max: 1 });
    else out.push({ event: e, min: dup === "expect" ? 2 : 1, max: dup === "forbid" ? 1 : 2 });
  }
  return out;
}

/** What etcd 3.4 delivers to each watcher (the reference the checker compares against). */
export function expectedDeliveries(committed: readonly CommittedEvent[], watchers: readonly WatchRecord[], opts: WatchCheckOptions = {}): ExpectedDelivery[][] {
  const log = sortedLog(committed);
  const existed = existenceBeforeRemovals(log, new Set(watchers.map((w) => w.path)), opts.initialPaths ?? []);
  return watchers.map((w) => expectedFor(w, log, existed, opts.duplicateOnRemoval ?? "allow"));
}

function showEv(e: { index: number; key: string; action: string }): string {
  return `${e.index} ${e.action} ${e.key}`;
}

function describeWatcher(w: WatchRecord, id: number | string): string {
  const flags = [w.recursive ? "recursive" : "", w.stream ? "stream" : "once"].filter((x) => x).join(" ");
  const reg = w.registeredAt !== undefined ? `, registered at ${w.registeredAt}` : "";
  return `watcher ${id} on ${w.path} (${flags}) from index ${w.start}${reg}`;
}

function checkOne(w: WatchRecord, id: number | string, exp: ExpectedDelivery[], byIndex: Map<number, CommittedEvent>, truncOk: boolean): WatchFailure | null {
  const head = describeWatcher(w, id);
  const got = w.events;
  const ctx = (i: number) => {
    const lo = Math.max(0, i - 3);
    const recv = got.slice(lo, i + 2).map(showEv).join(", ");
    const want = exp.map((x) => (x.max > 1 ? `${showEv(x.event)} (x${x.min === x.max ? x.min : `${x.min}-${x.max}`})` : showEv(x.event)));
    const wantTxt = want.length > 12 ? want.slice(0, 12).join(", ") + `, ... (${want.length} in all)` : want.join(", ");
    return `\n  received (around #${i}): ${recv}\n  expected: ${wantTxt || "(nothing)"}`;
  };
  const bad = (kind: WatchFailureKind, i: number, msg: string): WatchFailure => ({ watcher: id, kind, explanation: `${head}: ${msg}${ctx(i)}` });

  for (let i = 0; i < got.length; i++) {
    const r = got[i]!;
    const c = byIndex.get(r.index);
    if (c === undefined) return bad("not-committed", i, `received ${showEv(r)}, but nothing was committed at index ${r.index}`);
    if (c.key !== r.key || c.action !== r.action) return bad("not-committed", i, `received ${showEv(r)}, but index ${r.index} committed ${showEv(c)}`);
    if (r.index < w.start) return bad("before-start", i, `received ${showEv(r)}, before the start index ${w.start}`);
  }
  let p = 0; // next expected entry
  let copies = 0; // copies received of exp[p - 1]
  for (let i = 0; i < got.length; i++) {
    const r = got[i]!;
    if (i > 0 && r.index === got[i - 1]!.index) {
      const cur = exp[p - 1];
      if (cur === undefined || cur.event.index !== r.index || copies >= cur.max)
        return bad("duplicate", i, `received ${showEv(r)} ${copies + 1} times${cur && cur.event.index === r.index ? ` (at most ${cur.max} expected)` : ""}`);
      copies++;
      continue;
    }
    if (i > 0 && r.index < got[i - 1]!.index) return bad("out-of-order", i, `received ${showEv(r)} after ${showEv(got[i - 1]!)}`);
    if (p > 0 && copies < exp[p - 1]!.min) return bad("duplicate", i, `expected ${showEv(exp[p - 1]!.event)} ${exp[p - 1]!.min} times, received it ${copies} time(s)`);
    let j = p;
    while (j < exp.length && exp[j]!.event.index < r.index) j++;
    if (j >= exp.length || exp[j]!.event.index !== r.index) {
      const why = !w.stream && i > 0 ? " (a non-stream watch delivers one event)" : "";
      return bad("unexpected", i, `received ${showEv(r)}, which this watch should not deliver${why}`);
    }
    if (j > p) {
      const missed = exp.slice(p, j).map((x) => showEv(x.event));
      return bad("gap", i, `missed ${missed.length} event(s) before ${showEv(r)}: ${missed.slice(0, 5).join(", ")}${missed.length > 5 ? ", ..." : ""}`);
    }
    p = j + 1;
    copies = 1;
  }
  const last = got.length > 0 ? got[got.length - 1]!.index : undefined;
  // The copies of one event are sent together, so a missing second copy of the last received
  // event counts only when the watcher was known to be attached past it.
  if (p > 0 && copies < exp[p - 1]!.min && w.upTo !== undefined && w.upTo >= exp[p - 1]!.event.index && !truncOk)
    return bad("duplicate", got.length - 1, `expected ${showEv(exp[p - 1]!.event)} ${exp[p - 1]!.min} times, received it ${copies} time(s)`);
  if (w.upTo !== undefined && !truncOk) {
    const missing = exp.slice(p).filter((x) => x.event.index <= w.upTo!);
    if (missing.length > 0) {
      const after = last === undefined ? "nothing was received" : `the last received was index ${last}`;
      return bad("missing", got.length - 1, `${missing.length} expected event(s) up to index ${w.upTo} never arrived (${after}): ${missing.slice(0, 5).map((x) => showEv(x.event)).join(", ")}`);
    }
  }
  return null;
}

/** Checks every watcher's stream against the committed events (see the header). */
export function checkWatches(committed: readonly CommittedEvent[], watchers: readonly WatchRecord[], opts: WatchCheckOptions = {}): WatchCheckResult {
  const log = sortedLog(committed);
  const byIndex = new Map(log.map((e) => [e.index, e]));
  const existed = existenceBeforeRemovals(log, new Set(watchers.map((w) => w.path)), opts.initialPaths ?? []);
  const dup = opts.duplicateOnRemoval ?? "allow";
  const all: WatchFailure[] = [];
  watchers.forEach((w, i) => {
    const f = checkOne(w, w.id ?? i, expectedFor(w, log, existed, dup), byIndex, opts.allowTruncation === true);
    if (f !== null) all.push(f);
  });
  if (all.length === 0) return { ok: true };
  return { ok: false, all, ...all[0]! };
}
