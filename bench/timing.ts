// How every figure is timed: warm-up runs, then `reps` samples of `batch` back-to-back runs each, waiting for
// the GPU once per sample (wall time around the device queue draining). The figure is the median sample
// divided by the batch, so per-submission latency is amortised the same way for us and for the peer.
// On a CPU adapter a time budget caps the samples (the table shows how many were taken).

export interface TimingOptions {
  warmup: number;
  reps: number;
  batch: number;
  /** Stop sampling once this much sampling time has passed (slow CPU adapters); at least one sample. */
  budgetMs?: number;
}

export interface Timing {
  /** Median milliseconds per run. */
  ms: number;
  /** Fastest and slowest sample, per run. */
  minMs: number;
  maxMs: number;
  reps: number;
  batch: number;
  method: 'wall' | 'gpu-timestamp';
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timeRuns(
  run: () => unknown,
  sync: () => Promise<void>,
  o: TimingOptions,
): Promise<Timing> {
  for (let i = 0; i < o.warmup; i++) await run();
  await sync();
  const samples: number[] = [];
  const start = performance.now();
  for (let r = 0; r < o.reps; r++) {
    if (r > 0 && o.budgetMs !== undefined && performance.now() - start > o.budgetMs) break;
    const t0 = performance.now();
    for (let b = 0; b < o.batch; b++) await run();
    await sync();
    samples.push((performance.now() - t0) / o.batch);
  }
  return {
    ms: median(samples),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    reps: samples.length,
    batch: o.batch,
    method: 'wall',
  };
}
