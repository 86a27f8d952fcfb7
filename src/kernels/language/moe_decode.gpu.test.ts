// The decode MoE by device-side ids (moe_decode.ts through moeExperts at T = 1) vs moeDecodeRef on the
// dequantised weights, every variant forced on this adapter: subgroup reductions on/off × every weight
// form (f32, f16, bf16, q8, q4) × the fused FFN norm on/off × the addend on/off, on awkward shapes (one
// expert of one row, partial q4 blocks, rows not 16-byte aligned: the grouped fallback), the real routing
// (64 experts, top-6), the real widths (D 2048, I 1408), and expert stacks in parts (ids in one part
// only, parts that do not divide E). Each case checks its dispatch count: 2 per part where the by-id
// kernels apply (gate·up, down + sum), the grouped path (+ a norm) where they do not.
//
// Tolerance: NMSE < 1e-7: the same dequantised weights on both sides, f32 vs f64 accumulation over two
// chained projections; the fused norm scales each dot product instead of each x (f32 rounding apart).
import { describe, expect } from 'vitest';
import type { PartedTensor } from '../../gpu/parted_tensor.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { testRuntime } from '../../gpu/testing.ts';
import type { HostWeight, WeightDType } from '../../tensor/types.ts';
import { encodeWeight, mulberry32, randn } from '../../testing/random.ts';
import { gemvFormat } from '../core/gemv.ts';
import { uploadWeightRows } from '../parts_upload.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { type CaseGpu, kernelTests, nmseBelow } from '../testing.ts';
import { moeDecodeRef } from './moe_decode.ref.ts';
import { moeExperts } from './moe_experts.ts';

const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];

interface Case {
  A: number;
  D: number;
  I: number;
  E: number;
  dtype: WeightDType;
  subgroups: boolean;
  norm: boolean;
  addend: boolean;
  /** Experts per part of the three stacks (whole where absent). */
  perPart?: number;
  /** Every id in the last part (the other parts' dispatches all exit). */
  lastPartOnly?: boolean;
}

// [A, D, I, E]: one expert of one row and one unit; partial q4 blocks (D 40, I 24); I = 17 (the down rows
// not 16-byte aligned for f32 and 16-bit forms: the grouped fallback); the real routing at small widths.
const AWKWARD: Array<[number, number, number, number]> = [
  [1, 8, 1, 1],
  [2, 40, 24, 4],
  [3, 64, 17, 5],
  [6, 96, 40, 64],
];

const rt = await testRuntime();
const { features } = rt;

const cases: Case[] = [
  ...DTYPES.flatMap((dtype) =>
    [true, false].flatMap((subgroups) =>
      AWKWARD.flatMap(([A, D, I, E], i): Case[] => [
        { A, D, I, E, dtype, subgroups, norm: i % 2 === 0, addend: i % 2 === 1 },
        { A, D, I, E, dtype, subgroups, norm: i % 2 === 1, addend: i % 2 === 0 },
      ]),
    ),
  ),
  // the real widths in the forms the model loads, with the norm and the shared experts' addend
  ...(['q4', 'q8', 'bf16'] as const).flatMap((dtype) =>
    [true, false].map(
      (subgroups): Case => ({ A: 6, D: 2048, I: 1408, E: 7, dtype, subgroups, norm: true, addend: true }),
    ),
  ),
  // parts of 3 experts (3, 3, 2), one expert per part, ids only in the last part
  ...(['q4', 'bf16', 'f32'] as const).flatMap((dtype): Case[] => [
    { A: 3, D: 64, I: 32, E: 8, dtype, subgroups: true, norm: true, addend: true, perPart: 3 },
    { A: 2, D: 64, I: 32, E: 4, dtype, subgroups: false, norm: false, addend: false, perPart: 1 },
    {
      A: 2,
      D: 64,
      I: 32,
      E: 8,
      dtype,
      subgroups: true,
      norm: true,
      addend: false,
      perPart: 3,
      lastPartOnly: true,
    },
  ]),
];

function name(c: Case): string {
  const red = c.subgroups ? 'subgroups' : 'workgroup-memory';
  const parts = c.perPart ? ` parts of ${c.perPart}${c.lastPartOnly ? ' (ids in the last)' : ''}` : '';
  const fus = `${c.norm ? ' norm' : ''}${c.addend ? ' addend' : ''}`;
  return `${c.dtype} ${red} A=${c.A} D=${c.D} I=${c.I} E=${c.E}${fus}${parts}`;
}

/** Whether the by-id kernels apply: both projections' rows in 16-byte units. */
const byIds = (c: Case) =>
  gemvFormat(c.dtype, c.D) !== 'elementwise' && gemvFormat(c.dtype, c.I) !== 'elementwise';

function expectedDispatches(c: Case): number {
  const parts = c.perPart ? Math.ceil(c.E / c.perPart) : 1;
  // group + gate, up, down per part + combine, after a norm dispatch when fused
  return byIds(c) ? 2 * parts : 2 + 3 * parts + (c.norm ? 1 : 0);
}

