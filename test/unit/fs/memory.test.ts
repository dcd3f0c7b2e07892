import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirDurable } from "../../../core/fs/dirs.ts";
import { errorCode } from "../../../core/fs/errors.ts";
import { MemoryFileSystem } from "../../../core/fs/memory.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = async (fs: MemoryFileSystem, p: string) => dec.decode(await fs.readFile(p));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.is(errorCode(err), code);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

/** A file system with /d created durably. */
async function withDir(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  await mkdirDurable(fs, "/d");
  return fs;
}

test("files and directories", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/a/b/c");
  await fs.mkdir("/a/b"); // exists: fine
  await fs.writeFile("/a/b/f", enc.encode("hello"));
  await fs.writeFile("/a/b/e", enc.encode("x"));
  assert.equal(await fs.list("/a/b"), ["c", "e", "f"]);
  assert.is(await fs.exists("/a/b/f"), true);
  assert.is(await fs.exists("/a/nope"), false);
  assert.is(await fs.size("/a/b/f"), 5);
  assert.is(await text(fs, "/a/b/f"), "hello");
  await fs.writeFile("/a/b/f", enc.encode("hi"));
  assert.is(await text(fs, "/a/b/f"), "hi");
  assert.is(await text(fs, "a/b/f"), "hi", "relative paths are relative to /");
  await fs.remove("/a/b");
  assert.equal(await fs.list("/a"), []);
  await fs.remove("/a/missing"); // no error
});

test("missing paths reject with ENOENT", async () => {
  const fs = new MemoryFileSystem();
  await rejectsWith(fs.readFile("/x"), "ENOENT");
  await rejectsWith(fs.size("/x"), "ENOENT");
  await rejectsWith(fs.list("/x"), "ENOENT");
  await rejectsWith(fs.writeFile("/x/y", enc.encode("a")), "ENOENT");
  await rejectsWith(fs.openAppend("/x/y"), "ENOENT");
  await rejectsWith(fs.rename("/x", "/y"), "ENOENT");
  await rejectsWith(fs.truncate("/x", 0), "ENOENT");
  await rejectsWith(fs.syncDir("/x"), "ENOENT");
});

test("append, truncate and readback", async () => {
  const fs = await withDir();
  const h = await fs.openAppend("/d/log");
  await h.append(enc.encode("abc"));
  await h.append(enc.encode("def"));
  assert.is(await text(fs, "/d/log"), "abcdef");
  await fs.truncate("/d/log", 4);
  assert.is(await text(fs, "/d/log"), "abcd");
  await h.append(enc.encode("X")); // O_APPEND: goes to the new end
  assert.is(await text(fs, "/d/log"), "abcdX");
  await h.close();
  await rejectsWith(h.append(enc.encode("late")), "EBADF");
});

test("crash keeps synced bytes and drops unsynced ones", async () => {
  const fs = await withDir();
  const h = await fs.openAppend("/d/log");
  await fs.syncDir("/d");
  await h.append(enc.encode("abc"));
  await h.sync();
  await h.append(enc.encode("def"));
  const after = fs.crash();
  assert.is(await text(after, "/d/log"), "abc");
  assert.is(await text(fs, "/d/log"), "abcdef", "the original is left as it was");
  // Writing through an old handle does not reach the crashed copy.
  await h.append(enc.encode("ghi"));
  assert.is(await text(after, "/d/log"), "abc");
});

test("crash with tearLastWrite keeps a prefix of the last unsynced append", async () => {
  const fs = await withDir();
  const h = await fs.openAppend("/d/log");
  await fs.syncDir("/d");
  await h.append(enc.encode("abc"));
  await h.sync();
  await h.append(enc.encode("defg"));
  assert.is(await text(fs.crash({ tearLastWrite: true, random: () => 0.5 }), "/d/log"), "abcde");
  assert.is(await text(fs.crash({ tearLastWrite: true, random: () => 0 }), "/d/log"), "abc");
  assert.is(await text(fs.crash({ tearLastWrite: true, random: () => 0.999 }), "/d/log"), "abcdefg");
  await h.sync();
  assert.is(await text(fs.crash({ tearLastWrite: true, random: () => 0 }), "/d/log"), "abcdefg", "synced: nothing to tear");
});

