// An in-memory FileSystem that knows what would survive power loss. Used by unit tests
// and by the deterministic simulator.
//
// Model: files and directories are inodes (objects). A file's bytes [0, synced) are
// durable; bytes appended after the last sync are not. A directory has its current entry
// map and a durable copy taken at the last syncDir. crash() builds the post-power-loss
// file system from the durable maps and the durable bytes, so a removed file whose removal
// was never made durable comes back, and a created or renamed one whose directory was
// never synced disappears (or keeps its old name). This applies to directories made by
// mkdir too: sync the parent (see mkdirDurable in dirs.ts).
//
// Paths: '/'-separated; relative paths are relative to "/" (the working directory).
import type { AppendHandle, FileSystem } from "../runtime.ts";
import { fsError } from "./errors.ts";

interface FileNode {
  kind: "file";
  data: Uint8Array; // capacity may exceed length
  length: number;
  synced: number; // bytes [0, synced) are durable
}

interface DirNode {
  kind: "dir";
  entries: Map<string, Node>;
  durable: Map<string, Node>;
}

type Node = FileNode | DirNode;

export type FaultCode = "ENOSPC" | "EIO";

export interface CrashOptions {
  /** Keep a random prefix of the most recent unsynced append instead of losing all of it. */
  tearLastWrite?: boolean;
  /** Source of randomness for tearing; Math.random by default. */
  random?: () => number;
}

/** Counts of operations, for tests that check how often a caller syncs. */
export interface FsCounters {
  appends: number;
  syncs: number;
  dirSyncs: number;
  writeFiles: number;
}

function newDir(): DirNode {
  return { kind: "dir", entries: new Map(), durable: new Map() };
}

function newFile(): FileNode {
  return { kind: "file", data: new Uint8Array(0), length: 0, synced: 0 };
}

function components(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out;
}

export class MemoryFileSystem implements FileSystem {
  private root: DirNode = newDir();
  private fault: FaultCode | null = null;
  /** The most recent append, for tearLastWrite. */
  private lastAppend: { node: FileNode; start: number; end: number } | null = null;
  readonly counters: FsCounters = { appends: 0, syncs: 0, dirSyncs: 0, writeFiles: 0 };

  /**
   * From now on, every operation that writes or syncs (mkdir, writeFile, append, sync,
   * truncate, rename, syncDir, creating a file in openAppend) rejects with an error whose
   * `code` is this; a failed write changes nothing. Reads and remove keep working. null
   * clears the fault.
   */
  failWith(code: FaultCode | null): void {
    this.fault = code;
  }

  /**
   * The file system as it would be found after power loss, as a NEW MemoryFileSystem; this
   * one is left unchanged (handles still open on it keep writing to it, not to the new one),
   * so one state can be crashed several ways. Unsynced appended bytes are lost; directory
   * entry changes not made durable by syncDir are reverted. With tearLastWrite, the file
   * that took the last unsynced append keeps its unsynced bytes before that append and a
   * random prefix (possibly empty or whole) of the append itself.
   */
  crash(opts: CrashOptions = {}): MemoryFileSystem {
    const random = opts.random ?? Math.random;
    let torn: { node: FileNode; keep: number } | null = null;
    const la = this.lastAppend;
    if (opts.tearLastWrite && la && la.node.synced < la.end && la.node.length >= la.end) {
      const extra = Math.min(la.end - la.start, Math.floor(random() * (la.end - la.start + 1)));
      torn = { node: la.node, keep: Math.max(la.node.synced, la.start + extra) };
    }
    const cloneFile = (f: FileNode): FileNode => {
      const keep = torn && torn.node === f ? torn.keep : f.synced;
      const data = f.data.slice(0, keep);
      return { kind: "file", data, length: keep, synced: keep };
    };
    const cloneDir = (d: DirNode): DirNode => {
      const out = newDir();
      for (const [name, child] of d.durable) {
        const copy = child.kind === "file" ? cloneFile(child) : cloneDir(child);
        out.entries.set(name, copy);
        out.durable.set(name, copy);
      }
      return out;
    };
    const fs = new MemoryFileSystem();
    fs.root = cloneDir(this.root);
    return fs;
  }

  // --- lookup helpers ---

