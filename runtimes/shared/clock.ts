// Wall clock with a sub-millisecond fraction. performance.timeOrigin + performance.now() has
// the fraction but follows the monotonic clock, which drifts from the wall clock (it stops
// during suspend, ignores clock steps); Date.now() follows the wall clock in whole ms. This
// uses the monotonic reading re-anchored to Date.now() whenever they disagree by a
// millisecond or more, so it is never off by more than Date.now()'s own rounding.
export function makeWallClock(
  wall: () => number = Date.now,
  mono: () => number = () => performance.now(),
): () => number {
  let offset = wall() - mono();
  return () => {
    const m = mono();
    const w = wall();
    let t = m + offset;
    if (t < w || t >= w + 1) {
      offset = w - m;
      t = w;
    }
    return t;
  };
}
