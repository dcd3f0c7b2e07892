// What every command needs: the global options, a client for the cluster (synchronised with
// the member list first, as etcdctl does unless --no-sync), the --debug cURL trace, and
// etcdctl's error reporting (texts of the Go client's errors, exit codes).
import { EtcdClient, EtcdConnectionError, EtcdError, EtcdTimeoutError } from "../client/index.ts";
import type { FetchLike } from "../client/index.ts";
import { isConnectRefused } from "../client/transport.ts";
import type { FlagValues } from "./flags.ts";
import { Exit, type Io } from "./io.ts";

/** etcdctl's exit codes (ctlv2/command/error.go). */
export const ExitCode = { Success: 0, BadArgs: 1, BadConnection: 2, BadAuth: 3, ServerError: 4, ClusterNotHealthy: 5 } as const;

export const DEFAULT_ENDPOINTS = "http://127.0.0.1:2379,http://127.0.0.1:4001";

export class Ctx {
  constructor(
    readonly io: Io,
    readonly global: FlagValues,
    /** The command's own flags. */
    readonly flags: FlagValues,
    readonly args: string[],
  ) {}

  str(name: string): string {
    return String(this.flags.get(name) ?? "");
  }
  int(name: string): number {
    return Number(this.flags.get(name) ?? 0);
  }
  bool(name: string): boolean {
    return this.flags.get(name) === true;
  }
  gstr(name: string): string {
    return String(this.global.get(name) ?? "");
  }
  gbool(name: string): boolean {
    return this.global.get(name) === true;
  }
  get output(): string {
    return this.gstr("output");
  }
  get debug(): boolean {
    return this.gbool("debug");
  }

  out(s: string): void {
    this.io.out(s);
  }
  err(s: string): void {
    this.io.err(s);
  }

  /** handleError: "Error:  <err>" (and a cluster error's detail) on stderr, then exit. */
  fail(code: number, err: unknown): never {
    this.err(`Error:  ${goErrorText(err)}\n`);
    // Detail() ends with a newline and Fprintln adds one more.
    if (err instanceof EtcdConnectionError) this.err(clusterErrorDetail(err) + "\n");
    throw new Exit(code);
  }

  /** A signal that aborts after --total-timeout (etcdctl's contextWithTotalTimeout). */
  totalTimeout(): AbortSignal | undefined {
    const ms = Number(this.global.get("total-timeout") ?? 5000);
    return ms > 0 ? AbortSignal.timeout(ms) : undefined;
  }

  /** The endpoints from the flags and environment, in etcdctl's order of precedence. */
  endpoints(): string[] {
    let s = this.gstr("endpoints");
    if (s === "") s = this.io.env("ETCDCTL_ENDPOINTS") ?? "";
    if (s === "") s = this.gstr("endpoint");
    if (s === "") s = this.io.env("ETCDCTL_ENDPOINT") ?? "";
    if (s === "") s = this.gstr("peers");
    if (s === "") s = this.io.env("ETCDCTL_PEERS") ?? "";
    if (s === "") s = DEFAULT_ENDPOINTS;
    return s.split(",").map((e) => {
      // Go's url.Parse refuses "127.0.0.1:2379" (no scheme, a colon in the first segment).
      if (/^[^a-zA-Z]/.test(e) && /^[^/]*:/.test(e)) {
        this.err(`parse ${JSON.stringify(e)}: first path segment in URL cannot contain colon\n`);
        throw new Exit(ExitCode.BadArgs);
      }
      return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(e) ? e : `http://${e}`;
    });
  }

  /** A fetch that prints each request as etcdctl's --debug does ("cURL Command: ..."). */
  private debugFetch(): FetchLike {
    return (input, init) => {
      this.err(`cURL Command: ${curlCommand(input, init)}\n`);
      return globalThis.fetch(input, init);
    };
  }

  newClient(endpoints: string[]): EtcdClient {
    this.checkAuthFlags();
    const ms = Number(this.global.get("timeout") ?? 2000);
    try {
      return new EtcdClient({
        endpoints,
        // --timeout 0 means no per-request timeout in etcdctl.
        timeoutMs: ms > 0 ? ms : 2_147_483_647,
        quorum: false,
        // etcdctl's Go client fails writes over to the next endpoint as well.
        retryUnsafe: true,
        ...(this.debug ? { fetch: this.debugFetch() } : {}),
      });
    } catch (e) {
      this.err(`${(e as Error).message}\n`);
      throw new Exit(ExitCode.BadArgs);
    }
  }

  private checkAuthFlags(): void {
    const u = this.gstr("username") || (this.io.env("ETCDCTL_USERNAME") ?? "");
    if (u !== "") {
      this.err("etcdctl-ts: --username is not supported: the etcd-ts member has no v2 authentication\n");
      throw new Exit(ExitCode.BadAuth);
    }
    for (const f of ["cert-file", "key-file", "ca-file", "discovery-srv"]) {
      if (this.gstr(f) !== "") {
        this.err(`etcdctl-ts: --${f} is not supported (plain http endpoints only)\n`);
        throw new Exit(ExitCode.BadArgs);
      }
    }
  }

