// FileSystem over node:fs/promises, used by the Node and Bun runtimes. Durability is explicit:
// nothing is reported durable before an fsync/fdatasync of the file (or of the directory, for
// entries). Errors are Node's own, so `code` (ENOENT, ENOSPC, ...) reaches the caller intact.
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { AppendHandle, FileSystem } from "../../core/runtime.ts";

export function createNodeFs(): FileSystem {
  return {
    async mkdir(path) {
      await mkdir(path, { recursive: true });
    },
    async list(path) {
      return (await readdir(path)).sort();
    },
    async exists(path) {
      try {
        await stat(path);
        return true;
      } catch (e) {
        if (isCode(e, "ENOENT")) return false;
        throw e;
      }
    },
    async size(path) {
      return (await stat(path)).size;
    },
    async readFile(path) {
      const buf = await readFile(path);
      // A plain Uint8Array: Buffer's slice() shares memory where Uint8Array's copies.
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
    async writeFile(path, data) {
      const fh = await open(path, "w");
      try {
        await writeAll(fh, data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async openAppend(path) {
      return openAppendHandle(await open(path, "a"));
    },
    async truncate(path, size) {
      const fh = await open(path, "r+");
      try {
        await fh.truncate(size);
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async rename(from, to) {
      await rename(from, to);
    },
    async remove(path) {
      await rm(path, { recursive: true, force: true });
    },
    async syncDir(path) {
      const fh = await open(path, "r");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
  };
}

// Operations on one handle run in call order, so a sync() issued right after an un-awaited
// append() covers that append, and concurrent appends never interleave partial writes.
function openAppendHandle(fh: FileHandle): AppendHandle {
  let tail: Promise<unknown> = Promise.resolve();
  const queue = <T>(op: () => Promise<T>): Promise<T> => {
    const p = tail.then(op);
    tail = p.catch(() => {});
    return p;
  };
  return {
    append: (data) => queue(() => writeAll(fh, data)),
    sync: () => queue(() => fh.datasync()),
    close: () => queue(() => fh.close()),
  };
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) {
    const { bytesWritten } = await fh.write(data, off, data.byteLength - off);
    off += bytesWritten;
  }
}

function isCode(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === code;
}
