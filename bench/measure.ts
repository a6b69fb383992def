/** Timing loops shared by the benchmarks, bounded in count and time. */

export interface Timing {
  /** Median milliseconds per call. */
  readonly median: number;
  readonly min: number;
  readonly reps: number;
}

/** Median of fn's times over at least minReps and at most maxReps calls, stopping once maxMs have passed. */
export function measure(fn: () => unknown, { minReps = 5, maxReps = 200, maxMs = 3000, warmup = 2 } = {}): Timing {
  for (let w = 0; w < warmup; w++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < maxReps && (times.length < minReps || performance.now() - start < maxMs)) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  return { median: times[Math.floor(times.length / 2)], min: times[0], reps: times.length };
}