test("truncate and writeFile are durable at once", async () => {
  const fs = await withDir();
  await fs.writeFile("/d/f", enc.encode("12345"));
  await fs.syncDir("/d");
  const h = await fs.openAppend("/d/f");
  await h.append(enc.encode("678"));
  await fs.truncate("/d/f", 6);
  assert.is(await text(fs.crash(), "/d/f"), "123456");
});

test("a new file whose directory was not synced is gone after a crash", async () => {
  const fs = await withDir();
  await fs.writeFile("/d/f", enc.encode("data"));
  assert.is(await fs.crash().exists("/d/f"), false);
  await fs.syncDir("/d");
  assert.is(await text(fs.crash(), "/d/f"), "data");
});

test("removal and rename revert without syncDir", async () => {
  const fs = await withDir();
  await fs.writeFile("/d/old", enc.encode("old"));
  await fs.writeFile("/d/tmp", enc.encode("new"));
  await fs.syncDir("/d");
  await fs.remove("/d/old");
  await fs.rename("/d/tmp", "/d/final");
  let after = fs.crash();
  assert.equal(await after.list("/d"), ["old", "tmp"]);
  assert.is(await text(after, "/d/old"), "old");
  await fs.syncDir("/d");
  after = fs.crash();
  assert.equal(await after.list("/d"), ["final"]);
  assert.is(await text(after, "/d/final"), "new");
});

test("rename replaces the target", async () => {
  const fs = await withDir();
  await fs.writeFile("/d/a", enc.encode("A"));
  await fs.writeFile("/d/b", enc.encode("B"));
  await fs.rename("/d/a", "/d/b");
  assert.equal(await fs.list("/d"), ["b"]);
  assert.is(await text(fs, "/d/b"), "A");
});

test("directories need their parent synced; mkdirDurable does it", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/x/y");
  assert.is(await fs.crash().exists("/x"), false);
  await mkdirDurable(fs, "/p/q/r");
  assert.is(await fs.crash().exists("/p/q/r"), true);
  await mkdirDurable(fs, "/p/s"); // under an existing directory
  await fs.mkdir("/p/t"); // not durable
  const after = fs.crash();
  assert.equal(await after.list("/p"), ["q", "s"]);
});

test("failWith makes writes and syncs reject with the code; reads still work", async () => {
  const fs = await withDir();
  await fs.writeFile("/d/f", enc.encode("keep"));
  const h = await fs.openAppend("/d/log");
  await h.append(enc.encode("a"));
  fs.failWith("ENOSPC");
  await rejectsWith(h.append(enc.encode("b")), "ENOSPC");
  await rejectsWith(h.sync(), "ENOSPC");
  await rejectsWith(fs.writeFile("/d/g", enc.encode("x")), "ENOSPC");
  await rejectsWith(fs.writeFile("/d/f", enc.encode("x")), "ENOSPC");
  await rejectsWith(fs.openAppend("/d/new"), "ENOSPC");
  await rejectsWith(fs.mkdir("/d/sub"), "ENOSPC");
  await rejectsWith(fs.rename("/d/f", "/d/g"), "ENOSPC");
  await rejectsWith(fs.syncDir("/d"), "ENOSPC");
  await rejectsWith(fs.truncate("/d/f", 0), "ENOSPC");
  assert.is(await text(fs, "/d/f"), "keep");
  assert.is(await text(fs, "/d/log"), "a", "a failed append writes nothing");
  fs.failWith("EIO");
  await rejectsWith(h.sync(), "EIO");
  fs.failWith(null);
  await h.append(enc.encode("b"));
  await h.sync();
  assert.is(await text(fs, "/d/log"), "ab");
});

test("counters count appends and syncs", async () => {
  const fs = await withDir();
  const before = { ...fs.counters };
  const h = await fs.openAppend("/d/log");
  await h.append(enc.encode("a"));
  await h.sync();
  await fs.syncDir("/d");
  assert.is(fs.counters.appends - before.appends, 1);
  assert.is(fs.counters.syncs - before.syncs, 1);
  assert.is(fs.counters.dirSyncs - before.dirSyncs, 1);
});

test.run();
