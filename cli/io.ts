// The CLI's contact with its process: arguments, environment, stdout/stderr, stdin, signals
// and exit, on Node, Bun (the `process` global) and Deno (the `Deno` global). No node:*
// import here, so Deno runs this file as it is.

export interface Io {
  args: string[];
  env(name: string): string | undefined;
  /** All of the environment (for exec-watch's child). */
  environ(): Record<string, string>;
  out(s: string): void;
  err(s: string): void;
  /** Everything on stdin ("" when it is a terminal or empty). */
  readStdin(): Promise<string>;
  /** Call fn on SIGINT/SIGTERM (instead of the default exit). Returns an unhook function. */
  onSignal(fn: (sig: "SIGINT" | "SIGTERM") => void): () => void;
  /** Flush what was written, then end the process. */
  exit(code: number): Promise<never>;
}

/** Thrown by a command to end the run with an exit code (Go's os.Exit). */
export class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

function denoIo(): Io {
  const D = g.Deno;
  const enc = new TextEncoder();
  const writeAll = (f: { writeSync(b: Uint8Array): number }, s: string): void => {
    let b = enc.encode(s);
    while (b.length > 0) b = b.subarray(f.writeSync(b));
  };
  return {
    args: [...D.args],
    env: (n) => D.env.get(n),
    environ: () => D.env.toObject(),
    out: (s) => writeAll(D.stdout, s),
    err: (s) => writeAll(D.stderr, s),
    async readStdin() {
      if (D.stdin.isTerminal()) return "";
      const chunks: Uint8Array[] = [];
      for await (const c of D.stdin.readable) chunks.push(c);
      return new TextDecoder().decode(concat(chunks));
    },
    onSignal(fn) {
      const a = (): void => fn("SIGINT");
      const b = (): void => fn("SIGTERM");
      D.addSignalListener("SIGINT", a);
      D.addSignalListener("SIGTERM", b);
      return () => {
        D.removeSignalListener("SIGINT", a);
        D.removeSignalListener("SIGTERM", b);
      };
    },
    async exit(code) {
      D.exit(code);
      throw new Error("unreachable");
    },
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const n = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function processIo(): Io {
  const p = g.process;
  return {
    args: p.argv.slice(2),
    env: (n) => p.env[n],
    environ: () => ({ ...p.env }),
    out: (s) => void p.stdout.write(s),
    err: (s) => void p.stderr.write(s),
    async readStdin() {
      if (p.stdin.isTTY) return "";
      const chunks: Uint8Array[] = [];
      for await (const c of p.stdin) chunks.push(typeof c === "string" ? new TextEncoder().encode(c) : c);
      return new TextDecoder().decode(concat(chunks));
    },
    onSignal(fn) {
      const a = (): void => fn("SIGINT");
      const b = (): void => fn("SIGTERM");
      p.on("SIGINT", a);
      p.on("SIGTERM", b);
      return () => {
        p.off("SIGINT", a);
        p.off("SIGTERM", b);
      };
    },
    async exit(code) {
      // process.exit() may cut off output still queued for a pipe: wait for both streams.
      const drain = (s: { write(d: string, cb: () => void): boolean }) => new Promise<void>((r) => s.write("", () => r()));
      await Promise.all([drain(p.stdout), drain(p.stderr)]);
      p.exit(code);
      throw new Error("unreachable");
    },
  };
}

export function systemIo(): Io {
  return typeof g.Deno !== "undefined" && typeof g.Bun === "undefined" ? denoIo() : processIo();
}
