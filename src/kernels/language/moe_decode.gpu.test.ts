// moeDecode on the GPU vs moeDecodeRef, every variant forced on this adapter: subgroup reductions on/off ×
// every weight form (f32, f16, bf16, q8, q4) × awkward shapes (one expert of one row; rows that are not a
// multiple of a chunk, so the ELEMWISE gather; partial kvq1 blocks; a shared width that is not a multiple of
// I; a row tile that overhangs I and D) and the real one (64 experts, top-6, 2 shared, D 2048, I 1408),
// in parts (routed by expert ranges that do not divide E, shared by rows straddling row tiles) and with
// routed and shared experts in different storage forms. Guard words after the output (the harness).
// Tolerance: the quantised-matmul class, NMSE ≤ 1e-6 against the reference on the same (dequantised)
// weights, on the output and on the MoE term alone (output − residual), so the residual cannot hide it.
import { describe, expect } from 'vitest';
import type { PartedTensor } from '../../gpu/parted_tensor.ts';
import { testRuntime } from '../../gpu/testing.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { uploadWeightRows } from '../parts_upload.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { type CaseGpu, kernelTests, nmse, nmseBelow } from '../testing.ts';
import { moeDecodeRef } from './moe_decode.ref.ts';
import { expertsF32, type MoeDecodeCase, moeDecodeInputs } from './moe_decode.test_util.ts';
import { moeDecode } from './moe_decode.ts';

const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];
// [A, D, I, E, IS]
const AWKWARD: Array<[number, number, number, number, number]> = [
  [1, 1, 1, 1, 1],
  [2, 5, 7, 4, 14],
  [3, 33, 17, 8, 34],
  [6, 96, 24, 9, 48], // rows a multiple of every chunk: the vec4 loads
  [2, 40, 12, 5, 30], // shared width 2.5 · I
  [4, 64, 40, 6, 80],
];
const REAL = { A: 6, D: 2048, I: 1408, E: 64, IS: 2816 };

const { features } = await testRuntime();

const cases: MoeDecodeCase[] = [];
for (const subgroups of [true, false]) {
  for (const dtype of DTYPES) {
    for (const [A, D, I, E, IS] of AWKWARD) cases.push({ A, D, I, E, IS, dtype, subgroups });
    cases.push({
      A: 3,
      D: 64,
      I: 24,
      E: 8,
      IS: 48,
      dtype,
      subgroups,
      parts: { experts: 3, sharedRows: 5, sharedDownRows: 7 },
    });
    cases.push({
      A: 2,
      D: 33,
      I: 9,
      E: 5,
      IS: 18,
      dtype,
      subgroups,
      parts: { experts: 2, sharedRows: 18, sharedDownRows: 33 },
    });
    // the real shape; bf16/f16/f32 stacks (369 MB+) held in parts of 16 experts as the planner would
    const dense = dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';
    cases.push({
      ...REAL,
      dtype,
      subgroups,
      ...(dense ? { parts: { experts: 16, sharedRows: 2816, sharedDownRows: 2048 } } : {}),
    });
  }
  cases.push({ A: 3, D: 64, I: 24, E: 8, IS: 48, dtype: 'q4', sharedDtype: 'bf16', subgroups });
  cases.push({
    A: 3,
    D: 40,
    I: 16,
    E: 7,
    IS: 32,
    dtype: 'q8',
    sharedDtype: 'f32',
    subgroups,
    parts: { experts: 4, sharedRows: 11, sharedDownRows: 9 },
  });
}

function upload(g: CaseGpu, w: ReturnType<typeof moeDecodeInputs>['gate'], rows: number | undefined) {
  if (rows === undefined) return g.uploadWeight(w);
  const t: PartedTensor = uploadWeightRows(g.rt, w, rows);
  for (const p of t.parts) g.own(p.tensor);
  return t;
}

describe('moeDecode on the GPU vs moeDecodeRef', () => {
  kernelTests({
    op: 'moeDecode',
    cases,
    name: (c) =>
      `${c.subgroups ? 'subgroups' : 'workgroup-memory reduce'} ${c.dtype}${c.sharedDtype ? `/${c.sharedDtype}` : ''} ` +
      `A=${c.A} D=${c.D} I=${c.I} E=${c.E} IS=${c.IS}` +
      (c.parts
        ? ` parts ${c.parts.experts} experts / ${c.parts.sharedRows} / ${c.parts.sharedDownRows} rows`
        : ''),
    seed: (c) => c.A * 131 + c.D * 7 + c.I * 3 + c.E + c.IS + c.dtype.length,
    skip: (c) => (c.subgroups && !features.subgroups ? 'the adapter has no subgroups' : false),
    inputs: (c, seed) => moeDecodeInputs(c, seed),
    run: (g, inp, c) => {
      g.rt.tuning.subgroups = c.subgroups;
      const p = c.parts;
      const w = {
        gate: upload(g, inp.gate, p?.experts),
        up: upload(g, inp.up, p?.experts),
        down: upload(g, inp.down, p?.experts),
        sharedGate: upload(g, inp.sharedGate, p?.sharedRows),
        sharedUp: upload(g, inp.sharedUp, p?.sharedRows),
        sharedDown: upload(g, inp.sharedDown, p?.sharedDownRows),
      };
      if (p) expect((w.gate as PartedTensor).parts.length).toBe(Math.ceil(c.E / p.experts));
      const { A, D } = c;
      const ids = g.upload(inp.ids, [1, A]);
      return moeDecode(
        g.rt,
        g.upload(inp.x, [1, D]),
        ids,
        g.upload(inp.weights, [1, A]),
        w,
        g.upload(inp.residual, [1, D]),
      );
    },
    ref: (inp, c) => refOf(inp, c),
    metric: nmseBelow(1e-6),
    check: (got, _g, inp, c) => {
      const want = refOf(inp, c);
      const term = (y: ArrayLike<number>) => Float64Array.from(inp.residual, (r, i) => y[i]! - r);
      const e = nmse(term(got), term(want));
      expect(e, `MoE term alone: NMSE ${e.toExponential(3)}`).toBeLessThan(1e-6);
    },
  });
});

/** The oracle on the selected experts only (compacted to ids 0..A−1), dequantised. */
function refOf(inp: ReturnType<typeof moeDecodeInputs>, c: MoeDecodeCase): Float32Array {
  const compact = Uint32Array.from(inp.ids, (_, a) => a);
  const w = {
    gate: expertsF32(inp.gate, inp.ids),
    up: expertsF32(inp.up, inp.ids),
    down: expertsF32(inp.down, inp.ids),
    sharedGate: hostWeightToF32(inp.sharedGate),
    sharedUp: hostWeightToF32(inp.sharedUp),
    sharedDown: hostWeightToF32(inp.sharedDown),
  };
  return moeDecodeRef(inp.x, compact, inp.weights, w, inp.residual, c.D, c.I, c.IS);
}
