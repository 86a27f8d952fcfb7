// rope on the GPU vs ropeRef: awkward shapes, real MLA sizes, a position far into the context (the table
// grows), YaRN-scaled frequencies. Elementwise class: allclose(atol 1e-6, rtol 1e-5) (cos/sin come from
// the same f64 table).
import { describe } from 'vitest';
import { randn } from '../../testing/random.ts';
import { allclose, kernelTests } from '../testing.ts';
import type { RopeOptions } from '../types.ts';
import { ropeRef, ropeYarnFromConfig } from './rope.ref.ts';
import { rope } from './rope.ts';

// [T, heads, stride, offset, ropeDim, pos0]
const CASES: Array<[number, number, number, number, number, number]> = [
  [1, 1, 2, 0, 2, 0],
  [3, 2, 7, 1, 4, 5],
  [5, 3, 24, 8, 16, 0],
  [17, 16, 192, 128, 64, 0], // real q: 16 heads × (128 nope + 64 rope)
  [1, 16, 192, 128, 64, 4093], // decode far into the context (the table grows)
  [17, 1, 64, 0, 64, 3], // real k_pe
];

interface Case {
  name: string;
  T: number;
  o: RopeOptions;
  seed: number;
}

const yarn = ropeYarnFromConfig(
  {
    type: 'yarn',
    factor: 40,
    originalMaxPositionEmbeddings: 4096,
    betaFast: 32,
    betaSlow: 1,
    mscale: 0.8,
    mscaleAllDim: 1,
  },
  64,
  10000,
);

const cases: Case[] = [
  ...CASES.map(([T, heads, stride, offset, ropeDim, pos0]) => ({
    name: `T=${T} heads=${heads} stride=${stride} offset=${offset} rope=${ropeDim} pos0=${pos0}`,
    T,
    o: { heads, headStride: stride, offset, ropeDim, theta: 800000, pos0 },
    seed: T * 7919 + heads * 31 + stride + pos0,
  })),
  {
    name: 'YaRN-scaled frequencies',
    T: 3,
    o: { heads: 2, headStride: 64, offset: 0, ropeDim: 64, theta: 10000, pos0: 100, yarn },
    seed: 5,
  },
];

const width = (o: RopeOptions) => o.heads * o.headStride;

describe('rope on the GPU vs ropeRef', () => {
  kernelTests({
    op: 'rope',
    cases,
    name: (c) => c.name,
    seed: (c) => c.seed,
    inputs: ({ T, o }, seed) => randn(T * width(o), seed),
    run: (g, x, { T, o }) => rope(g.rt, g.upload(x, [T, width(o)]), o),
    ref: (x, { T, o }) => ropeRef(x, T, width(o), o),
    metric: allclose(1e-6, 1e-5),
  });
});