  private lookup(path: string): Node | undefined {
    let node: Node = this.root;
    for (const name of components(path)) {
      if (node.kind !== "dir") return undefined;
      const next: Node | undefined = node.entries.get(name);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  private dirOf(path: string, op: string): DirNode {
    const node = this.lookup(path);
    if (!node) throw fsError("ENOENT", op, path);
    if (node.kind !== "dir") throw fsError("ENOTDIR", op, path);
    return node;
  }

  private fileOf(path: string, op: string): FileNode {
    const node = this.lookup(path);
    if (!node) throw fsError("ENOENT", op, path);
    if (node.kind !== "file") throw fsError("EISDIR", op, path);
    return node;
  }

  /** The parent directory and the entry name of path. */
  private parentOf(path: string, op: string): { dir: DirNode; name: string } {
    const parts = components(path);
    const name = parts.pop();
    if (name === undefined) throw fsError("EINVAL", op, path);
    let node: Node = this.root;
    for (const part of parts) {
      const next: Node | undefined = node.kind === "dir" ? node.entries.get(part) : undefined;
      if (!next) throw fsError("ENOENT", op, path);
      node = next;
    }
    if (node.kind !== "dir") throw fsError("ENOTDIR", op, path);
    return { dir: node, name };
  }

  private checkFault(op: string, path: string): void {
    if (this.fault) throw fsError(this.fault, op, path);
  }

  private write(file: FileNode, bytes: Uint8Array): void {
    const need = file.length + bytes.length;
    if (need > file.data.length) {
      const grown = new Uint8Array(Math.max(need, file.data.length * 2, 64));
      grown.set(file.data.subarray(0, file.length));
      file.data = grown;
    }
    file.data.set(bytes, file.length);
    file.length = need;
  }

  // --- FileSystem ---

  async mkdir(path: string): Promise<void> {
    let node: DirNode = this.root;
    for (const name of components(path)) {
      const next = node.entries.get(name);
      if (next === undefined) {
        this.checkFault("mkdir", path);
        const dir = newDir();
        node.entries.set(name, dir);
        node = dir;
      } else if (next.kind === "dir") {
        node = next;
      } else {
        throw fsError("EEXIST", "mkdir", path);
      }
    }
  }

  async list(path: string): Promise<string[]> {
    return [...this.dirOf(path, "scandir").entries.keys()].sort();
  }

  async exists(path: string): Promise<boolean> {
    return this.lookup(path) !== undefined;
  }

  async size(path: string): Promise<number> {
    return this.fileOf(path, "stat").length;
  }

  async readFile(path: string): Promise<Uint8Array> {
    const file = this.fileOf(path, "open");
    return file.data.slice(0, file.length);
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const { dir, name } = this.parentOf(path, "open");
    const existing = dir.entries.get(name);
    if (existing && existing.kind === "dir") throw fsError("EISDIR", "open", path);
    this.checkFault("write", path);
    this.counters.writeFiles++;
    // Like O_TRUNC: an existing file keeps its inode (and its directory entry's durability).
    const file = existing ?? newFile();
    file.data = data.slice();
    file.length = data.length;
    file.synced = data.length;
    if (!existing) dir.entries.set(name, file);
  }

  async openAppend(path: string): Promise<AppendHandle> {
    const { dir, name } = this.parentOf(path, "open");
    let node = dir.entries.get(name);
    if (node && node.kind === "dir") throw fsError("EISDIR", "open", path);
    if (!node) {
      this.checkFault("open", path);
      node = newFile();
      dir.entries.set(name, node);
    }
    return new MemoryAppendHandle(this, node, path);
  }

  async truncate(path: string, size: number): Promise<void> {
    const file = this.fileOf(path, "truncate");
    this.checkFault("truncate", path);
    if (size < file.length) {
      file.data.fill(0, size, file.length);
      file.length = size;
    } else if (size > file.length) {
      this.write(file, new Uint8Array(size - file.length));
    }
    file.synced = file.length;
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.parentOf(from, "rename");
    const node = src.dir.entries.get(src.name);
    if (!node) throw fsError("ENOENT", "rename", from);
    const dst = this.parentOf(to, "rename");
    const target = dst.dir.entries.get(dst.name);
    if (target === node) return;
    if (target && target.kind === "dir" && (node.kind === "file" || target.entries.size > 0)) {
      throw fsError(node.kind === "file" ? "EISDIR" : "ENOTEMPTY", "rename", to);
    }
    if (target && target.kind === "file" && node.kind === "dir") throw fsError("ENOTDIR", "rename", to);
    this.checkFault("rename", from);
    src.dir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, node);
  }

  async remove(path: string): Promise<void> {
    const parts = components(path);
    if (parts.length === 0) throw fsError("EPERM", "rm", path);
    const node = this.lookup(path);
    if (!node) return;
    const { dir, name } = this.parentOf(path, "rm");
    dir.entries.delete(name);
  }

  async syncDir(path: string): Promise<void> {
    const dir = this.dirOf(path, "fsync");
    this.checkFault("fsync", path);
    this.counters.dirSyncs++;
    dir.durable = new Map(dir.entries);
  }

  // --- used by MemoryAppendHandle ---

  /** @internal */
  appendTo(file: FileNode, bytes: Uint8Array, path: string): void {
    this.checkFault("write", path);
    this.counters.appends++;
    const start = file.length;
    this.write(file, bytes);
    this.lastAppend = { node: file, start, end: file.length };
  }

  /** @internal */
  syncFile(file: FileNode, path: string): void {
    this.checkFault("fsync", path);
    this.counters.syncs++;
    file.synced = file.length;
  }
}

class MemoryAppendHandle implements AppendHandle {
  private closed = false;

  constructor(
    private readonly fs: MemoryFileSystem,
    private readonly file: FileNode,
    private readonly path: string,
  ) {}

  async append(data: Uint8Array): Promise<void> {
    if (this.closed) throw fsError("EBADF", "write", this.path);
    this.fs.appendTo(this.file, data, this.path);
  }

  async sync(): Promise<void> {
    if (this.closed) throw fsError("EBADF", "fsync", this.path);
    this.fs.syncFile(this.file, this.path);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
