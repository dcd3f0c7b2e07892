// Shared bits for the WAL tests: a recording logger, entries, and a file system wrapper
// that can hold a sync open so a test can crash in the middle of a save.
import type { AppendHandle, FileSystem, Logger } from "../../../core/runtime.ts";
import type { Entry } from "../../../core/wal/types.ts";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields?: Record<string, unknown>;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(fields ? { level, msg, fields } : { level, msg });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function entry(index: number, term: number, text = `v${index}.${term}`, type: Entry["type"] = "normal"): Entry {
  return { index, term, type, data: enc.encode(text) };
}

export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

/** "index/term/text" of each entry, for readable comparisons. */
export function describe(es: Entry[]): string[] {
  return es.map((e) => `${e.index}/${e.term}/${e.type === "conf" ? "conf:" : ""}${dec.decode(e.data)}`);
}

/**
 * Delegates to fs, but while `hold` is set every sync() waits until release() is called.
 * `syncing` resolves when a sync is first held.
 */
export class HeldSyncFs implements FileSystem {
  hold = false;
  private waiters: (() => void)[] = [];
  private onHeld: (() => void) | null = null;
  syncing: Promise<void>;

  constructor(private readonly fs: FileSystem) {
    this.syncing = new Promise((r) => (this.onHeld = r));
  }

  release(): void {
    this.hold = false;
    for (const w of this.waiters.splice(0)) w();
  }

  private async gate(): Promise<void> {
    if (!this.hold) return;
    this.onHeld?.();
    await new Promise<void>((r) => this.waiters.push(r));
  }

  mkdir(p: string) { return this.fs.mkdir(p); }
  list(p: string) { return this.fs.list(p); }
  exists(p: string) { return this.fs.exists(p); }
  size(p: string) { return this.fs.size(p); }
  readFile(p: string) { return this.fs.readFile(p); }
  writeFile(p: string, d: Uint8Array) { return this.fs.writeFile(p, d); }
  truncate(p: string, n: number) { return this.fs.truncate(p, n); }
  rename(a: string, b: string) { return this.fs.rename(a, b); }
  remove(p: string) { return this.fs.remove(p); }
  syncDir(p: string) { return this.fs.syncDir(p); }

  async openAppend(p: string): Promise<AppendHandle> {
    const h = await this.fs.openAppend(p);
    return {
      append: (d) => h.append(d),
      sync: async () => {
        await this.gate();
        await h.sync();
      },
      close: () => h.close(),
    };
  }
}
