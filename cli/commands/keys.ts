// The keys commands: get, ls, set, mk, mkdir, setdir, update, updatedir, rm, rmdir
// (etcdctl/ctlv2/command/*_command.go of etcd 3.4).
import type { EtcdClient, EtcdNode, EtcdResponse } from "../../client/index.ts";
import { ExitCode, type Ctx } from "../context.ts";
import { printResponseKey } from "../format.ts";
import { Exit } from "../io.ts";

function keyRequired(c: Ctx): string {
  if (c.args.length === 0) c.fail(ExitCode.BadArgs, new Error("key required"));
  return c.args[0]!;
}

/** argOrStdin: the value argument, else all of stdin; "value required" if neither. */
async function valueArg(c: Ctx): Promise<string> {
  if (c.args.length > 1) return c.args[1]!;
  const s = await c.io.readStdin().catch(() => "");
  if (s === "") c.fail(ExitCode.BadArgs, new Error("value required"));
  return s;
}

/** The Go client sends a TTL only when it is positive. */
function ttl(c: Ctx): { ttl?: number } {
  const t = c.int("ttl");
  return t > 0 ? { ttl: t } : {};
}

function sig(c: Ctx): { signal?: AbortSignal } {
  const s = c.totalTimeout();
  return s ? { signal: s } : {};
}

async function call(c: Ctx, f: () => Promise<EtcdResponse>): Promise<EtcdResponse> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof Exit) throw e;
    c.fail(ExitCode.ServerError, e);
  }
}

function print(c: Ctx, r: EtcdResponse): void {
  printResponseKey(c, r, c.output, r.node.key === "/");
}

export async function get(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const r = await call(c, () => client.get(key, { sorted: c.bool("sort"), quorum: c.bool("quorum"), ...sig(c) }));
  if (r.node.dir) {
    c.err(`${r.node.key}: is a directory\n`);
    throw new Exit(1);
  }
  print(c, r);
}

export async function ls(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = c.args.length > 0 ? c.args[0]! : "/";
  const r = await call(c, () => client.get(key, { sorted: c.bool("sort"), recursive: c.bool("recursive"), quorum: c.bool("quorum"), ...sig(c) }));
  if (c.output !== "simple") {
    print(c, r);
    return;
  }
  const p = c.bool("p");
  let s = "";
  const rPrint = (n: EtcdNode): void => {
    s += n.dir && p ? `${n.key}/\n` : `${n.key}\n`;
    for (const k of n.nodes ?? []) rPrint(k);
  };
  if (!r.node.dir) s += `${r.node.key}\n`;
  for (const n of r.node.nodes ?? []) rPrint(n);
  c.out(s);
}

export async function set(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const value = await valueArg(c);
  const prevValue = c.str("swap-with-value");
  const prevIndex = c.int("swap-with-index");
  const r = await call(c, () => client.set(key, value, {
    ...ttl(c), ...(prevValue !== "" ? { prevValue } : {}), ...(prevIndex > 0 ? { prevIndex } : {}), ...sig(c),
  }));
  print(c, r);
}

export async function mk(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const value = await valueArg(c);
  const r = await call(c, () => (c.bool("in-order")
    ? client.createInOrder(key, value, { ...ttl(c), ...sig(c) })
    : client.create(key, value, { ...ttl(c), ...sig(c) })));
  print(c, r);
}

export async function mkdir(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const r = await call(c, () => client.mkdir(key, { ...ttl(c), ...sig(c) }));
  if (c.output !== "simple") print(c, r);
}

export async function setdir(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const r = await call(c, () => client.setdir(key, { ...ttl(c), ...sig(c) }));
  if (c.output !== "simple") print(c, r);
}

export async function update(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const value = await valueArg(c);
  const r = await call(c, () => client.update(key, value, { ...ttl(c), ...sig(c) }));
  print(c, r);
}

export async function updatedir(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const r = await call(c, () => client.updatedir(key, { ...ttl(c), ...sig(c) }));
  if (c.output !== "simple") print(c, r);
}

export async function rm(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const prevValue = c.str("with-value");
  const prevIndex = c.int("with-index");
  const r = await call(c, () => client.delete(key, {
    recursive: c.bool("recursive"), dir: c.bool("dir"),
    ...(prevValue !== "" ? { prevValue } : {}), ...(prevIndex > 0 ? { prevIndex } : {}), ...sig(c),
  }));
  if (!r.node.dir || c.output !== "simple") print(c, r);
}

export async function rmdir(c: Ctx, cl: () => Promise<EtcdClient>): Promise<void> {
  const client = await cl();
  const key = keyRequired(c);
  const r = await call(c, () => client.delete(key, { dir: true, ...sig(c) }));
  if (!r.node.dir || c.output !== "simple") print(c, r);
}
