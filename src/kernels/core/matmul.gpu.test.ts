// matmul on the GPU vs matmulRef on the dequantised weights: matvec (M = 1), the tiled GEMM (default
// tiles and precision for the adapter; every forced variant is matmul_tiled.gpu.test.ts), the direct
// kernel, the classic 64×64 kernel kept as the bench baseline, every weight form, and the shader-f16 path
// chosen by feature detection.
import { describe, expect } from 'vitest';
import { testRuntime } from '../../gpu/testing.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { kernelTests, nmseBelow } from '../testing.ts';
import { matmulRef } from './matmul.ref.ts';
import { matmul } from './matmul.ts';
import { AUTO_TILED_FROM } from './matmul_choice.ts';

// [M, K, N]: 1s, primes, non-multiples of the 64-wide tile and the 32-wide kvq1 block, real Kimi-VL sizes.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 7, 13],
  [3, 5, 2],
  [5, 31, 33],
  [17, 64, 65],
  [67, 100, 71],
  [1, 24, 96],
  [1, 40, 33],
  [1, 11264, 64],
  [1, 2048, 1408],
  [1, 1408, 2048],
  [1, 4608, 2048],
  [17, 2048, 576],
  [2, 1152, 4608],
];
const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];
const VARIANTS = ['tiled', 'direct', 'classic'] as const;

interface Case {
  variant: (typeof VARIANTS)[number];
  dtype: WeightDType;
  m: number;
  k: number;
  n: number;
}

describe('matmul on the GPU vs matmulRef (on the dequantised weights)', () => {
  kernelTests({
    op: 'matmul',
    // M = 1 is the matvec kernel either way: run it once (under 'tiled'). Real widths at M > 1 under
    // 'direct' (what a CPU adapter runs; the tiled GEMM's are in matmul_tiled.gpu.test.ts); the classic
    // kernel (a bench baseline, not a runtime choice) on the small shapes only. SwiftShader time.
    cases: VARIANTS.flatMap((variant) =>
      DTYPES.flatMap((dtype) =>
        SHAPES.filter(([m, k]) =>
          m === 1 ? variant === 'tiled' : k < 1024 ? variant !== 'classic' || m < 67 : variant === 'direct',
        ).map(([m, k, n]): Case => ({ variant, dtype, m, k, n })),
      ),
    ),
    name: ({ variant, dtype, m, k, n }) => `${m === 1 ? 'matvec' : variant} ${dtype} M=${m} K=${k} N=${n}`,
    seed: ({ m, k, n }) => m * 1_000_003 + k * 1009 + n,
    inputs: ({ dtype, m, k, n }, seed) => ({
      x: randn(m * k, seed),
      host: encodeWeight(randn(n * k, seed + 1, 0.05), [n, k], dtype),
      bias: seed % 2 ? randn(n, seed + 2) : undefined,
    }),
    run: (g, { x, host, bias }, { variant, m, k, n }) => {
      g.rt.tuning.matmul = variant;
      return matmul(g.rt, g.upload(x, [m, k]), g.uploadWeight(host), bias && g.upload(bias, [n]));
    },
    ref: ({ x, host, bias }, { m, k, n }) => matmulRef(x, hostWeightToF32(host), m, k, n, bias),
    // Same weights on both sides, f32 vs f64 accumulation only: far inside matmul's 5e-4 class bound.
    metric: nmseBelow(1e-6),
  });
});

const hasShaderF16 = (await testRuntime()).features.shaderF16;

describe('f16 weights: the shader-f16 path is chosen by feature detection', () => {
  kernelTests({
    op: 'matmul',
    cases: [false, true],
    name: (useF16) =>
      `shader-f16 ${useF16 ? 'enabled when the adapter has it' : 'disabled → packed u32 path'}`,
    skip: (useF16) => useF16 && !hasShaderF16 && 'the adapter has no shader-f16 (SwiftShader)',
    runtime: (useF16) => (useF16 ? {} : { disableFeatures: ['shaderF16'] }),
    seed: () => 5,
    inputs: (_, seed) => ({
      host: encodeWeight(randn(37 * 1408, seed, 0.05), [37, 1408], 'f16'),
      x: randn(1408, seed + 1),
    }),
    run: (g, { x, host }) => matmul(g.rt, g.upload(x, [1, 1408]), g.uploadWeight(host)),
    ref: ({ x, host }) => matmulRef(x, hostWeightToF32(host), 1, 1408, 37),
    metric: nmseBelow(1e-6),
    check: (_, g, __, useF16) => {
      expect(g.rt.pipelines.keys().some((key) => key.includes(`SHADER_F16=${useF16}`))).toBe(true);
    },
  });
});

// 'auto' (CPU adapters' default, matmul_choice.ts) at both sides of each weight form's threshold, fresh
// runtime per case so the pipeline cache shows which kernel ran.
describe("matmul 'auto': tiled from the weight form's row threshold, direct below", () => {
  // cases placed relative to each form's threshold (just below, at, or a few rows above; awkward K/N), so a
  // re-tuned threshold moves them with it
  const at = AUTO_TILED_FROM;
  const autoCases: Array<{ dtype: WeightDType; m: number; k: number; n: number; want: string }> = [
    { dtype: 'q4', m: at.q4 - 1, k: 2048, n: 67, want: 'matmul_direct' },
    { dtype: 'q4', m: at.q4, k: 2048, n: 1408, want: 'matmul_tiled' },
    { dtype: 'q8', m: at.q8 + 5, k: 100, n: 29, want: 'matmul_tiled' },
    { dtype: 'bf16', m: at.bf16 - 1, k: 70, n: 33, want: 'matmul_direct' },
    { dtype: 'bf16', m: at.bf16, k: 70, n: 33, want: 'matmul_tiled' },
    { dtype: 'f16', m: at.f16 + 3, k: 1152, n: 65, want: 'matmul_tiled' },
    { dtype: 'f32', m: at.f32 - 1, k: 37, n: 66, want: 'matmul_direct' },
  ];
  kernelTests({
    op: 'matmul',
    cases: autoCases,
    name: ({ dtype, m, k, n, want }) => `auto ${dtype} M=${m} K=${k} N=${n} → ${want}`,
    runtime: () => ({}),
    seed: ({ m, k, n }) => m * 7919 + k * 31 + n,
    inputs: ({ dtype, m, k, n }, seed) => ({
      x: randn(m * k, seed),
      host: encodeWeight(randn(n * k, seed + 1, 0.05), [n, k], dtype),
    }),
    run: (g, { x, host }, { m, k }) => {
      g.rt.tuning.matmul = 'auto';
      return matmul(g.rt, g.upload(x, [m, k]), g.uploadWeight(host));
    },
    ref: ({ x, host }, { m, k, n }) => matmulRef(x, hostWeightToF32(host), m, k, n),
    // the tiled GEMM's tiles are f16 where the runtime stages them so (its class bound); direct is exact
    metric: nmseBelow(5e-4),
    check: (_, g, __, c) => {
      const ops = g.rt.pipelines.keys().map((key) => key.split('|')[0]);
      expect(ops).toContain(c.want);
      expect(ops).not.toContain(c.want === 'matmul_tiled' ? 'matmul_direct' : 'matmul_tiled');
    },
  });
});
