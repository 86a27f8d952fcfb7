// sample on the GPU vs sampleRef: greedy (ties → lowest id), repetition penalty, temperature, top-k, top-p,
// on small and real vocabularies, many (seed, step) draws. The same uniform U is used by both.
import { describe } from 'vitest';
import { randn } from '../../testing/random.ts';
import { exact, kernelTests } from '../testing.ts';
import type { SamplingParams } from '../types.ts';
import { sampleRef } from './sample.ref.ts';
import { sample } from './sample.ts';

const BASE: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 11 };
const CASES: Array<[string, number, Partial<SamplingParams>]> = [
  ['greedy V=1', 1, {}],
  ['greedy V=1000', 1000, {}],
  ['greedy + penalty', 257, { repetitionPenalty: 1.3 }],
  ['temperature', 1000, { temperature: 0.8 }],
  ['top-k 5', 1000, { temperature: 1, topK: 5 }],
  ['top-p 0.9', 1000, { temperature: 0.7, topP: 0.9 }],
  ['top-k 40 + top-p 0.5 + penalty', 4099, { temperature: 1.2, topK: 40, topP: 0.5, repetitionPenalty: 1.1 }],
  ['real vocab top-p 0.95', 163840, { temperature: 0.6, topP: 0.95 }],
];

describe('sample on the GPU vs sampleRef', () => {
  kernelTests({
    op: 'sample',
    cases: CASES,
    name: ([name, V]) => `${name} (V=${V})`,
    trials: ([, V]) => (V > 10000 ? 3 : 12),
    seed: ([, V], step) => V * 31 + step,
    inputs: ([, V], seed, step) => {
      const logits = randn(V, seed, 3);
      if (V > 2 && step % 3 === 0) logits[V - 1] = logits[1] = Math.max(...logits.slice(0, 64)) + 1; // an exact tie for the max
      const history = Uint32Array.from({ length: 9 }, (_, i) => (i * 37 + step) % V);
      return { logits, history, step };
    },
    run: (g, { logits, history, step }, [, V, over]) =>
      sample(g.rt, g.upload(logits, [1, V]), g.upload(history, [history.length]), { ...BASE, ...over }, step),
    ref: ({ logits, history, step }, [, , over]) =>
      Uint32Array.of(sampleRef(logits, history, { ...BASE, ...over }, step)),
    metric: exact,
  });
});
