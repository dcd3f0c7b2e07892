// member list|add|remove|update and cluster-health (etcdctl/ctlv2/command/member_commands.go,
// cluster_health.go).
import type { EtcdClient, EtcdMember } from "../../client/index.ts";
import { EtcdConnectionError } from "../../client/index.ts";
import { ExitCode, clusterErrorDetail, goErrorText, type Ctx } from "../context.ts";
import { Exit } from "../io.ts";

function die(c: Ctx, msg: string): never {
  c.err(msg);
  throw new Exit(1);
}

/** types.NewURLs' checks (what the Go client does before sending peer URLs). */
export function checkURLs(urls: string[]): string | null {
  if (urls.length === 0) return "no valid URLs given";
  for (const raw of urls) {
    const s = raw.trim();
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
    const scheme = m ? m[1]! : "";
    if (!["http", "https", "unix", "unixs"].includes(scheme)) return `URL scheme must be http, https, unix, or unixs: ${s}`;
    let host = "";
    let path = "";
    const rest = s.slice(scheme.length + 1);
    if (rest.startsWith("//")) {
      const after = rest.slice(2);
      const cut = after.search(/[/?#]/);
      host = cut < 0 ? after : after.slice(0, cut);
      path = cut < 0 ? "" : after.slice(cut).replace(/[?#].*$/, "");
      host = host.replace(/^.*@/, "");
    }
    if (!/^(\[[^\]]*\]|[^:[\]]*):[^:]*$/.test(host)) return `URL address does not have the form "host:port": ${s}`;
    if (path !== "") return `URL must not contain a path: ${s}`;
  }
  return null;
}

async function listOrDie(c: Ctx, client: EtcdClient, prefix = ""): Promise<EtcdMember[]> {
  try {
    return await client.members(timeoutSig(c));
  } catch (e) {
    die(c, `${prefix}${goErrorText(e)}\n`);
  }
}

function timeoutSig(c: Ctx): { signal?: AbortSignal } {
  const s = c.totalTimeout();
  return s ? { signal: s } : {};
}

export async function memberList(c: Ctx): Promise<void> {
  if (c.args.length !== 0) die(c, "No arguments accepted\n");
  const client = await c.client();
  const members = await listOrDie(c, client);
  let leader: EtcdMember;
  try {
    leader = await client.leader(timeoutSig(c));
  } catch (e) {
    die(c, `Failed to get leader:  ${goErrorText(e)}\n`);
  }
  let s = "";
  for (const m of members) {
    if (!m.name) s += `${m.id}[unstarted]: peerURLs=${m.peerURLs.join(",")}\n`;
    else s += `${m.id}: name=${m.name} peerURLs=${m.peerURLs.join(",")} clientURLs=${(m.clientURLs ?? []).join(",")} isLeader=${m.id === leader.id}\n`;
  }
  c.out(s);
}

export async function memberAdd(c: Ctx): Promise<void> {
  if (c.args.length !== 2) die(c, "Provide a name and a single member peerURL\n");
  const client = await c.client();
  const [newName, url] = [c.args[0]!, c.args[1]!];
  const bad = checkURLs([url]);
  if (bad) die(c, bad + "\n");
  let m: EtcdMember;
  try {
    m = await client.addMember([url.trim()]);
  } catch (e) {
    die(c, goErrorText(e) + "\n");
  }
  c.out(`Added member named ${newName} with ID ${m.id} to cluster\n`);
  const members = await listOrDie(c, client);
  const conf: string[] = [];
  for (const mm of members) for (const u of mm.peerURLs) conf.push(`${mm.id === m.id ? newName : mm.name}=${u}`);
  c.out(`\nETCD_NAME=${goQ(newName)}\nETCD_INITIAL_CLUSTER=${goQ(conf.join(","))}\nETCD_INITIAL_CLUSTER_STATE="existing"\n`);
}

function goQ(s: string): string {
  return JSON.stringify(s);
}

export async function memberRemove(c: Ctx): Promise<void> {
  if (c.args.length !== 1) die(c, "Provide a single member ID\n");
  const id = c.args[0]!;
  const client = await c.client();
  const members = await listOrDie(c, client, "Error while verifying ID against known members: ");
  let found = false;
  for (const m of members) {
    if (m.id === id) found = true;
    if (m.name === id) {
      c.err(`Found a member named ${m.name}; if this is correct, please use its ID, eg:\n\tetcdctl member remove ${m.id}\n`);
      c.err("For more details, read the documentation at https://github.com/etcd-io/etcd/blob/master/Documentation/runtime-configuration.md#remove-a-member\n\n");
    }
  }
  if (!found) die(c, `Couldn't find a member in the cluster with an ID of ${id}.\n`);
  try {
    await client.removeMember(id);
  } catch (e) {
    die(c, `Received an error trying to remove member ${id}: ${goErrorText(e)}`);
  }
  c.out(`Removed member ${id} from cluster\n`);
}

export async function memberUpdate(c: Ctx): Promise<void> {
  if (c.args.length !== 2) die(c, "Provide an ID and a list of comma separated peerURL (0xabcd http://example.com,http://example1.com)\n");
  const client = await c.client();
  const [id, urls] = [c.args[0]!, c.args[1]!];
  const list = urls.split(",");
  const bad = checkURLs(list);
  if (bad) die(c, bad + "\n");
  try {
    await client.updateMember(id, list.map((u) => u.trim()));
  } catch (e) {
    // The client refuses an ID that is not hex before sending; the server would not find it.
    if (e instanceof TypeError) die(c, "Membership: ID not found\n");
    die(c, goErrorText(e) + "\n");
  }
  c.out(`Updated member with ID ${id} in cluster\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function clusterHealth(c: Ctx): Promise<void> {
  const forever = c.bool("forever");
  const client = c.clientNoSync();
  let ms: EtcdMember[];
  try {
    ms = await client.members();
  } catch (e) {
    c.out("cluster may be unhealthy: failed to list members\n");
    c.fail(ExitCode.ServerError, e);
  }
  const unhook = forever ? c.io.onSignal(() => void c.io.exit(0)) : () => {};
  try {
    for (;;) {
      let healthy = 0;
      for (const m of ms) {
        const urls = m.clientURLs ?? [];
        if (urls.length === 0) {
          c.out(`member ${m.id} is unreachable: no available published client urls\n`);
          continue;
        }
        let checked = false;
        for (const url of urls) {
          let h: { health: string };
          try {
            h = await client.health(url);
          } catch (e) {
            const detail = e instanceof EtcdConnectionError ? clusterErrorDetail(e).replace(/^error #0: /, "").trimEnd() : goErrorText(e);
            c.out(`failed to check the health of member ${m.id} on ${url}: Get "${url}/health": ${detail}\n`);
            continue;
          }
          checked = true;
          if (h.health === "true") {
            healthy++;
            c.out(`member ${m.id} is healthy: got healthy result from ${url}\n`);
          } else {
            c.out(`member ${m.id} is unhealthy: got unhealthy result from ${url}\n`);
          }
          break;
        }
        if (!checked) c.out(`member ${m.id} is unreachable: [${urls.join(" ")}] are all unreachable\n`);
      }
      if (healthy === ms.length) c.out("cluster is healthy\n");
      else if (healthy === 0) c.out("cluster is unavailable\n");
      else c.out("cluster is degraded\n");
      if (!forever) throw new Exit(healthy === ms.length ? ExitCode.Success : ExitCode.ClusterNotHealthy);
      c.out("\nnext check after 10 second...\n\n");
      await sleep(10_000);
    }
  } finally {
    unhook();
  }
}