/** A random top-A choice: A distinct experts (all in the last part with lastPartOnly). */
function chooseIds(c: Case, seed: number): Uint32Array {
  const r = mulberry32(seed);
  const first = c.lastPartOnly ? c.E - (c.E % c.perPart! || c.perPart!) : 0;
  const pool = Array.from({ length: c.E - first }, (_, i) => first + i);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return Uint32Array.from(pool.slice(0, c.A));
}

function stack(g: CaseGpu, host: HostWeight, perPart?: number): GpuTensor | PartedTensor {
  if (!perPart) return g.uploadWeight(host);
  const p = uploadWeightRows(g.rt, host, perPart);
  for (const part of p.parts) g.own(part.tensor);
  return p;
}

let dispatched = 0; // by the last case's op
let weightRead = 0; // rt.stats.weightBytes added by the last case's op

/**
 * What the by-id path reads of the weights, whatever the parts: A experts' rows of the three stacks (each
 * part reports its share) and the norm scale once per gate·up dispatch.
 */
function byIdsWeightBytes(c: Case): number {
  const parts = c.perPart ? Math.ceil(c.E / c.perPart) : 1;
  const stacks = 2 * storageBytes([c.E, c.I, c.D], c.dtype) + storageBytes([c.E, c.D, c.I], c.dtype);
  return (stacks * Math.min(c.A, c.E)) / c.E + (c.norm ? 4 * c.D * parts : 0);
}

describe('moeExperts at T = 1 by device-side ids vs moeDecodeRef (on the dequantised weights)', () => {
  kernelTests({
    op: 'moeDecode',
    cases,
    name,
    skip: (c) => c.subgroups && !features.subgroups && 'the adapter has no subgroups',
    seed: (c) => c.A * 7919 + c.D * 31 + c.I * 7 + c.E + (c.perPart ?? 0),
    inputs: (c, seed) => {
      const w = (s: number, shape: number[], fanIn: number) =>
        encodeWeight(randn(shape[0]! * shape[1]! * shape[2]!, s, 1 / Math.sqrt(fanIn)), shape, c.dtype);
      return {
        x: randn(c.D, seed, 2),
        ids: chooseIds(c, seed),
        weights: randn(c.A, seed + 1),
        gate: w(seed + 2, [c.E, c.I, c.D], c.D),
        up: w(seed + 3, [c.E, c.I, c.D], c.D),
        down: w(seed + 4, [c.E, c.D, c.I], c.I),
        nw: randn(c.D, seed + 5),
        addend: randn(c.D, seed + 6),
      };
    },
    run: (g, inp, c) => {
      g.rt.tuning.subgroups = c.subgroups;
      const [sg, su, sd] = [inp.gate, inp.up, inp.down].map((h) => stack(g, h, c.perPart)) as GpuTensor[];
      const x = g.upload(inp.x, [1, c.D]);
      const ids = g.upload(inp.ids, [1, c.A]);
      const weights = g.upload(inp.weights, [1, c.A]);
      const addend = c.addend ? g.upload(inp.addend, [1, c.D]) : undefined;
      const norm = c.norm ? { weight: g.upload(inp.nw, [c.D]), eps: 1e-6 } : undefined;
      const before = { ...g.rt.stats };
      const y = moeExperts(g.rt, x, ids, weights, sg!, su!, sd!, addend, norm);
      dispatched = g.rt.stats.dispatches - before.dispatches;
      weightRead = g.rt.stats.weightBytes - before.weightBytes;
      return y;
    },
    ref: (inp, c) => {
      const [gate, up, down] = [inp.gate, inp.up, inp.down].map(hostWeightToF32) as Float32Array[];
      const norm = c.norm ? { weight: inp.nw, eps: 1e-6 } : undefined;
      return moeDecodeRef(
        inp.x,
        inp.ids,
        inp.weights,
        { gate: gate!, up: up!, down: down! },
        c.D,
        c.I,
        norm,
        c.addend ? inp.addend : undefined,
      );
    },
    metric: nmseBelow(1e-7),
    // The path and the reduction forced are the ones that ran; the tuning is restored for the next case.
    check: (_got, g, _in, c) => {
      expect(dispatched).toBe(expectedDispatches(c));
      const keys = g.rt.pipelines.keys();
      if (byIds(c)) {
        expect(
          keys.some((k) => k.includes('EXPERT_ROWS=true') && k.includes(`SUBGROUPS=${c.subgroups}`)),
        ).toBe(true);
        expect(keys.some((k) => k.includes('SLOT_SUM=true'))).toBe(true);
        // bytes: rounded once per dispatch (2 per part)
        expect(Math.abs(weightRead - byIdsWeightBytes(c))).toBeLessThanOrEqual(dispatched);
      }
      g.rt.tuning.subgroups = features.subgroups;
    },
  });
});
