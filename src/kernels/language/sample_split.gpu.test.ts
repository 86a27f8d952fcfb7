// The sampler's two modes on the GPU against sampleRef and against each other: 'split' (many workgroups,
// sample_split.wgsl) and 'single' (the one-workgroup reference mode, sample.wgsl), forced through
// rt.tuning.sampler. Greedy (ties → lowest id, at chunk borders too), temperature, top-k (the radix
// select on counts) and top-p (the radix select on masses, alone, after top-k, so small that only the top
// token stays), with and without a penalty, on vocabularies of 1, a chunk ± 1, primes and the real
// 163,840; many (seed, step) draws, so seeded runs of the two modes pick the same ids.
import { describe } from 'vitest';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { randn } from '../../testing/random.ts';
import { exact, kernelTests } from '../testing.ts';
import type { SamplingParams } from '../types.ts';
import { sampleRef } from './sample.ref.ts';
import { sample } from './sample.ts';
import { SPLIT_CHUNK } from './sample_split.ts';

const BASE: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 5 };
type Mode = 'split' | 'single';
const C = SPLIT_CHUNK;
const CASES: Array<[string, number, Partial<SamplingParams>]> = [
  ['greedy', 1, {}],
  ['greedy', C - 1, {}],
  ['greedy', C + 1, {}],
  ['greedy', 3 * C + 7, {}],
  ['greedy + penalty', 4099, { repetitionPenalty: 1.3 }],
  ['temperature', 1, { temperature: 0.8 }],
  ['temperature', C + 1, { temperature: 0.8 }],
  ['temperature', 4099, { temperature: 1.5 }],
  ['top-k 1 (greedy)', 999, { temperature: 1, topK: 1 }],
  ['top-k 2', 1031, { temperature: 1, topK: 2 }],
  ['top-k 40', 4099, { temperature: 0.7, topK: 40 }],
  ['top-k V-1', 257, { temperature: 1, topK: 256 }],
  ['top-k 50 + penalty', 2 * C + 3, { temperature: 1.1, topK: 50, repetitionPenalty: 1.2 }],
  ['top-p 0.9', 1, { temperature: 1, topP: 0.9 }],
  ['top-p 0.9', 1031, { temperature: 0.7, topP: 0.9 }],
  ['top-p 0.01 (the top token)', C + 1, { temperature: 1, topP: 0.01 }],
  [
    'top-p 0.5 + top-k 40 + penalty',
    2 * C + 3,
    { temperature: 1.2, topK: 40, topP: 0.5, repetitionPenalty: 1.1 },
  ],
  ['real vocab greedy', 163840, {}],
  ['real vocab top-p 0.95', 163840, { temperature: 0.6, topP: 0.95 }],
  ['real vocab temperature 0.6', 163840, { temperature: 0.6 }],
  ['real vocab top-k 40', 163840, { temperature: 0.8, topK: 40 }],
];

function withMode<T>(rt: GpuRuntime, mode: Mode, fn: () => T): T {
  const before = rt.tuning.sampler;
  rt.tuning.sampler = mode;
  try {
    return fn();
  } finally {
    rt.tuning.sampler = before;
  }
}

/** Math.max(...a) overflows the call stack at the real vocabulary's 163,840 values. */
const maxOf = (a: Float32Array) => a.reduce((m, v) => Math.max(m, v), -Infinity);

for (const mode of ['split', 'single'] as const) {
  describe(`sample (${mode} mode) vs sampleRef`, () => {
    kernelTests({
      op: `sample_${mode}`,
      cases: CASES,
      name: ([name, V]) => `${name} (V=${V})`,
      trials: ([, V]) => (V > 10000 ? 3 : 10),
      seed: ([, V], step) => V * 17 + step,
      inputs: ([, V], seed, step) => {
        const logits = randn(V, seed, 3);
        // exact ties for the max, one pair across a chunk border: the lowest id must win
        if (V > C + 1 && step % 2 === 0) logits[C - 1] = logits[C + 1] = maxOf(logits) + 1;
        else if (V > 2 && step % 3 === 0) logits[V - 1] = logits[1] = maxOf(logits.slice(0, 64)) + 1;
        const history = Uint32Array.from({ length: 9 }, (_, i) => (i * 37 + step) % V);
        return { logits, history, step };
      },
      run: (g, { logits, history, step }, [, V, over]) =>
        withMode(g.rt, mode, () =>
          sample(
            g.rt,
            g.upload(logits, [1, V]),
            g.upload(history, [history.length]),
            { ...BASE, ...over },
            step,
          ),
        ),
      ref: ({ logits, history, step }, [, , over]) =>
        Uint32Array.of(sampleRef(logits, history, { ...BASE, ...over }, step)),
      metric: exact,
    });
  });
}
