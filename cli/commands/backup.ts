// backup: copy a member's data dir (etcd-ts layout: <data-dir>/member/wal/*.wal and
// <data-dir>/member/snap/*.snap) into a backup dir that `etcd-ts --force-new-cluster` can
// start from, as etcdctl's backup does for etcd:
//  - the newest snapshot is copied;
//  - the WAL is read (never modified: this works on the data dir of a running member) from
//    that snapshot on, and written afresh in the backup: a new log whose metadata carries a
//    new cluster ID, the snapshot marker, the entries and the hard state.
// So the backup is a member of a new cluster that holds all the data.
//
// One difference from etcdctl: etcd's backup also gives the member a new ID, because etcd's
// --force-new-cluster adds the starting member to the configuration if it is not in it.
// etcd-ts's --force-new-cluster keeps the member's own ID as the only voter and adds nothing,
// so a member with a new ID would have no voter at all and never elect itself: the backup
// keeps the member ID (and, like etcd, the new cluster ID keeps the old cluster's members
// from ever talking to it).
//
// Files: node:fs/promises (Node, Bun and Deno all provide it), through the FileSystem of
// runtimes/shared/node-fs.ts, and the WAL/snapshot code of core/wal.
import { decode, encode } from "@msgpack/msgpack";
import { createNodeFs } from "../../runtimes/shared/node-fs.ts";
import type { Logger } from "../../core/runtime.ts";
import { replay } from "../../core/wal/reader.ts";
import { Snapshotter } from "../../core/wal/snapshotter.ts";
import { Wal } from "../../core/wal/wal.ts";
import type { Ctx } from "../context.ts";
import { Exit } from "../io.ts";

function randomId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  let hex = "";
  for (const x of b) hex += x.toString(16).padStart(2, "0");
  const id = BigInt("0x" + hex);
  return (id === 0n ? 1n : id).toString(16);
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/\/+/g, "/");
}

/** Go's log.Fatal: a timestamped line on stderr, exit 1. */
function fatal(c: Ctx, msg: string): never {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  c.err(`${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${msg}\n`);
  throw new Exit(1);
}

export async function backup(c: Ctx): Promise<void> {
  const dataDir = c.str("data-dir");
  const backupDir = c.str("backup-dir");
  const srcSnap = join(dataDir, "member", "snap");
  const destSnap = join(backupDir, "member", "snap");
  const srcWAL = c.str("wal-dir") !== "" ? c.str("wal-dir") : join(dataDir, "member", "wal");
  const destWAL = c.str("backup-wal-dir") !== "" ? c.str("backup-wal-dir") : join(backupDir, "member", "wal");
  if (c.bool("with-v3")) fatal(c, "--with-v3: etcd-ts keeps no v3 backend (the v2 store is in the snapshot and the WAL)");

  const fs = createNodeFs();
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
  try {
    await fs.mkdir(destSnap);
  } catch (e) {
    fatal(c, `failed creating backup snapshot dir ${destSnap}: ${(e as Error).message}`);
  }
  let snap;
  try {
    snap = (await fs.exists(srcSnap)) ? await new Snapshotter(fs, srcSnap, log).loadNewest() : null;
  } catch (e) {
    fatal(c, (e as Error).message);
  }
  const ref = snap ? { index: snap.index, term: snap.term } : { index: 0, term: 0 };
  if (snap) await new Snapshotter(fs, destSnap, log).save(snap);

  let r;
  try {
    r = await replay(fs, srcWAL, ref);
  } catch (e) {
    fatal(c, (e as Error).message);
  }
  const meta = decode(r.metadata) as { memberId: string; clusterId: string };
  const newMeta = { ...meta, clusterId: randomId() };
  let wal: Wal;
  try {
    wal = await Wal.create(fs, destWAL, encode(newMeta));
  } catch (e) {
    fatal(c, (e as Error).message);
  }
  try {
    // The marker first, then the entries after it and the hard state (as a live log has them).
    if (ref.index > 0) await wal.saveSnapshot(ref);
    await wal.save(r.hardState, r.entries);
  } finally {
    await wal.close();
  }
  for (const w of warnings) c.err(w + "\n");
}
