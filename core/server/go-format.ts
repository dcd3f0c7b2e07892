// Go's text forms of times and durations, as etcd's stats endpoints print them.

/** time.Duration.String() for a duration in milliseconds (nanosecond precision kept). */
export function goDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1e9) {
    // Sub-second durations use the smallest unit that keeps an integer part.
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${trimFraction(ns / 1e3)}µs`;
    else out = `${trimFraction(ns / 1e6)}ms`;
  } else {
    const h = Math.floor(ns / 3.6e12);
    const m = Math.floor((ns % 3.6e12) / 6e10);
    const s = (ns % 6e10) / 1e9;
    out = (h > 0 ? `${h}h` : "") + (h > 0 || m > 0 ? `${m}m` : "") + `${trimFraction(s)}s`;
  }
  return neg ? "-" + out : out;
}

function trimFraction(x: number): string {
  return x.toFixed(9).replace(/\.?0+$/, "");
}

/** time.RFC3339Nano in UTC for a wall-clock time in ms (fraction trimmed). */
export function rfc3339Nano(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2026-11-21T09:02:46.795Z
  const subMsNanos = Math.min(999999, Math.round((ms - whole) * 1e6));
  const digits = (iso.slice(20, 23) + String(subMsNanos).padStart(6, "0")).replace(/0+$/, "");
  return iso.slice(0, 19) + (digits === "" ? "" : "." + digits) + "Z";
}
