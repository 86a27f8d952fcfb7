import { describe, expect, test } from 'vitest';
import { GpuRuntime } from '../../gpu/runtime.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { expectGuardsIntact, nmse, testRuntime } from '../testing.ts';
import { matmulRef } from './matmul.ref.ts';
import { matmul } from './matmul.ts';

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

describe('matmul on the GPU vs matmulRef (on the dequantised weights)', () => {
  for (const variant of ['tiled', 'direct'] as const)
    for (const dtype of DTYPES) {
      for (const [m, k, n] of SHAPES) {
        // M = 1 is the matvec kernel either way: run it once.
        if (m === 1 && variant === 'direct') continue;
        // Real-size shapes once per dtype family is plenty on SwiftShader; keep all for the packed ones.
        const seed = m * 1_000_003 + k * 1009 + n;
        test(`${m === 1 ? 'matvec' : variant} ${dtype} M=${m} K=${k} N=${n} seed=${seed}`, async () => {
          const rt = await testRuntime();
          rt.tuning.matmul = variant;
          const xv = randn(m * k, seed);
          const host = encodeWeight(randn(n * k, seed + 1, 0.05), [n, k], dtype);
          const bv = randn(n, seed + 2);
          const x = rt.upload(xv, [m, k]);
          const w = rt.uploadWeight(host);
          const b = rt.upload(bv, [n]);
          const y = matmul(rt, x, w, seed % 2 ? b : undefined);
          const got = await rt.read(y);
          const want = matmulRef(xv, hostWeightToF32(host), m, k, n, seed % 2 ? bv : undefined);
          // Same weights on both sides, f32 vs f64 accumulation only: far inside matmul's 5e-4 class bound.
          expect(nmse(got, want), `seed ${seed} shape ${m}x${k}x${n} ${dtype}`).toBeLessThan(1e-6);
          await expectGuardsIntact(rt, y, `matmul ${dtype} ${m}x${k}x${n}`);
          rt.free(x, w, b, y);
        });
      }
    }
});

describe('f16 weights: the shader-f16 path is chosen by feature detection', () => {
  for (const useF16 of [false, true]) {
    test(`shader-f16 ${useF16 ? 'enabled when the adapter has it' : 'disabled → packed u32 path'}`, async () => {
      const rt = await GpuRuntime.create(useF16 ? {} : { disableFeatures: ['shaderF16'] });
      if (useF16 && !rt.features.shaderF16) {
        console.log('adapter has no shader-f16 (SwiftShader): only the packed path can run here');
        rt.destroy();
        return;
      }
      const [k, n] = [1408, 37];
      const host = encodeWeight(randn(n * k, 5, 0.05), [n, k], 'f16');
      const xv = randn(k, 6);
      const y = matmul(rt, rt.upload(xv, [1, k]), rt.uploadWeight(host), undefined);
      expect(nmse(await rt.read(y), matmulRef(xv, hostWeightToF32(host), 1, k, n))).toBeLessThan(1e-6);
      expect(rt.pipelines.keys().some((key) => key.includes(`SHADER_F16=${useF16}`))).toBe(true);
      rt.destroy();
    });
  }
});
