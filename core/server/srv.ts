// Bootstrap from DNS SRV records (--discovery-srv <domain>, --discovery-srv-name <suffix>),
// as etcd's embed.Config.GetDNSClusterNames and pkg/srv build it:
//   _etcd-server-ssl[-<suffix>]._tcp.<domain>  -> https://<target>:<port>
//   _etcd-server[-<suffix>]._tcp.<domain>      -> http://<target>:<port>
// The entry that is this member (its advertised peer URL) is named --name, the others
// "0", "1", ...; clients and proxies use _etcd-client[-ssl][-<suffix>]._tcp.<domain>.
//
// etcd 3.4 bug, deliberately NOT reproduced: 3.4's GetDNSClusterNames appends the http
// records only when the http lookup *failed* (`if httpCerr != nil`) and returns the ssl
// lookup's error, so a cluster defined by _etcd-server._tcp records alone fails in 3.4.x
// with "error querying DNS SRV records for _etcd-server-ssl ..." (etcd-io/etcd#11321). We do
// what 3.5 does: take the records of both lookups, and fail only when neither gave any,
// with both errors joined by "; " (3.5's multierr).
//
// Matching limitation: etcd resolves both the SRV targets and the advertised peer URLs to
// IP:port and compares those. The Runtime has no A/AAAA lookup, so we compare host:port
// literally (host names case-insensitively, a trailing dot ignored, a missing port taken
// from the scheme) and treat localhost, 127.0.0.1 and ::1 as the same host. A member that
// advertises an IP while its SRV target is a host name (or the reverse) is not recognised.
import { parseInitialCluster } from "../config/initial-cluster.ts";
import { goQuote } from "../config/goparse.ts";
import type { Logger, Runtime, SrvRecord } from "../runtime.ts";

export type SrvRuntime = Pick<Runtime, "resolveSrv">;

export interface SrvClusterOptions {
  /** --discovery-srv */
  domain: string;
  /** --discovery-srv-name ("" for none) */
  srvName: string;
  /** --name */
  name: string;
  /** --initial-advertise-peer-urls */
  advertisePeerURLs: string[];
  /**
   * --initial-cluster-token. Not used by the lookup: as for a static bootstrap, member IDs are
   * derived from the returned cluster with this token (accepted here for the caller's convenience).
   */
  token?: string;
  log?: Logger;
}

export interface SrvEntry {
  name: string;
  url: string;
}

/** etcd's srv.GetSRVService: "<service>[-ssl][-<name>]". */
export function srvService(service: string, srvName: string, scheme: "http" | "https"): string {
  const s = scheme === "https" ? `${service}-ssl` : service;
  return srvName !== "" ? `${s}-${srvName}` : s;
}

