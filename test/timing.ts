/**
 * Time measured in the same run, for tests that bound a cost relative to a baseline (never an
 * absolute bound: the machine may be loaded).
 */

/** The median time of `f` in ms, after one warm-up call. */
export function medianMs(f: () => unknown, runs = 5): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    f();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}
