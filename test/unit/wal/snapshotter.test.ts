import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryFileSystem } from "../../../core/fs/memory.ts";
import { Snapshotter, snapshotName } from "../../../core/wal/snapshotter.ts";
import { recordingLogger } from "./helpers.ts";

const DIR = "/data/member/snap";
const enc = new TextEncoder();
const dec = new TextDecoder();

function snap(term: number, index: number) {
  return { term, index, data: enc.encode(`store at ${index}`) };
}

async function snapFiles(fs: MemoryFileSystem): Promise<string[]> {
  return fs.list(DIR);
}

test("nothing saved: loadNewest is null", async () => {
  const s = new Snapshotter(new MemoryFileSystem(), DIR, recordingLogger());
  assert.is(await s.loadNewest(), null);
  await s.purge(1); // missing directory: nothing to do
});

test("save and load the newest, named term-index", async () => {
  const fs = new MemoryFileSystem();
  const s = new Snapshotter(fs, DIR, recordingLogger());
  await s.save(snap(1, 100));
  await s.save(snap(2, 250));
  await s.save(snap(2, 180));
  assert.equal(await snapFiles(fs), [snapshotName(1, 100), snapshotName(2, 180), snapshotName(2, 250)]);
  assert.is(snapshotName(2, 250), "0000000000000002-00000000000000fa.snap");
  const got = await s.loadNewest();
  assert.is(got?.index, 250);
  assert.is(got?.term, 2);
  assert.is(dec.decode(got!.data), "store at 250");
});

test("a saved snapshot survives a crash; no temporary file is left", async () => {
  const fs = new MemoryFileSystem();
  await new Snapshotter(fs, DIR, recordingLogger()).save(snap(3, 42));
  const after = fs.crash();
  assert.equal(await after.list(DIR), [snapshotName(3, 42)]);
  const got = await new Snapshotter(after, DIR, recordingLogger()).loadNewest();
  assert.is(got?.index, 42);
});

test("a corrupt newest snapshot is renamed .broken and the older one is used", async () => {
  const fs = new MemoryFileSystem();
  const log = recordingLogger();
  const s = new Snapshotter(fs, DIR, log);
  await s.save(snap(1, 10));
  await s.save(snap(1, 20));
  await s.save(snap(1, 30));
  const newest = `${DIR}/${snapshotName(1, 30)}`;
  const bytes = await fs.readFile(newest);
  bytes[bytes.length - 3]! ^= 0x55;
  await fs.writeFile(newest, bytes);
  const middle = `${DIR}/${snapshotName(1, 20)}`;
  await fs.truncate(middle, (await fs.size(middle)) - 1);

  const got = await s.loadNewest();
  assert.is(got?.index, 10);
  assert.equal(await snapFiles(fs), [
    snapshotName(1, 10),
    snapshotName(1, 20) + ".broken",
    snapshotName(1, 30) + ".broken",
  ]);
  assert.is(log.lines.length, 2);
  assert.ok(log.lines.every((l) => l.level === "warn"));
  assert.ok(log.lines[0]!.msg.includes(newest), log.lines[0]!.msg);
});

test("a file whose contents disagree with its name is broken", async () => {
  const fs = new MemoryFileSystem();
  const s = new Snapshotter(fs, DIR, recordingLogger());
  await s.save(snap(1, 10));
  await s.save(snap(1, 11));
  await fs.rename(`${DIR}/${snapshotName(1, 11)}`, `${DIR}/${snapshotName(1, 12)}`);
  assert.is((await s.loadNewest())?.index, 10);
});

test("purge keeps the newest n", async () => {
  const fs = new MemoryFileSystem();
  const s = new Snapshotter(fs, DIR, recordingLogger());
  for (const i of [5, 10, 15, 20, 25]) await s.save(snap(1, i));
  await s.purge(2);
  assert.equal(await snapFiles(fs), [snapshotName(1, 20), snapshotName(1, 25)]);
  assert.equal(await fs.crash().list(DIR), await snapFiles(fs), "removal is durable");
  await s.purge(5);
  assert.is((await snapFiles(fs)).length, 2);
  await s.purge(0);
  assert.equal(await snapFiles(fs), []);
});

test.run();
