// gemv on the GPU vs gemvRef (matmulRef on the dequantised weights, composed with rmsNormRef and the
// residual add), every variant forced on this adapter: subgroup reductions on/off × every weight form
// (f32, f16, bf16, q8, q4; 16-byte units or the per-element path) × rows per workgroup 1..16 × the fusions
// (bias, rms-norm prologue, residual epilogue, both), on awkward and real shapes, whole and in parts.
//
// Tolerance: NMSE < 1e-8 everywhere. Both sides multiply the same (dequantised) weights; what differs is
// f32 accumulation in a different order vs f64 (and, with the norm, the scale applied per output instead
// of per element), ~1e-12..1e-10 here: 1e-8 is far inside the 1e-6 class bound of quantised matmul.
import { describe, expect, test } from 'vitest';
import { testRuntime } from '../../gpu/testing.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { uploadWeightRows } from '../parts_upload.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { kernelTests, nmseBelow } from '../testing.ts';
import { gemvRef } from './gemv.ref.ts';
import { chooseGemvVariant, type GemvRows, gemv, gemvFormat, gemvGrid } from './gemv.ts';

const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];
type Fusion = 'none' | 'bias' | 'norm' | 'residual' | 'norm+residual';

interface Case {
  dtype: WeightDType;
  K: number;
  N: number;
  subgroups: boolean;
  rows?: GemvRows;
  fusion: Fusion;
  /** Output rows per weight part (the weight in parts), or whole. */
  partRows?: number;
}

// [K, N, rows]: 1s, primes, K not a multiple of 4, 8, 32 or 256 (partial kvq1 blocks, per-element
// paths), N = 1 and 3 (fewer rows than a workgroup's), N not a multiple of the rows per workgroup.
const AWKWARD: Array<[number, number, GemvRows]> = [
  [1, 1, 1],
  [7, 3, 4],
  [33, 1, 8],
  [40, 5, 2],
  [100, 17, 16],
  [257, 3, 4],
  [300, 65, 8],
  [31, 33, 1],
];
// Real Kimi-VL decode shapes (hidden 2048, shared-expert width 1408, q heads 3072, dense MLP 11264).
const REAL: Array<[number, number]> = [
  [2048, 1408],
  [1408, 2048],
  [2048, 3072],
  [2048, 11264],
];

const rt = await testRuntime();
const { features } = rt;
const SUBGROUPS = [true, false];

const cases: Case[] = [
  ...DTYPES.flatMap((dtype) =>
    SUBGROUPS.flatMap((subgroups) => [
      ...AWKWARD.map(([K, N, rows]): Case => ({ dtype, K, N, rows, subgroups, fusion: 'none' })),
      ...REAL.map(([K, N]): Case => ({ dtype, K, N, subgroups, fusion: 'none' })),
    ]),
  ),
  // Fusions on an awkward shape in every form, on a real one in the forms the model loads (q4, q8 and
  // bf16; the fusion code is the same for every form: CI time), both reductions.
  ...DTYPES.flatMap((dtype) =>
    SUBGROUPS.flatMap((subgroups) =>
      (['bias', 'norm', 'residual', 'norm+residual'] as const).flatMap((fusion) => [
        { dtype, K: 100, N: 17, rows: 4 as const, subgroups, fusion },
        ...(dtype === 'f32' || dtype === 'f16' ? [] : [{ dtype, K: 2048, N: 1408, subgroups, fusion }]),
      ]),
    ),
  ),
  // Weights in parts: each part writes its rows at its offset (and reads the residual there).
  ...(['q4', 'bf16'] as const).flatMap((dtype) =>
    (['none', 'norm+residual'] as const).map(
      (fusion): Case => ({ dtype, K: 2048, N: 300, partRows: 97, subgroups: true, fusion }),
    ),
  ),
  // More workgroups than one grid dimension holds (65535): 65537 (prime: near-exact grid, 1 idle
  // workgroup) and 131072 (exact 32768 × 4) rows of one workgroup each, and lm_head-like 8 rows each.
  { dtype: 'q4', K: 32, N: 65537, rows: 1, subgroups: true, fusion: 'none' },
  { dtype: 'f32', K: 8, N: 131072, rows: 1, subgroups: false, fusion: 'residual' },
  { dtype: 'q8', K: 64, N: 163840, subgroups: true, fusion: 'norm' },
];

function name(c: Case): string {
  const parts = c.partRows ? ` parts of ${c.partRows}` : '';
  const rows = c.rows ? ` rows=${c.rows}` : '';
  const red = c.subgroups ? 'subgroups' : 'workgroup-memory';
  return `${c.dtype} ${red} K=${c.K} N=${c.N}${rows} ${c.fusion}${parts}`;
}

