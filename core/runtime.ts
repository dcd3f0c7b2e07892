// The only door from core/ to the outside world. core/ never imports node:*, Bun or Deno;
// each runtime adapter (runtimes/node, runtimes/bun, runtimes/deno, and the simulator)
// implements this interface and hands it to the member.

/** An open file that is written by appending (WAL segments). */
export interface AppendHandle {
  /** Append bytes at the end of the file. Not durable until sync(). */
  append(data: Uint8Array): Promise<void>;
  /** Make every appended byte durable (fdatasync). */
  sync(): Promise<void>;
  /**
   * Optional: append(data) then sync() as one operation (a synchronous-data write), for
   * handles that can do it cheaper. Resolves once data and everything appended before it
   * are durable.
   */
  appendSync?(data: Uint8Array): Promise<void>;
  /**
   * Optional, for handles that reserve space past the end (zeros written ahead, so that a
   * sync need not record a new file size): drop that space, durably. Called before the file
   * stops being the last WAL segment. close() drops it too, without syncing.
   */
  trim?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A small POSIX-like file API. Paths are '/'-separated strings; relative paths are
 * relative to the process working directory. Missing files make read/stat/remove reject
 * with an error whose `code` is "ENOENT".
 */
export interface FileSystem {
  /** Create a directory and its missing parents; no error if it exists. */
  mkdir(path: string): Promise<void>;
  /** Names (not paths) of the entries of a directory, sorted. ENOENT if missing. */
  list(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** Size in bytes of a file. */
  size(path: string): Promise<number>;
  readFile(path: string): Promise<Uint8Array>;
  /** Create or replace a file with these bytes and sync it (not its directory). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Open for appending, creating the file if needed. */
  openAppend(path: string): Promise<AppendHandle>;
  /** Cut a file to `size` bytes and sync it. */
  truncate(path: string, size: number): Promise<void>;
  /** Atomically rename (replace the target if it exists). */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file, or a directory with everything in it. No error if missing. */
  remove(path: string): Promise<void>;
  /** Make entries created, renamed or removed in this directory durable. */
  syncDir(path: string): Promise<void>;
}

export interface ServeOptions {
  /** Host or IP to bind ("localhost", "127.0.0.1", "0.0.0.0", "::"). */
  hostname: string;
  /** TCP port; 0 picks a free one. */
  port: number;
}

export interface Listener {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Stop accepting connections and close open ones. */
  close(): Promise<void>;
}

/** What a handler learns beyond the Request itself. */
export interface RequestInfo {
  /**
   * The request target as the client sent it (path and query), before WHATWG URL parsing
   * resolved "." and ".." segments: etcd redirects such paths instead of serving them.
   */
  rawTarget: string;
}

/**
 * Serves web-standard requests. The handler's Response may have a streaming body; when the
 * client goes away, `request.signal` is aborted and the body stream is cancelled.
 */
export type Handler = (req: Request, info: RequestInfo) => Response | Promise<Response>;

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Runtime {
  readonly name: "node" | "bun" | "deno" | "sim" | "memory";
  /** Wall clock in milliseconds since the Unix epoch (TTL expirations). May have a fraction. */
  now(): number;
  /** Monotonic clock in milliseconds (timeouts, durations). */
  monotonic(): number;
  /** Run fn once after ms; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
  /** Uniform in [0, 1); seeded in simulation. */
  random(): number;
  readonly fs: FileSystem;
  serve(opts: ServeOptions, handler: Handler): Promise<Listener>;
  /** Outgoing HTTP for peers, proxy and discovery. */
  fetch(req: Request): Promise<Response>;
  /** DNS SRV lookup (bootstrap by --discovery-srv). */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  readonly log: Logger;
}
