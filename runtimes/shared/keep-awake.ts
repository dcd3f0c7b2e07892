// Spinning the event loop while a disk sync is in flight — when that makes syncs faster.
//
// On a virtual machine, an I/O completion that has to wake a halted (idle) vCPU can arrive
// late: measured on the 2-vCPU test VM, fdatasync took a median ~2 ms while every CPU
// idled, against ~0.1-0.2 ms while one CPU was busy (Go's scheduler spins for a while
// before parking an idle thread, which keeps etcd's CPUs awake during its WAL syncs).
// Spinning keeps the loop turning with setImmediate (still polling and serving I/O, so
// nothing waits behind it) until the sync settles, for at most SPIN_MS.
//
// But when the CPUs are busy with other work, spinning takes time from the thread that
// completes the sync and from everything else, and syncs get slower (measured too). So the
// choice is made by measurement: the recent sync times with and without spinning are
// compared (medians of the last WINDOW of each), the faster way is used, and the other is
// still tried every EXPLORE_EVERY-th sync so that a change of conditions is noticed.

/** Longest a sync keeps the event loop spinning. */
const SPIN_MS = 2;
/** Samples kept per way (the median of these decides). */
const WINDOW = 16;
/** Every this many syncs, the way that currently loses is tried again. */
const EXPLORE_EVERY = 8;

class Samples {
  private readonly values: number[] = [];
  private next = 0;

  add(ms: number): void {
    if (this.values.length < WINDOW) this.values.push(ms);
    else this.values[this.next] = ms;
    this.next = (this.next + 1) % WINDOW;
  }

  get full(): boolean {
    return this.values.length >= WINDOW / 2;
  }

  median(): number {
    const s = [...this.values].sort((a, b) => a - b);
    return s[s.length >> 1]!;
  }
}

const spinning = new Samples();
const sleeping = new Samples();
let syncs = 0;

function shouldSpin(): boolean {
  syncs++;
  // Until both ways have samples, alternate.
  if (!spinning.full || !sleeping.full) return syncs % 2 === 0;
  const spinWins = spinning.median() <= sleeping.median();
  return syncs % EXPLORE_EVERY === 0 ? !spinWins : spinWins;
}

/** Resolves as p (a sync) does; meanwhile may keep the event loop turning (see above). */
export function keepAwake<T>(p: Promise<T>): Promise<T> {
  const spin = shouldSpin();
  const start = performance.now();
  let pending = true;
  if (spin) {
    const until = start + SPIN_MS;
    const turn = (): void => {
      if (pending && performance.now() < until) setImmediate(turn);
    };
    setImmediate(turn);
  }
  return p.finally(() => {
    pending = false;
    (spin ? spinning : sleeping).add(performance.now() - start);
  });
}
