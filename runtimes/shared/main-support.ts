// The body of every runtime's main.ts, free of any runtime API: parse the configuration,
// print help/version/errors, start the member, and stop it on SIGINT/SIGTERM. Each main.ts
// supplies what it needs through MainHost.
import { parseConfig, versionText, type Config, type HostInfo } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import type { Logger, Runtime } from "../../core/runtime.ts";
import { startMember } from "../../core/server/start.ts";

export type StopSignal = "SIGINT" | "SIGTERM";

const SIGNAL_NUMBER: Record<StopSignal, number> = { SIGINT: 2, SIGTERM: 15 };

export interface MainHost {
  /** Arguments after the program (and script) name. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  host: HostInfo;
  /** Synchronous text read, for --config-file. */
  readTextFile(path: string): string;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  /** Wall clock in ms, for log lines before the runtime exists. */
  now(): number;
  createRuntime(log: Logger): Runtime;
  onSignal(signal: StopSignal, handler: () => void): void;
  /** Ends the process now. */
  exit(code: number): void;
}

/**
 * Runs etcd's main. Returns an exit status when the process should end by itself without a
 * member (help, version, bad configuration): the caller sets it as the exit code and lets
 * output drain. Once a member runs, the process ends through host.exit.
 */
export async function runMain(h: MainHost): Promise<number | undefined> {
  const parsed = parseConfig(h.argv, h.env, { readTextFile: (p) => h.readTextFile(p), host: h.host });
  switch (parsed.kind) {
    case "help":
    case "version":
      h.writeStdout(parsed.text.endsWith("\n") ? parsed.text : parsed.text + "\n");
      return 0;
    case "error":
      h.writeStderr(parsed.message.endsWith("\n") ? parsed.message : parsed.message + "\n");
      return parsed.exitCode;
    case "ok":
      break;
  }
  const config = parsed.config;
  const write = logSink(h, config);
  const log = createLogger(write, () => h.now(), { level: config.logLevel, package: "etcdmain" });
  for (const line of versionText(h.host).trimEnd().split("\n")) log.info(line);
  for (const line of parsed.info) log.info(line);
  for (const line of parsed.warnings) log.warn(line);

  const rt = h.createRuntime(createLogger(write, () => h.now(), { level: config.logLevel }));
  let member: { stop(): Promise<void>; readonly done: Promise<void> } | undefined;
  let stopping = false;
  const onSignal = (signal: StopSignal) => (): void => {
    if (stopping || member === undefined) {
      h.exit(128 + SIGNAL_NUMBER[signal]); // second signal, or nothing to stop gracefully yet
      return;
    }
    stopping = true;
    log.info(`received ${signal}, shutting down`);
    member.stop().then(
      () => h.exit(0),
      (err: unknown) => {
        log.error("error while stopping", { error: err });
        h.exit(1);
      },
    );
  };
  h.onSignal("SIGINT", onSignal("SIGINT"));
  h.onSignal("SIGTERM", onSignal("SIGTERM"));

  let running: { stop(): Promise<void>; readonly done: Promise<void> };
  try {
    running = member = await startMember(rt, config);
  } catch (err) {
    log.error(errorText(err));
    h.exit(1);
    return undefined;
  }
  running.done.then(
    () => {
      if (stopping) return; // the signal handler exits once stop() resolves
      log.info("the member has stopped");
      h.exit(0);
    },
    (err: unknown) => {
      log.error(errorText(err));
      h.exit(1);
    },
  );
  return undefined;
}

/** Where log lines go: stdout when --log-outputs says so, otherwise stderr (etcd's default). */
function logSink(h: MainHost, config: Config): (line: string) => void {
  const toStdout = config.logOutputs.length === 1 && config.logOutputs[0] === "stdout";
  return toStdout ? (line) => h.writeStdout(line + "\n") : (line) => h.writeStderr(line + "\n");
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
