// Snapshot files: `%016x-%016x.snap` named by term and index, one framed record each
// (length, CRC-32C, msgpack [index, term, data]; see framing.ts), written atomically.
import { Decoder, Encoder } from "@msgpack/msgpack";
import type { FileSystem, Logger } from "../runtime.ts";
import { mkdirDurable } from "../fs/dirs.ts";
import { isNotFound } from "../fs/errors.ts";
import { join } from "../fs/path.ts";
import { readRecord, RecordWriter } from "./framing.ts";

export interface Snapshot {
  index: number;
  term: number;
  data: Uint8Array;
}

const SNAP_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const SNAP_RECORD = 1;

const hex16 = (n: number): string => n.toString(16).padStart(16, "0");

export function snapshotName(term: number, index: number): string {
  return `${hex16(term)}-${hex16(index)}.snap`;
}

export class Snapshotter {
  private dirReady = false;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Write s durably: temporary file (synced), rename, directory sync. */
  async save(s: Snapshot): Promise<void> {
    if (!this.dirReady) {
      await mkdirDurable(this.fs, this.dir);
      this.dirReady = true;
    }
    const w = new RecordWriter(s.data.length + 64);
    w.add(SNAP_RECORD, new Encoder().encode([s.index, s.term, s.data]));
    const name = snapshotName(s.term, s.index);
    const tmp = join(this.dir, name + ".tmp");
    await this.fs.writeFile(tmp, w.bytes());
    await this.fs.rename(tmp, join(this.dir, name));
    await this.fs.syncDir(this.dir);
  }

  /**
   * The newest snapshot that reads back intact, or null. A damaged file is renamed to
   * `<name>.broken` (kept for inspection) and the next older one is tried.
   */
  async loadNewest(): Promise<Snapshot | null> {
    for (const name of (await this.names()).reverse()) {
      const path = join(this.dir, name);
      const result = decodeSnapshot(name, await this.fs.readFile(path));
      if (typeof result !== "string") return result;
      this.log.warn(`snapshotter: ${path} is damaged (${result}); renaming it to ${name}.broken`, {
        file: path,
        reason: result,
      });
      await this.fs.rename(path, path + ".broken");
      await this.fs.syncDir(this.dir);
    }
    return null;
  }

  /** Remove all but the newest `keep` snapshot files. */
  async purge(keep: number): Promise<void> {
    const names = await this.names();
    const doomed = names.slice(0, Math.max(0, names.length - Math.max(0, keep)));
    if (doomed.length === 0) return;
    for (const name of doomed) await this.fs.remove(join(this.dir, name));
    await this.fs.syncDir(this.dir);
  }

  /** Snapshot file names, oldest first (term, then index, as the names sort). */
  private async names(): Promise<string[]> {
    try {
      return (await this.fs.list(this.dir)).filter((n) => SNAP_RE.test(n)).sort();
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }
}

/** The snapshot in a file's bytes, or why it cannot be trusted. */
function decodeSnapshot(name: string, bytes: Uint8Array): Snapshot | string {
  const r = readRecord(bytes, 0);
  if (r.kind !== "record") return r.kind === "end" ? "empty file" : r.reason;
  if (r.end !== bytes.length) return "trailing bytes";
  if (r.type !== SNAP_RECORD) return `unknown record type ${r.type}`;
  let v: unknown;
  try {
    v = new Decoder().decode(r.payload);
  } catch (err) {
    return `undecodable: ${(err as Error).message}`;
  }
  if (!Array.isArray(v)) return "not a snapshot record";
  const [index, term, data] = v;
  if (typeof index !== "number" || typeof term !== "number" || !(data instanceof Uint8Array)) {
    return "not a snapshot record";
  }
  if (name !== snapshotName(term, index)) return `holds term ${term} index ${index}, not what its name says`;
  return { index, term, data };
}
