// latentRowWrite on the GPU vs latentRowWriteRef (the unfused ops' references), and the unfused kvCacheWrite
// into an f16 cache (its f32 cases are kv_cache_write.gpu.test.ts): the whole cache is read back,
// so rows outside pos0..pos0+T−1 must keep their (random) contents. f32 and f16 caches, in one buffer and in
// position parts (rows straddling a part boundary), decode (T = 1) at the real dims, YaRN-scaled rope.
import { describe, expect, test } from 'vitest';
import { type PartedTensor, partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { GpuTensor } from '../../gpu/tensor.ts';
import { testRuntime } from '../../gpu/testing.ts';
import type { Tensor } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { parted } from '../parts_upload.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { allclose, compare } from '../testing.ts';
import type { RopeOptions } from '../types.ts';
import { kvCacheWriteRef } from './kv_cache_write.ref.ts';
import { kvCacheWrite } from './kv_cache_write.ts';
import { latentRowWriteRef, roundToF16 } from './mla_decode_kv_write.ref.ts';
import { latentRowWrite } from './mla_decode_kv_write.ts';

interface Case {
  T: number;
  R: number;
  P: number;
  ctx: number;
  pos0: number;
  dtype: 'f32' | 'f16';
  partRows: number;
  yarn: boolean;
}
const c = (T: number, R: number, P: number, ctx: number, pos0: number, more: Partial<Case> = {}): Case => ({
  T,
  R,
  P,
  ctx,
  pos0,
  dtype: 'f32',
  partRows: 0,
  yarn: false,
  ...more,
});
const SHAPES: Case[] = [
  c(1, 3, 2, 4, 3), // the last row
  c(1, 24, 16, 9, 0),
  c(1, 512, 64, 40, 39), // real dims, decode
  c(1, 512, 64, 300, 257, { yarn: true }),
  c(5, 24, 16, 9, 2),
  c(17, 512, 64, 40, 0), // prefill-sized: one workgroup per row
  c(4, 24, 16, 30, 8, { partRows: 10 }), // rows 8..11 straddle parts [0,10) and [10,20)
  c(1, 512, 64, 64, 47, { partRows: 16 }), // decode into the third part
];
// An f16 cache packs two values per word, so its rows have an even width (latentCache refuses odd ones).
const CASES = [
  ...SHAPES,
  ...SHAPES.filter((s) => (s.R + s.P) % 2 === 0).map((s) => ({ ...s, dtype: 'f16' as const })),
];

const EPS = 1e-6;
const rope = (x: Case): RopeOptions => ({
  heads: 1,
  headStride: x.P,
  offset: 0,
  ropeDim: x.P,
  theta: 10000,
  pos0: x.pos0,
  ...(x.yarn ? { yarn: { factor: 4, low: 2, high: 12, attnFactor: 1.07 } } : {}),
});

/** The cache's values read back as f32 (an f16 cache's words widened). */
async function readCache(rt: GpuRuntime, cache: Tensor, W: number): Promise<Float32Array> {
  const rows: Float32Array[] = [];
  for (const p of partsOf(cache)) {
    const n = (p.count * W) / (cache.dtype === 'f16' ? 2 : 1);
    const words = await rt.readU32(new GpuTensor([n], 'u32', p.tensor.buffer, n * 4, false));
    rows.push(
      cache.dtype === 'f16'
        ? hostWeightToF32({ dtype: 'f16', shape: [p.count, W], bytes: new Uint8Array(words.buffer) })
        : new Float32Array(words.buffer),
    );
  }
  const out = new Float32Array(rows.reduce((a, r) => a + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

const name = (x: Case) =>
  `${x.dtype} T=${x.T} R=${x.R} P=${x.P} ctx=${x.ctx} pos0=${x.pos0}${x.partRows ? ` parts of ${x.partRows}` : ''}${x.yarn ? ' yarn' : ''}`;

describe('latentRowWrite on the GPU vs latentRowWriteRef', () => {
  for (const x of CASES) {
    test(name(x), async () => {
      const rt = await testRuntime();
      const W = x.R + x.P;
      const seed = x.T * 131 + x.R + x.pos0 * 7 + (x.dtype === 'f16' ? 1 : 0);
      const before0 = randn(x.ctx * W, seed);
      const kva = randn(x.T * W, seed + 1);
      const norm = randn(x.R, seed + 2, 0.5);
      const host = (start: number, n: number) => before0.subarray(start * W, (start + n) * W);
      const make = (start: number, n: number) =>
        x.dtype === 'f32'
          ? rt.upload(host(start, n), [n, W])
          : rt.uploadWeight(encodeWeight(host(start, n), [n, W], 'f16'));
      const cache: GpuTensor | PartedTensor = x.partRows
        ? parted([x.ctx, W], x.dtype, x.partRows, Math.ceil(x.ctx / x.partRows), make)
        : make(0, x.ctx);
      const before = x.dtype === 'f32' ? before0 : hostWeightToF32(encodeWeight(before0, [x.ctx, W], 'f16'));
      const tk = rt.upload(kva, [x.T, W]);
      const tn = rt.upload(norm, [x.R]);
      try {
        latentRowWrite(rt, cache, tk, tn, EPS, rope(x));
        const got = await readCache(rt, cache, W);
        const want = Float32Array.from(before);
        latentRowWriteRef(want, kva, norm, x.T, x.R, x.P, EPS, rope(x), x.dtype === 'f16');
        // f32: an elementwise result of an f32 norm and rotation (elementwise class: atol 1e-6, rtol 1e-5).
        // f16: the GPU's f32 value and the reference's may round to neighbouring halves: one half-precision
        // ulp (≤ 2⁻¹⁰·|x|) apart at most.
        const m = x.dtype === 'f32' ? allclose(1e-6, 1e-5) : allclose(1e-6, 2 ** -10);
        const r = compare(got, want, m);
        expect(r.pass, `${name(x)} seed=${seed}: ${r.text}`).toBe(true);
      } finally {
        rt.free(tk, tn, ...partsOf(cache).map((p) => p.tensor));
      }
    });
  }
});

describe('kvCacheWrite into an f16 cache vs kvCacheWriteRef', () => {
  // [T, R, P, ctx, pos0, partRows]
  const F16: Array<[number, number, number, number, number, number]> = [
    [1, 3, 1, 4, 3, 0],
    [5, 24, 16, 9, 2, 0],
    [17, 512, 64, 40, 0, 0],
    [1, 512, 64, 40, 39, 0],
    [4, 24, 16, 30, 8, 10], // straddles parts
  ];
  for (const [T, R, P, ctx, pos0, partRows] of F16) {
    const title = `T=${T} R=${R} P=${P} ctx=${ctx} pos0=${pos0}${partRows ? ` parts of ${partRows}` : ''}`;
    test(title, async () => {
      const rt = await testRuntime();
      const W = R + P;
      const seed = T * 13 + R + P + pos0;
      const before0 = randn(ctx * W, seed);
      const cv = randn(T * R, seed + 1);
      const kPe = randn(T * P, seed + 2);
      const make = (start: number, n: number) =>
        rt.uploadWeight(encodeWeight(before0.subarray(start * W, (start + n) * W), [n, W], 'f16'));
      const cache = partRows
        ? parted([ctx, W], 'f16', partRows, Math.ceil(ctx / partRows), make)
        : make(0, ctx);
      const tc = rt.upload(cv, [T, R]);
      const tp = rt.upload(kPe, [T, P]);
      try {
        kvCacheWrite(rt, cache, tc, tp, pos0);
        const got = await readCache(rt, cache, W);
        const want = hostWeightToF32(encodeWeight(before0, [ctx, W], 'f16'));
        kvCacheWriteRef(want, roundToF16(cv), roundToF16(kPe), T, R, P, pos0);
        // a copy rounded to half precision: the GPU's rounding may differ at a tie by one half ulp step
        const r = compare(got, want, allclose(1e-6, 2 ** -10));
        expect(r.pass, `${title} seed=${seed}: ${r.text}`).toBe(true);
      } finally {
        rt.free(tc, tp, ...partsOf(cache).map((p) => p.tensor));
      }
    });
  }
});