/** The DNS name looked up for a service, as Go's net.LookupSRV(service, "tcp", domain) forms it. */
export function srvLookupName(service: string, domain: string): string {
  return `_${service}._tcp.${domain}`;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1"]);

/** host:port in a comparable form. */
function hostKey(host: string, port: string): string {
  let h = host.toLowerCase().replace(/\.$/, "");
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (LOOPBACK.has(h)) h = "localhost";
  return `${h}|${port}`;
}

/** Go's net.JoinHostPort. */
function joinHostPort(host: string, port: string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Scheme, comparable host key and the URL, of an advertised peer URL. */
function parseAdvertised(u: string): { scheme: string; key: string; url: string } {
  const url = new URL(u);
  const scheme = url.protocol.replace(/:$/, "");
  const port = url.port !== "" ? url.port : scheme === "https" ? "443" : "80";
  return { scheme, key: hostKey(url.hostname, port), url: u };
}

/**
 * srv.GetCluster for one service: the records as "name=scheme://host:port" pairs. Returns the
 * error etcd would return ("error querying DNS SRV records for _<service> <err>"), or the pairs.
 */
async function clusterFromService(
  rt: SrvRuntime,
  scheme: "http" | "https",
  service: string,
  opts: { name: string; domain: string; advertised: ReturnType<typeof parseAdvertised>[] },
  nextTempName: () => string,
): Promise<{ ok: true; parts: SrvEntry[] } | { ok: false; error: string }> {
  let records: SrvRecord[];
  try {
    records = await rt.resolveSrv(srvLookupName(service, opts.domain));
  } catch (e) {
    return { ok: false, error: `error querying DNS SRV records for _${service} ${describe(e)}` };
  }
  const parts: SrvEntry[] = [];
  let err = "";
  for (const r of records) {
    const port = String(r.port);
    // SRV targets have a trailing dot; URLs do not.
    const shortHost = r.name.replace(/\.$/, "");
    const urlHost = joinHostPort(shortHost, port);
    const self = opts.advertised.find((a) => a.key === hostKey(shortHost, port));
    if (self && self.scheme !== scheme) {
      err = `bootstrap at ${scheme}://${urlHost} from DNS for ${service} has scheme mismatch with expected peer ${self.url}`;
      continue;
    }
    parts.push({ name: self ? opts.name : nextTempName(), url: `${scheme}://${urlHost}` });
  }
  if (parts.length === 0) {
    // etcd returns the last error, which is nil when there simply were no records.
    if (err !== "") return { ok: false, error: `error querying DNS SRV records for _${service} ${err}` };
  }
  return { ok: true, parts };
}

/**
 * The members named by the _etcd-server[-ssl] records (https ones first), without requiring
 * this member among them (a proxy started with --discovery-srv uses this). Rejects when neither
 * lookup gave a member and one of them failed; resolves empty when both found no records.
 */
export async function srvServerCluster(rt: SrvRuntime, opts: Omit<SrvClusterOptions, "token">): Promise<SrvEntry[]> {
  const advertised = opts.advertisePeerURLs.map(parseAdvertised);
  // One counter for both lookups: 3.5 restarts it per service, which can give an https and
  // an http member the same placeholder name "0" (merged into one member by NewURLsMap).
  let temp = 0;
  const nextTempName = (): string => String(temp++);
  const common = { name: opts.name, domain: opts.domain, advertised };
  const https = await clusterFromService(rt, "https", srvService("etcd-server", opts.srvName, "https"), common, nextTempName);
  const http = await clusterFromService(rt, "http", srvService("etcd-server", opts.srvName, "http"), common, nextTempName);
  const entries = [...(https.ok ? https.parts : []), ...(http.ok ? http.parts : [])];
  const errors = [https, http].filter((r): r is { ok: false; error: string } => !r.ok).map((r) => r.error);
  if (errors.length > 0) opts.log?.warn(`embed: couldn't resolve during SRV discovery (${errors.join("; ")})`);
  // No records and no error leaves an empty cluster, as in etcd (the caller then misses itself).
  if (entries.length === 0 && errors.length > 0) throw new Error(errors.join("; "));
  for (const e of entries) opts.log?.info(`embed: got bootstrap from DNS for etcd-server at ${e.name}=${e.url}`);
  return entries;
}

/**
 * The initial cluster ("name=url,...") of a member bootstrapping by DNS SRV. Rejects with
 * etcd's messages: `cannot find local etcd member "<name>" in SRV records`, a scheme mismatch,
 * or the lookup errors.
 */
export async function srvInitialCluster(rt: SrvRuntime, opts: SrvClusterOptions): Promise<string> {
  const entries = await srvServerCluster(rt, opts);
  const clusterStr = entries.map((e) => `${e.name}=${e.url}`).join(",");
  const parsed = parseInitialCluster(clusterStr);
  if (!parsed.ok) throw new Error(parsed.error);
  if (!parsed.value.some((m) => m.name === opts.name)) {
    throw new Error(`cannot find local etcd member ${goQuote(opts.name)} in SRV records`);
  }
  return clusterStr;
}

/**
 * Client URLs from _etcd-client-ssl[-<suffix>] (https) and _etcd-client[-<suffix>] (http)
 * records, for clients and proxies (etcd's srv.GetClient). Rejects only when both lookups fail:
 * "dns lookup errors: <https error> and <http error>".
 */
export async function srvClientURLs(rt: SrvRuntime, domain: string, srvName: string): Promise<string[]> {
  const urls: string[] = [];
  const errors: string[] = [];
  for (const scheme of ["https", "http"] as const) {
    const name = srvLookupName(srvService("etcd-client", srvName, scheme), domain);
    try {
      for (const r of await rt.resolveSrv(name)) urls.push(`${scheme}://${joinHostPort(r.name.replace(/\.$/, ""), String(r.port))}`);
    } catch (e) {
      errors.push(describe(e));
    }
  }
  if (errors.length === 2) throw new Error(`dns lookup errors: ${errors[0]} and ${errors[1]}`);
  return urls;
}
