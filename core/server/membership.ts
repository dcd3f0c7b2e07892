// Cluster membership, kept where etcd keeps it in the v2 store: /0/members/<id>/raftAttributes
// ({"peerURLs":[...]}), /0/members/<id>/attributes ({"name","clientURLs"}), and
// /0/removed_members/<id>. Applying these writes through the log keeps every member's view
// (and the store index) identical.
import { EtcdError } from "../errors.ts";
import type { MemberInfo } from "../http/api.ts";
import type { Store } from "../store/store.ts";
import type { NodeView, StoreCommand } from "../store/types.ts";
import { compareIds } from "./ids.ts";
import type { ConfChange } from "./records.ts";

export const MEMBERS_DIR = "/0/members";
export const REMOVED_DIR = "/0/removed_members";
export const VERSION_KEY = "/0/version";

function set(path: string, value: string): StoreCommand {
  return { op: "set", path, value, dir: false, expireAt: null, refresh: false };
}

/**
 * Children of a /0 directory. `counted` reads go through the store's stats like etcd's own
 * reads of membership (it reads the store when validating a membership change).
 */
function children(store: Store, path: string, counted = false): NodeView[] {
  try {
    return (counted ? store.get(path, true, true) : store.peek(path, true, false)).node.nodes ?? [];
  } catch (e) {
    if (e instanceof EtcdError) return [];
    throw e;
  }
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

/** Members as recorded in the store, sorted by numeric ID. */
export function readMembers(store: Store, counted = false): MemberInfo[] {
  const out: MemberInfo[] = [];
  for (const dir of children(store, MEMBERS_DIR, counted)) {
    const m: MemberInfo = { id: lastSegment(dir.key), name: "", peerURLs: [], clientURLs: [] };
    for (const attr of dir.nodes ?? []) {
      const value = JSON.parse(attr.value ?? "{}") as Partial<MemberInfo>;
      if (attr.key.endsWith("/raftAttributes")) m.peerURLs = value.peerURLs ?? [];
      if (attr.key.endsWith("/attributes")) {
        m.name = value.name ?? "";
        m.clientURLs = value.clientURLs ?? [];
      }
    }
    out.push(m);
  }
  return out.sort((a, b) => compareIds(a.id, b.id));
}

export function readRemoved(store: Store, counted = false): Set<string> {
  return new Set(children(store, REMOVED_DIR, counted).map((n) => lastSegment(n.key)));
}

/** The store writes that apply a membership change. */
export function confCommands(c: ConfChange): StoreCommand[] {
  const raft = `${MEMBERS_DIR}/${c.memberId}/raftAttributes`;
  switch (c.op) {
    case "add":
    case "update":
      return [set(raft, JSON.stringify({ peerURLs: c.peerURLs ?? [] }))];
    case "remove":
      return [
        { op: "delete", path: `${MEMBERS_DIR}/${c.memberId}`, dir: true, recursive: true },
        set(`${REMOVED_DIR}/${c.memberId}`, "removed"),
      ];
  }
}

/** The write a member makes on start to publish its name and client URLs. */
export function publishCommand(id: string, name: string, clientURLs: string[]): StoreCommand {
  return set(`${MEMBERS_DIR}/${id}/attributes`, JSON.stringify({ name, clientURLs }));
}

export function versionCommand(version: string): StoreCommand {
  return set(VERSION_KEY, version);
}

export function readClusterVersion(store: Store): string | null {
  try {
    return store.peek(VERSION_KEY, false, false).node.value ?? null;
  } catch (e) {
    if (e instanceof EtcdError) return null;
    throw e;
  }
}