  /** mustNewClient: a client on the cluster's published client URLs (unless --no-sync). */
  async client(): Promise<EtcdClient> {
    const eps = this.endpoints();
    let c = this.newClient(eps);
    if (!this.gbool("no-sync")) {
      if (this.debug) this.err(`start to sync cluster using endpoints(${eps.join(",")})\n`);
      let synced = eps;
      try {
        const sig = this.totalTimeout();
        const members = await c.members(sig ? { signal: sig } : {});
        const urls = members.flatMap((m) => m.clientURLs ?? []);
        if (urls.length === 0) {
          this.err("etcd cluster has no published client endpoints.\n");
          this.err(`Try '--no-sync' if you want to access non-published client endpoints(${eps.join(",")}).\n`);
          this.err("Error:  client: no endpoints available\n");
          throw new Exit(ExitCode.ServerError);
        }
        synced = shuffle(urls);
        c = this.newClient(synced);
      } catch (e) {
        if (e instanceof Exit) throw e;
        if (isConnectionError(e)) this.fail(ExitCode.BadConnection, e);
        // Other failures (a member without a leader, ...) leave the endpoints as given.
      }
      if (this.debug) this.err(`got endpoints(${synced.join(",")}) after sync\n`);
      if (this.debug) this.err(`Cluster-Endpoints: ${synced.join(", ")}\n`);
    } else if (this.debug) {
      this.err(`Cluster-Endpoints: ${eps.join(", ")}\n`);
    }
    return c;
  }

  /** mustNewClientNoSync. */
  clientNoSync(): EtcdClient {
    const eps = this.endpoints();
    if (this.debug) this.err(`Cluster-Endpoints: ${eps.join(", ")}\n`);
    return this.newClient(eps);
  }
}

function shuffle<T>(a: T[]): T[] {
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** etcdctl's isConnectionError: every endpoint failed to connect or timed out. */
export function isConnectionError(e: unknown): boolean {
  if (!(e instanceof EtcdConnectionError)) return e instanceof Error && e.name === "TimeoutError";
  return e.errors.every((x) => x instanceof EtcdTimeoutError || isConnectRefused(x) || !(x instanceof EtcdError));
}

const STATUS_TEXT: Record<number, string> = {
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

/** One endpoint's failure in the Go client's words. */
function goEndpointError(endpoint: string, e: Error): string {
  if (e instanceof EtcdTimeoutError) return `client: endpoint ${endpoint} exceeded header timeout`;
  if (e instanceof EtcdError) {
    if (e.status === 500 || e.status === 503) return `client: etcd member ${endpoint} has no leader`;
    return `client: etcd member ${endpoint} returns server error [${STATUS_TEXT[e.status] ?? String(e.status)}]`;
  }
  if (isConnectRefused(e)) {
    let hostport = endpoint;
    try {
      const u = new URL(endpoint);
      hostport = `${u.hostname === "localhost" ? "127.0.0.1" : u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
    } catch { /* keep it */ }
    return `dial tcp ${hostport}: connect: connection refused`;
  }
  const m = e.message;
  return m.startsWith(endpoint + ": ") ? m.slice(endpoint.length + 2) : m;
}

/** The text etcdctl prints for an error (Go's err.Error()). */
export function goErrorText(err: unknown): string {
  if (err instanceof EtcdConnectionError) {
    let s = "client: etcd cluster is unavailable or misconfigured";
    err.errors.forEach((e, i) => (s += `; error #${i}: ${goEndpointError(err.endpoints[i] ?? "", e)}\n`));
    return s;
  }
  if (err instanceof EtcdError) {
    if (err.errorCode > 0) return `${err.errorCode}: ${err.message} (${err.cause}) [${err.index}]`;
    return err.message;
  }
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) return "context deadline exceeded";
  return err instanceof Error ? err.message : String(err);
}

/** ClusterError.Detail(). */
export function clusterErrorDetail(err: EtcdConnectionError): string {
  return err.errors.map((e, i) => `error #${i}: ${goEndpointError(err.endpoints[i] ?? "", e)}\n`).join("");
}

/** Go's %q of a string (strconv.Quote), for the cURL trace. */
function goQuoted(s: string): string {
  return JSON.stringify(s).replace(/\\u001b/g, "\\x1b");
}

/**
 * The cURL line of a request, written the way etcdctl's Go client would send the same request
 * (sorted parameters; a GET of the keys API lists quorum/recursive/sorted, a watch lists
 * recursive), so --debug output lines up with etcdctl's.
 */
export function curlCommand(input: string, init: RequestInit): string {
  const method = init.method ?? "GET";
  const u = new URL(input);
  const q = new URLSearchParams(u.search);
  if (method === "GET" && u.pathname.startsWith("/v2/keys")) {
    if (q.get("wait") === "true") {
      if (!q.has("recursive")) q.set("recursive", "false");
    } else {
      for (const k of ["quorum", "recursive", "sorted"]) if (!q.has(k)) q.set(k, "false");
    }
  }
  q.sort();
  const qs = q.toString();
  let s = `curl -X ${method} ${u.origin}${u.pathname}${qs ? "?" + qs : ""}`;
  if (method === "PUT" || method === "POST") {
    let body = typeof init.body === "string" ? init.body : "";
    if ((init.headers as Record<string, string> | undefined)?.["Content-Type"]?.includes("form")) {
      const b = new URLSearchParams(body);
      b.sort();
      body = b.toString();
    }
    s += ` -d ${goQuoted(body)}`;
  }
  return s;
}
