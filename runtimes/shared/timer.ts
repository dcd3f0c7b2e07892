// setTimer for real runtimes. Node, Bun and Deno all fire a setTimeout whose delay exceeds
// 2^31-1 ms (~24.8 days) at once; a TTL key can live longer than that, so long delays are
// split into a chain of shorter timers.

const MAX_DELAY = 0x7fffffff;

type SetTimeout = (fn: () => void, ms: number) => unknown;
type ClearTimeout = (handle: never) => void;

export function makeSetTimer(
  set: SetTimeout = (fn, ms) => setTimeout(fn, ms),
  clear: ClearTimeout = (h) => clearTimeout(h as Parameters<typeof clearTimeout>[0]),
): (ms: number, fn: () => void) => () => void {
  return (ms, fn) => {
    let handle: unknown;
    let cancelled = false;
    let remaining = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const arm = (): void => {
      const step = Math.min(remaining, MAX_DELAY);
      remaining -= step;
      handle = set(() => {
        if (cancelled) return;
        if (remaining > 0) arm();
        else fn();
      }, step);
    };
    arm();
    return () => {
      if (cancelled) return;
      cancelled = true;
      clear(handle as never);
    };
  };
}
