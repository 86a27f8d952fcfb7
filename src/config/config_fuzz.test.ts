// Config fuzz, Node: 1,200 seeded random and extreme config.json files through openCheckpoint (config
// parse, bounds, tensor-count and shape checks against an in-memory tiny checkpoint). None may crash,
// hang or read past the headers; each ends as a good open, a ConfigError or a CheckpointError.
import { describe, expect, it } from 'vitest';
import { ALLOWED_OUTCOMES, fuzzCase, runFuzzCase, shardBytes } from '../testing/config_fuzz.ts';

const CASES = 1200;
/** One case parses a few KB of JSON and a header: anything near this is a loop over a claimed size. */
const MAX_CASE_MS = 2000;
/** Heap growth over the whole run (the cases keep nothing): far below what a 1e6-entry table costs. */
const MAX_HEAP_GROWTH = 256 * 2 ** 20;

describe('config fuzz (Node)', () => {
  it(`${CASES} seeded configs: only typed errors, bounded time, reads and memory`, async () => {
    const heap0 = process.memoryUsage().heapUsed;
    let peak = 0;
    const outcomes = new Map<string, number>();
    for (let seed = 1; seed <= CASES; seed++) {
      const r = await runFuzzCase(seed);
      const what = `seed ${seed} (${r.edits.join('; ')}): ${r.outcome} ${r.message}`;
      expect(ALLOWED_OUTCOMES, what).toContain(r.outcome);
      expect(r.ms, what).toBeLessThan(MAX_CASE_MS);
      expect(r.bytesRead, what).toBeLessThan(shardBytes());
      if (r.outcome === 'ConfigError') expect(r.message, what).toMatch(/config\.json/);
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      if (seed % 100 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - heap0);
    }
    expect(peak).toBeLessThan(MAX_HEAP_GROWTH);
    // The generator reaches every outcome (a fuzz that only hits one branch proves little).
    for (const o of ALLOWED_OUTCOMES) expect(outcomes.get(o) ?? 0, `${o} never happened`).toBeGreaterThan(5);
  });

  it('is seeded: the same seed gives the same config', () => {
    expect(fuzzCase(42)).toEqual(fuzzCase(42));
    expect(fuzzCase(42)).not.toEqual(fuzzCase(43));
  });
});
