import { describe, expect, test } from 'vitest';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { expectGuardsIntact, firstMismatch, nmse, testRuntime } from '../testing.ts';
import { addRef, geluRef, siluMulRef } from './elementwise.ref.ts';
import { embeddingRef, sliceColsRef, spliceRowsRef } from './gather.ref.ts';
import { createGpuCoreOps } from './gpu_core_ops.ts';
import { layerNormRef, rmsNormRef } from './norm.ref.ts';
import { softmaxRef } from './softmax.ref.ts';

// Widths: 1, primes, non-multiples of the workgroup sizes, real Kimi-VL widths.
const WIDTHS = [1, 7, 127, 129, 257, 1152, 2048, 4608, 11264];
const ROWS = [1, 3, 17];

async function ops() {
  const rt = await testRuntime();
  return { rt, k: createGpuCoreOps(rt) };
}

async function check(rt: GpuRuntime, t: GpuTensor, what: string): Promise<Float32Array> {
  const got = await rt.read(t);
  await expectGuardsIntact(rt, t, what);
  return got;
}

describe('elementwise ops (allclose atol 1e-6, rtol 1e-5: one rounding of f32 arithmetic)', () => {
  for (const n of [1, 255, 257, 1152 * 3, 11264 * 2]) {
    test(`add / siluMul n=${n}`, async () => {
      const { rt, k } = await ops();
      const a = randn(n, n);
      const b = randn(n, n + 1);
      const ta = k.upload(a, [n]);
      const tb = k.upload(b, [n]);
      const sum = k.add(ta, tb) as GpuTensor;
      const sm = k.siluMul(ta, tb) as GpuTensor;
      expect(firstMismatch(await check(rt, sum, 'add'), addRef(a, b), 1e-6, 1e-5), `add n=${n}`).toBe(-1);
      expect(
        firstMismatch(await check(rt, sm, 'siluMul'), siluMulRef(a, b), 1e-6, 1e-5),
        `siluMul n=${n}`,
      ).toBe(-1);
      k.release(ta, tb, sum, sm);
    });
  }
  for (const form of ['erf', 'tanh'] as const) {
    test(`gelu ${form} over [−8, 8] and random values`, async () => {
      const { rt, k } = await ops();
      const n = 4099;
      const x = randn(n, 7, 3);
      for (let i = 0; i < 1601; i++) x[i] = -8 + i * 0.01; // dense sweep incl. x ≈ −2.7 where the forms differ most
      const t = k.upload(x, [n]);
      const y = k.gelu(t, form) as GpuTensor;
      // erf in WGSL is A&S 7.1.26 (|ε| ≤ 1.5e-7), so the absolute tolerance is 1e-6 as for any elementwise op.
      expect(firstMismatch(await check(rt, y, 'gelu'), geluRef(x, form), 1e-6, 1e-5)).toBe(-1);
      k.release(t, y);
    });
  }
  test('the two GELU forms are distinguishable (≥ 1e-4 apart near x = −2.7)', async () => {
    const x = new Float32Array([-2.7]);
    expect(Math.abs(geluRef(x, 'erf')[0]! - geluRef(x, 'tanh')[0]!)).toBeGreaterThan(1e-4);
  });
});

describe('row reductions (NMSE ≤ 1e-6)', () => {
  for (const d of WIDTHS) {
    for (const rows of ROWS) {
      test(`rmsNorm / layerNorm / softmax rows=${rows} D=${d}`, async () => {
        const { rt, k } = await ops();
        const seed = rows * 100_003 + d;
        const x = randn(rows * d, seed, 2);
        for (let i = 0; i < x.length; i++) x[i]! += 0.5; // non-zero mean exercises LayerNorm's centring
        const w = randn(d, seed + 1);
        const b = randn(d, seed + 2);
        const tx = k.upload(x, [rows, d]);
        const tw = k.upload(w, [d]);
        const tb = k.upload(b, [d]);
        const rms = k.rmsNorm(tx, tw, 1e-6) as GpuTensor;
        const ln = k.layerNorm(tx, tw, tb, 1e-5) as GpuTensor;
        const sm = k.softmax(tx) as GpuTensor;
        const tag = `seed ${seed} rows=${rows} D=${d}`;
        expect(nmse(await check(rt, rms, 'rmsNorm'), rmsNormRef(x, w, rows, d, 1e-6)), tag).toBeLessThan(
          1e-6,
        );
        expect(
          nmse(await check(rt, ln, 'layerNorm'), layerNormRef(x, w, b, rows, d, 1e-5)),
          tag,
        ).toBeLessThan(1e-6);
        expect(nmse(await check(rt, sm, 'softmax'), softmaxRef(x, rows, d)), tag).toBeLessThan(1e-6);
        k.release(tx, tw, tb, rms, ln, sm);
      });
    }
  }
});

describe('gathers (exact copies)', () => {
  const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];
  for (const dtype of DTYPES) {
    for (const [v, d] of [
      [5, 1],
      [13, 24],
      [512, 64],
      [1000, 2048],
    ] as const) {
      test(`embedding ${dtype} V=${v} D=${d}`, async () => {
        const { rt, k } = await ops();
        const host = encodeWeight(randn(v * d, v + d), [v, d], dtype);
        const ids = new Uint32Array([0, v - 1, Math.floor(v / 2), 1 % v, v - 1]);
        const table = k.uploadWeight(host);
        const tid = k.upload(ids, [ids.length]);
        const y = k.embedding(tid, table) as GpuTensor;
        const want = embeddingRef(ids, hostWeightToF32(host), d);
        expect(firstMismatch(await check(rt, y, 'embedding'), want, 0, 0), `${dtype} V=${v} D=${d}`).toBe(-1);
        k.release(table, tid, y);
      });
    }
  }
  test('sliceCols / sliceRows / spliceRows', async () => {
    const { rt, k } = await ops();
    const [rows, cols] = [7, 37];
    const x = randn(rows * cols, 5);
    const tx = k.upload(x, [rows, cols]);
    const sc = k.sliceCols(tx, 5, 11) as GpuTensor;
    expect(firstMismatch(await check(rt, sc, 'sliceCols'), sliceColsRef(x, rows, cols, 5, 11), 0, 0)).toBe(
      -1,
    );
    const sr = k.sliceRows(tx, 6, 1) as GpuTensor;
    expect(firstMismatch(await check(rt, sr, 'sliceRows'), x.subarray(6 * cols, 7 * cols), 0, 0)).toBe(-1);
    const src = randn(3 * cols, 6);
    const tsrc = k.upload(src, [3, cols]);
    const sp = k.spliceRows(tx, [1, 4, 6], tsrc) as GpuTensor;
    expect(
      firstMismatch(await check(rt, sp, 'spliceRows'), spliceRowsRef(x, cols, [1, 4, 6], src), 0, 0),
    ).toBe(-1);
    expect(() => k.spliceRows(tx, [7], k.upload(src.subarray(0, cols), [1, cols]))).toThrow(/out of range/);
    k.release(tx, sc, sr, tsrc, sp);
  });
});
