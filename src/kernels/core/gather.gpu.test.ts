// embedding, sliceCols, sliceRows and spliceRows on the GPU vs the references: exact copies.
import { describe, expect } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { exact, kernelTests } from '../testing.ts';
import { embeddingRef, sliceColsRef, spliceRowsRef } from './gather.ref.ts';
import { embedding, sliceCols, sliceRows, spliceRows } from './gather.ts';

const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];
const TABLES: Array<[number, number]> = [
  [5, 1],
  [13, 24],
  [512, 64],
  [1000, 2048],
];

describe('embedding on the GPU vs embeddingRef (every weight form)', () => {
  kernelTests({
    op: 'embedding',
    cases: DTYPES.flatMap((dtype) => TABLES.map(([v, d]) => ({ dtype, v, d }))),
    name: ({ dtype, v, d }) => `embedding ${dtype} V=${v} D=${d}`,
    seed: ({ v, d }) => v + d,
    inputs: ({ dtype, v, d }, seed) => ({
      host: encodeWeight(randn(v * d, seed), [v, d], dtype),
      ids: new Uint32Array([0, v - 1, Math.floor(v / 2), 1 % v, v - 1]),
    }),
    run: (g, { host, ids }) => embedding(g.rt, g.upload(ids, [ids.length]), g.uploadWeight(host)),
    ref: ({ host, ids }, { d }) => embeddingRef(ids, hostWeightToF32(host), d),
    metric: exact,
  });
});

describe('sliceCols / sliceRows / spliceRows on the GPU vs the references', () => {
  kernelTests({
    op: 'gather',
    cases: [{ rows: 7, cols: 37 }],
    name: () => 'sliceCols / sliceRows / spliceRows',
    seed: () => 5,
    inputs: ({ rows, cols }, seed) => ({ x: randn(rows * cols, seed), src: randn(3 * cols, seed + 1) }),
    run: (g, { x, src }, { rows, cols }) => {
      const tx = g.upload(x, [rows, cols]);
      return {
        sliceCols: sliceCols(g.rt, tx, 5, 11),
        sliceRows: sliceRows(g.rt, tx, 6, 1),
        spliceRows: spliceRows(g.rt, tx, [1, 4, 6], g.upload(src, [3, cols])),
      };
    },
    ref: ({ x, src }, { rows, cols }) => ({
      sliceCols: sliceColsRef(x, rows, cols, 5, 11),
      sliceRows: x.subarray(6 * cols, 7 * cols),
      spliceRows: spliceRowsRef(x, cols, [1, 4, 6], src),
    }),
    metric: exact,
    check: (_, g, { x, src }, { rows, cols }) => {
      const row = g.upload(src.subarray(0, cols), [1, cols]);
      expect(() => spliceRows(g.rt, g.upload(x, [rows, cols]), [7], row)).toThrow(/out of range/);
    },
  });
});
