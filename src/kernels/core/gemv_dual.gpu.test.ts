// gemvPair and gemvGlu on the GPU vs gemvPairRef / gemvGluRef (the unfused oracles on the dequantised
// weights), every variant forced on this adapter: subgroup reductions on/off × every weight form (f32,
// f16, bf16, q8, q4) × rows per workgroup × the norm prologue on/off, on awkward and real shapes, whole
// and in parts (the pair zips part lists of any splits; the GLU needs gate and up split alike). Each
// case also checks the dispatch count: one per (pair of) part(s) where the dual kernel applies, the
// separate gemvs (and siluMul) where it falls back (rows not 16-byte aligned, splits that differ).
//
// Tolerance: NMSE < 1e-8, as gemv.gpu.test.ts: the same dequantised weights on both sides, f32 vs f64
// accumulation (~1e-12..1e-10); the GLU's silu(g)·u adds f32 rounding of exp and two products.
import { describe, expect } from 'vitest';
import type { PartedTensor } from '../../gpu/parted_tensor.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { testRuntime } from '../../gpu/testing.ts';
import type { HostWeight, WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { uploadWeightRows } from '../parts_upload.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { type CaseGpu, kernelTests, nmseBelow } from '../testing.ts';
import { type GemvRows, gemvFormat } from './gemv.ts';
import { gemvGluRef, gemvPairRef } from './gemv_dual.ref.ts';
import { gemvGlu, gemvPair } from './gemv_dual.ts';

const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];
const SUBGROUPS = [true, false];

interface Case {
  mode: 'pair' | 'glu';
  dtype: WeightDType;
  K: number;
  /** Rows of the first weight (gate) and of the second (up: the same for the GLU). */
  Na: number;
  Nb: number;
  subgroups: boolean;
  norm: boolean;
  rows?: GemvRows;
  /** Rows per part of each weight (whole where absent). */
  partsA?: number;
  partsB?: number;
}

// [K, Na, Nb, rows]: N = 1 and primes, fewer rows than a workgroup's, a pair whose first weight ends
// mid-workgroup; K = 100 and 33 (partial kvq1 blocks; the per-element path for 16-bit rows or f32: the
// fallback), K = 8 (one unit).
const AWKWARD: Array<[number, number, number, GemvRows]> = [
  [8, 1, 1, 1],
  [40, 3, 5, 4],
  [64, 17, 1, 2],
  [100, 5, 9, 4],
  [256, 33, 7, 8],
  [33, 7, 3, 2],
];
// Real Kimi-VL decode shapes: q [3072] and kv_a [576] of hidden 2048; the shared experts' 2816 and the
// dense MLP's 11264 gate·up rows.
const REAL_PAIR: Array<[number, number, number]> = [[2048, 3072, 576]];
const REAL_GLU: Array<[number, number]> = [
  [2048, 2816],
  [2048, 11264],
];

const rt = await testRuntime();
const { features } = rt;

const cases: Case[] = [
  ...DTYPES.flatMap((dtype) =>
    SUBGROUPS.flatMap((subgroups) =>
      [true, false].flatMap((norm) => [
        ...AWKWARD.map(
          ([K, Na, Nb, rows]): Case => ({ mode: 'pair', dtype, K, Na, Nb, rows, subgroups, norm }),
        ),
        ...AWKWARD.map(
          ([K, Na, , rows]): Case => ({ mode: 'glu', dtype, K, Na, Nb: Na, rows, subgroups, norm }),
        ),
      ]),
    ),
  ),
  // Real shapes in the forms the model loads (q4, q8, bf16), with the norm the model fuses.
  ...(['q4', 'q8', 'bf16'] as const).flatMap((dtype) =>
    SUBGROUPS.flatMap((subgroups) => [
      ...REAL_PAIR.map(([K, Na, Nb]): Case => ({ mode: 'pair', dtype, K, Na, Nb, subgroups, norm: true })),
      ...REAL_GLU.map(([K, I]): Case => ({ mode: 'glu', dtype, K, Na: I, Nb: I, subgroups, norm: true })),
    ]),
  ),
  // Parts: the pair with more parts in one weight than the other (leftover parts alone), a whole weight
  // beside a parted one; the GLU split alike (one dispatch per part pair) and split differently (fallback).
  ...(['q4', 'bf16', 'f32'] as const).flatMap((dtype): Case[] => [
    { mode: 'pair', dtype, K: 256, Na: 300, Nb: 70, partsA: 97, partsB: 40, subgroups: true, norm: true },
    { mode: 'pair', dtype, K: 256, Na: 30, Nb: 70, partsB: 16, subgroups: false, norm: true },
    { mode: 'glu', dtype, K: 256, Na: 300, Nb: 300, partsA: 97, partsB: 97, subgroups: true, norm: true },
    { mode: 'glu', dtype, K: 256, Na: 65, Nb: 65, partsA: 32, partsB: 20, subgroups: false, norm: false },
  ]),
];

