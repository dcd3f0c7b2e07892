// Spinning the event loop while a disk sync is in flight.
//
// On a virtual machine, an I/O completion that has to wake a halted (idle) vCPU arrives
// late: measured on the 2-vCPU test VM, fdatasync took a median ~2 ms while every CPU
// idled, against ~0.1-0.2 ms while one CPU was busy. Go's scheduler spins for a while before
// it parks an idle thread, which keeps etcd's CPUs awake during its WAL syncs. This does
// the same for a WAL sync: setImmediate turns keep the loop running (still polling and
// serving I/O: nothing waits behind them) until the sync settles, for at most SPIN_MS.

/** Longest a sync keeps the event loop spinning. */
const SPIN_MS = 2;

/** Resolves as p does; meanwhile keeps the event loop turning for up to SPIN_MS. */
export function keepAwake<T>(p: Promise<T>): Promise<T> {
  let pending = true;
  const until = performance.now() + SPIN_MS;
  const spin = (): void => {
    if (pending && performance.now() < until) setImmediate(spin);
  };
  setImmediate(spin);
  return p.finally(() => {
    pending = false;
  });
}
