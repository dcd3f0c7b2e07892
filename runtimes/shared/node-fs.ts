// FileSystem over node:fs/promises, used by the Node and Bun runtimes. Durability is explicit:
// nothing is reported durable before an fsync/fdatasync of the file (or of the directory, for
// entries). Errors are Node's own, so `code` (ENOENT, ENOSPC, ...) reaches the caller intact.
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { fdatasync, fdatasyncSync, writeSync } from "node:fs";
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

// An append handle on the file's descriptor. append() writes at once with writeSync (a small
// copy into the page cache: cheaper than a thread-pool round trip, and the event loop only
// waits for memory); sync() is one fdatasync on the thread pool (syncNow() the same on the
// calling thread). So a sync() issued right
// after an un-awaited append() covers that append, and appends never interleave. close()
// waits for the syncs in flight.
function openAppendHandle(fh: FileHandle): AppendHandle {
  const fd = fh.fd;
  let syncing: Promise<unknown> = Promise.resolve();
  let closed = false;
  const closedError = (): Error => Object.assign(new Error("file handle closed"), { code: "EBADF" });
  return {
    append(data) {
      if (closed) return Promise.reject(closedError());
      try {
        let off = 0;
        while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off);
      } catch (e) {
        return Promise.reject(e);
      }
      return Promise.resolve();
    },
    sync() {
      if (closed) return Promise.reject(closedError());
      const p = new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
      syncing = p.catch(() => {});
      return p;
    },
    syncNow() {
      if (closed) throw closedError();
      fdatasyncSync(fd);
    },
    async close() {
      if (closed) return;
      closed = true;
      await syncing;
      await fh.close();
    },
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
