/**
 * Time measured in the same run, for tests that bound a cost relative to a baseline (never an
 * absolute bound: the machine may be loaded).
 */

/**
 * The median times of `subject` and `baseline` in ms, measured in alternating calls (after one
 * warm-up each), so that a machine that slows down mid-measure slows both alike.
 */
export function medianMsSideBySide(
  subject: () => unknown,
  baseline: () => unknown,
  runs = 7,
): { subject: number; baseline: number } {
  subject();
  baseline();
  const times = { subject: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < runs; i++) {
    for (const [name, f] of i % 2 === 0
      ? ([
          ["subject", subject],
          ["baseline", baseline],
        ] as const)
      : ([
          ["baseline", baseline],
          ["subject", subject],
        ] as const)) {
      const started = performance.now();
      f();
      times[name].push(performance.now() - started);
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { subject: median(times.subject), baseline: median(times.baseline) };
}
