// Runtime for Deno 2: HTTP through Deno.serve, files through Deno's file APIs, SRV through
// Deno.resolveDns. Type-checked by Deno (`deno check`), not by tsc.
import { createLogger } from "../../core/log.ts";
import type { AppendHandle, FileSystem, Handler, Listener, Logger, Runtime, ServeOptions, SrvRecord } from "../../core/runtime.ts";
import { guardHandler } from "../shared/handler.ts";
import { listenError } from "../shared/listen-error.ts";
import { makeWallClock } from "../shared/clock.ts";
import { makeSetTimer } from "../shared/timer.ts";

export interface DenoRuntimeOptions {
  log?: Logger;
}

export function createDenoRuntime(opts: DenoRuntimeOptions = {}): Runtime {
  const now = makeWallClock();
  const log = opts.log ?? createLogger(writeStderr, now);
  return {
    name: "deno",
    now,
    monotonic: () => performance.now(),
    setTimer: makeSetTimer(),
    random: Math.random,
    fs: createDenoFs(),
    serve: (o, handler) => serveDeno(o, handler, log),
    fetch: (req) => globalThis.fetch(req),
    resolveSrv: resolveSrvDeno,
    log,
  };
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  let buf = encoder.encode(line + "\n");
  while (buf.length > 0) buf = buf.subarray(Deno.stderr.writeSync(buf));
}

// ---------------------------------------------------------------- HTTP

/*
 * Deno.serve's shutdown() waits for every in-flight response, and a watch stream never ends.
 * Aborting the server's `signal` instead closes all connections at once and cancels their
 * body streams, which is what close() needs.
 *
 * Requests reach the handler untouched. Their signal aborts when the client goes away, but by
 * default Deno also aborts it after a response was delivered in full ("legacy abort") and
 * prints a one-time warning about it. Run with --unstable-no-legacy-abort, or
 * "unstable": ["no-legacy-abort"] in deno.json, to get only the disconnect aborts.
 */
async function serveDeno(opts: ServeOptions, handler: Handler, log: Logger): Promise<Listener> {
  const guarded = guardHandler(handler, log);
  const stop = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    // Deno.serve binds synchronously: it is listening once it returns, or it throws.
    server = Deno.serve({
      hostname: opts.hostname,
      port: opts.port,
      signal: stop.signal,
      // Giving onListen replaces Deno's "Listening on ..." banner.
      onListen: () => {},
      onError: (e) => {
        log.error("http server error", { error: e });
        return new Response("internal server error\n", { status: 500 });
      },
      // Deno keeps the request target as sent in req.url (no dot-segment resolution).
      handler: (req) => guarded(req, { rawTarget: rawTarget(req.url) }),
    });
  } catch (e) {
    throw listenError(opts, (e as { code?: string }).code, e);
  }
  return {
    port: server.addr.port,
    close() {
      stop.abort(); // idempotent; `finished` settles once every connection is gone
      return server.finished;
    },
  };
}

// ---------------------------------------------------------------- DNS

async function resolveSrvDeno(name: string): Promise<SrvRecord[]> {
  try {
    const records = await Deno.resolveDns(name, "SRV", { signal: AbortSignal.timeout(10_000) });
    return records.map((r) => ({ name: r.target.replace(/\.$/, ""), port: r.port, priority: r.priority, weight: r.weight }));
  } catch (e) {
    // Same shape as node:dns: an Error whose code says what happened.
    const code = e instanceof Deno.errors.NotFound ? "ENOTFOUND" : e instanceof DOMException && e.name === "TimeoutError" ? "ETIMEOUT" : ((e as { code?: string }).code ?? "ESERVFAIL");
    throw Object.assign(new Error(`querySrv ${code} ${name}`, { cause: e }), { code });
  }
}

// ---------------------------------------------------------------- files

// Deno's errors already carry Node's `code` ("ENOENT", "ENOSPC"...); they pass through as is.
function createDenoFs(): FileSystem {
  return {
    async mkdir(path) {
      await Deno.mkdir(path, { recursive: true });
    },
    async list(path) {
      const names: string[] = [];
      for await (const e of Deno.readDir(path)) names.push(e.name);
      return names.sort();
    },
    async exists(path) {
      try {
        await Deno.stat(path);
        return true;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return false;
        throw e;
      }
    },
    async size(path) {
      return (await Deno.stat(path)).size;
    },
    readFile(path) {
      return Deno.readFile(path);
    },
    async writeFile(path, data) {
      using f = await Deno.open(path, { write: true, create: true, truncate: true });
      await writeAll(f, data);
      await f.sync();
    },
    async openAppend(path) {
      return appendHandle(await Deno.open(path, { append: true, create: true }));
    },
    async truncate(path, size) {
      // No `create`: a missing file must fail with ENOENT, not appear empty.
      using f = await Deno.open(path, { write: true });
      await f.truncate(size);
      await f.sync();
    },
    async rename(from, to) {
      await Deno.rename(from, to);
    },
    async remove(path) {
      try {
        await Deno.remove(path, { recursive: true });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    },
    async syncDir(path) {
      // A directory opened read-only can be fsynced (Linux, macOS).
      using f = await Deno.open(path, { read: true });
      await f.sync();
    },
  };
}

// Operations on one handle run in call order, so a sync() right after an un-awaited append()
// covers it and concurrent appends never interleave partial writes.
function appendHandle(f: Deno.FsFile): AppendHandle {
  let tail: Promise<unknown> = Promise.resolve();
  const queue = <T>(op: () => Promise<T>): Promise<T> => {
    const p = tail.then(op);
    tail = p.catch(() => {});
    return p;
  };
  return {
    append: (data) => queue(() => writeAll(f, data)),
    sync: () => queue(() => f.syncData()),
    close: () => queue(async () => f.close()),
  };
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += await f.write(data.subarray(off));
}

/** The path and query of an absolute URL string, without parsing it. */
function rawTarget(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start < 0 ? "/" : url.slice(start);
}