describe('gemv on the GPU vs gemvRef (on the dequantised weights)', () => {
  kernelTests({
    op: 'gemv',
    cases,
    name,
    skip: (c) => c.subgroups && !features.subgroups && 'the adapter has no subgroups',
    seed: ({ K, N }) => K * 1009 + N,
    inputs: ({ dtype, K, N, fusion }, seed) => ({
      x: randn(K, seed, 2),
      host: encodeWeight(randn(N * K, seed + 1, 0.05), [N, K], dtype),
      bias: fusion === 'bias' ? randn(N, seed + 2) : undefined,
      norm: fusion.startsWith('norm') ? { weight: randn(K, seed + 3), eps: 1e-6 } : undefined,
      residual: fusion.endsWith('residual') ? randn(N, seed + 4) : undefined,
    }),
    run: (g, { x, host, bias, norm, residual }, c) => {
      g.rt.tuning.subgroups = c.subgroups;
      g.rt.tuning.gemvRows = c.rows;
      let w: Parameters<typeof gemv>[2] = g.uploadWeight(host);
      if (c.partRows) {
        const p = uploadWeightRows(g.rt, host, c.partRows);
        for (const part of p.parts) g.own(part.tensor);
        w = p;
      }
      return gemv(g.rt, g.upload(x, [1, c.K]), w, {
        ...(bias ? { bias: g.upload(bias, [c.N]) } : {}),
        ...(norm ? { norm: { weight: g.upload(norm.weight, [c.K]), eps: norm.eps } } : {}),
        ...(residual ? { residual: g.upload(residual, [1, c.N]) } : {}),
      });
    },
    ref: ({ x, host, bias, norm, residual }, { K, N }) =>
      gemvRef(x, hostWeightToF32(host), K, N, {
        ...(bias ? { bias } : {}),
        ...(norm ? { norm } : {}),
        ...(residual ? { residual } : {}),
      }),
    metric: nmseBelow(1e-8),
    // The variant forced is the one that ran; the tuning is restored for the next case.
    check: (_got, g, _in, c) => {
      const v = chooseGemvVariant(g.rt, c.dtype, c.K, c.N);
      expect(v).toMatchObject({ subgroups: c.subgroups, format: gemvFormat(c.dtype, c.K) });
      if (c.rows) expect(v.rows).toBe(c.rows);
      expect(g.rt.pipelines.keys().some((k) => k.includes(`SUBGROUPS=${c.subgroups}`))).toBe(true);
      g.rt.tuning.subgroups = features.subgroups;
      g.rt.tuning.gemvRows = undefined;
    },
  });
});

describe('gemv variant and grid choice', () => {
  test('units by storage form: 16-byte loads wherever rows are 16-byte aligned', () => {
    expect(['q4', 'q8', 'bf16', 'f16', 'f32'].map((d) => gemvFormat(d as WeightDType, 2048))).toEqual([
      'q4',
      'q8',
      'vec16',
      'vec16',
      'vec32',
    ]);
    expect(gemvFormat('bf16', 1412)).toBe('elementwise'); // K % 8 ≠ 0
    expect(gemvFormat('f32', 7)).toBe('elementwise');
    expect(gemvFormat('q4', 7)).toBe('q4'); // kvq1 pads blocks: always whole units
  });
  test('grids are exact where the count factors, else < y padding workgroups', () => {
    for (const count of [1, 65535, 65536, 65537, 131072, 163840 / 8, 163840, 1_000_003]) {
      const g = gemvGrid(count, 65535);
      expect(g.x).toBeLessThanOrEqual(65535);
      expect(g.y).toBeLessThanOrEqual(65535);
      expect(g.x * g.y).toBeGreaterThanOrEqual(count);
      expect(g.x * g.y - count).toBeLessThan(g.y);
    }
    expect(gemvGrid(131072, 65535)).toEqual({ x: 32768, y: 4 });
    expect(gemvGrid(163840, 65535)).toEqual({ x: 163840 / 4, y: 4 });
  });
  test('lm_head (163840 rows) fits one grid dimension with the default rows per workgroup', () => {
    const v = chooseGemvVariant(rt, 'q4', 2048, 163840);
    expect(Math.ceil(163840 / v.rows)).toBeLessThanOrEqual(rt.device.limits.maxComputeWorkgroupsPerDimension);
    expect(v.lanes).toBe(64); // 64 q4 blocks per row: one block per lane
  });
  test('q8 lanes read whole 32-byte blocks (one scale per lane per row)', () => {
    expect(chooseGemvVariant(rt, 'q8', 2048, 3072).lanes).toBe(64); // 64 blocks per row
    expect(chooseGemvVariant(rt, 'q8', 1408, 2048).lanes).toBe(64); // 44 blocks: pow2 above
    expect(chooseGemvVariant(rt, 'q8', 8192, 2048).lanes).toBe(128); // 256 blocks: lanes stride
  });
});