function name(c: Case): string {
  const parts = c.partsA || c.partsB ? ` parts ${c.partsA ?? 'whole'}/${c.partsB ?? 'whole'}` : '';
  const rows = c.rows ? ` rows=${c.rows}` : '';
  const red = c.subgroups ? 'subgroups' : 'workgroup-memory';
  const n = c.mode === 'pair' ? `Na=${c.Na} Nb=${c.Nb}` : `I=${c.Na}`;
  return `${c.mode} ${c.dtype} ${red} K=${c.K} ${n}${rows}${c.norm ? ' norm' : ''}${parts}`;
}

const partCount = (N: number, rows?: number) => (rows ? Math.ceil(N / rows) : 1);

/** Whether the dual kernel applies: 16-byte units, and for the GLU the same part splits. */
const fused = (c: Case) =>
  gemvFormat(c.dtype, c.K) !== 'elementwise' && (c.mode === 'pair' || c.partsA === c.partsB);

/** Dispatches the op must take: the dual kernel per (pair of) part(s), else the unfused ops. */
function expectedDispatches(c: Case): number {
  const [a, b] = [partCount(c.Na, c.partsA), partCount(c.Nb, c.partsB)];
  if (c.mode === 'pair') return fused(c) ? Math.max(a, b) : a + b;
  return fused(c) ? a : a + b + 1;
}

function weight(g: CaseGpu, host: HostWeight, partRows?: number): GpuTensor | PartedTensor {
  if (!partRows) return g.uploadWeight(host);
  const p = uploadWeightRows(g.rt, host, partRows);
  for (const part of p.parts) g.own(part.tensor);
  return p;
}

let dispatched = 0; // by the last case's op (checked against expectedDispatches)

describe('gemvPair and gemvGlu on the GPU vs their oracles (on the dequantised weights)', () => {
  kernelTests({
    op: 'gemvDual',
    cases,
    name,
    skip: (c) => c.subgroups && !features.subgroups && 'the adapter has no subgroups',
    seed: ({ K, Na, Nb }) => K * 1009 + Na * 31 + Nb,
    inputs: ({ dtype, K, Na, Nb }, seed) => ({
      x: randn(K, seed, 2),
      wa: encodeWeight(randn(Na * K, seed + 1, 0.05), [Na, K], dtype),
      wb: encodeWeight(randn(Nb * K, seed + 2, 0.05), [Nb, K], dtype),
      nw: randn(K, seed + 3),
    }),
    run: (g, { x, wa, wb, nw }, c) => {
      g.rt.tuning.subgroups = c.subgroups;
      g.rt.tuning.gemvRows = c.rows;
      const [a, b] = [weight(g, wa, c.partsA), weight(g, wb, c.partsB)];
      const xs = g.upload(x, [1, c.K]);
      const norm = c.norm ? { weight: g.upload(nw, [c.K]), eps: 1e-6 } : undefined;
      const before = g.rt.stats.dispatches;
      const out =
        c.mode === 'pair'
          ? (([ya, yb]) => ({ ya, yb }))(gemvPair(g.rt, xs, a, b, norm))
          : { y: gemvGlu(g.rt, xs, a, b, norm) };
      dispatched = g.rt.stats.dispatches - before;
      return out;
    },
    ref: ({ x, wa, wb, nw }, c) => {
      const [fa, fb] = [hostWeightToF32(wa), hostWeightToF32(wb)];
      const norm = c.norm ? { weight: nw, eps: 1e-6 } : undefined;
      if (c.mode === 'glu') return { y: gemvGluRef(x, fa, fb, c.K, norm) };
      const [ya, yb] = gemvPairRef(x, fa, fb, c.K, norm);
      return { ya, yb };
    },
    metric: nmseBelow(1e-8),
    // The fusion and the variant forced are the ones that ran; the tuning is restored for the next case.
    check: (_got, g, _in, c) => {
      expect(dispatched).toBe(expectedDispatches(c));
      const keys = g.rt.pipelines.keys();
      expect(keys.some((k) => k.includes(`SUBGROUPS=${c.subgroups}`))).toBe(true);
      if (fused(c))
        expect(keys.some((k) => k.includes(c.mode === 'pair' ? 'PAIR=true' : 'GLU=true'))).toBe(true);
      g.rt.tuning.subgroups = features.subgroups;
      g.rt.tuning.gemvRows = undefined;
    },
  });
});
