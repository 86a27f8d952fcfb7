// mlaPrefill on the GPU vs mlaPrefillRef, every variant forced on this adapter (subgroup reductions on/off
// × K/V tiles f32 / f16, packed two per u32 without shader-f16), on awkward T (1..3, 17, 65, 130: one or
// several 32-query tiles, key tiles cut mid-tile), with and without a cached prefix (pos0 > 0), the real
// Kimi-VL sizes, every kv_b storage form, a cache in parts and an f16 cache. Guard words on the output.
import { describe, expect } from 'vitest';
import { PartedTensor } from '../../gpu/parted_tensor.ts';
import { testRuntime } from '../../gpu/testing.ts';
import type { Tensor, WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { type CaseGpu, kernelTests, nmseBelow } from '../testing.ts';
import type { MlaDims } from '../types.ts';
import { mlaPrefillRef } from './mla_prefill.ref.ts';
import {
  chooseMlaPrefillVariant,
  type MlaPrefillVariant,
  mlaPrefill,
  mlaPrefillRuns,
} from './mla_prefill.ts';

/** How the test holds the cache: one f32 buffer, f32 in parts of `partRows` positions, or one f16 buffer. */
type CacheForm = 'f32' | 'f16' | { partRows: number };
interface Shape {
  T: number;
  pos0: number;
  ctx: number;
  heads: number;
  nope: number;
  rope: number;
  v: number;
  rank: number;
  kvB: WeightDType;
  cache: CacheForm;
}
const shape = (
  [T, pos0, ctx, heads, nope, rope, v, rank]: number[],
  kvB: WeightDType = 'f32',
  cache: CacheForm = 'f32',
): Shape => ({
  T: T!,
  pos0: pos0!,
  ctx: ctx!,
  heads: heads!,
  nope: nope!,
  rope: rope!,
  v: v!,
  rank: rank!,
  kvB,
  cache,
});

const REAL = [16, 128, 64, 128, 512]; // heads, nope, rope, v, kv_lora_rank of Kimi-VL-A3B
const SHAPES: Shape[] = [
  shape([1, 0, 1, 1, 4, 4, 4, 8]),
  shape([2, 0, 3, 2, 8, 4, 4, 7]),
  shape([3, 5, 9, 3, 16, 8, 12, 24], 'bf16'), // a prefix of 5 cached rows
  shape([17, 0, 17, 2, 32, 16, 32, 33], 'q4'),
  shape([65, 0, 70, 3, 16, 16, 16, 24]), // three query tiles
  shape([130, 3, 140, 2, 8, 4, 12, 16], 'f16'),
  shape([17, 9, 30, 2, 16, 8, 16, 24], 'f32', { partRows: 7 }), // keys from four cache parts
  shape([3, 4, 8, 2, 16, 8, 16, 24], 'q8', 'f16'), // an f16 latent cache
  shape([3, 0, 3, ...REAL], 'bf16'),
  shape([17, 0, 17, ...REAL], 'bf16'),
  shape([65, 40, 110, ...REAL], 'q4'), // a follow-up turn over a 40-row prefix
  shape([130, 0, 130, ...REAL], 'bf16'),
];

type Forced = { subgroups: boolean; tiles: MlaPrefillVariant['tiles'] };
const VARIANTS: Forced[] = [
  { subgroups: true, tiles: 'f32' },
  { subgroups: false, tiles: 'f32' },
  { subgroups: true, tiles: 'f16-packed' },
  { subgroups: false, tiles: 'f16-packed' },
  { subgroups: true, tiles: 'f16' },
  { subgroups: false, tiles: 'f16' },
];

const { features } = await testRuntime();

function skipReason(v: Forced): string | false {
  if (v.subgroups && !features.subgroups) return 'the adapter has no subgroups';
  if (v.tiles === 'f16' && !features.shaderF16) return 'the adapter has no shader-f16 (SwiftShader)';
  if (v.tiles === 'f16-packed' && features.shaderF16) return 'packed halves run only without shader-f16';
  return false;
}

const dims = (s: Shape): MlaDims => ({
  heads: s.heads,
  qkNope: s.nope,
  qkRope: s.rope,
  v: s.v,
  kvRank: s.rank,
  scale: (s.nope + s.rope) ** -0.5,
});

function inputs(s: Shape, seed: number) {
  const cache = randn(s.ctx * (s.rank + s.rope), seed + 2);
  const cacheF16 = s.cache === 'f16' ? encodeWeight(cache, [s.ctx, s.rank + s.rope], 'f16') : null;
  return {
    q: randn(s.T * s.heads * (s.nope + s.rope), seed),
    kvB: encodeWeight(
      randn(s.heads * (s.nope + s.v) * s.rank, seed + 1, 0.1),
      [s.heads * (s.nope + s.v), s.rank],
      s.kvB,
    ),
    cache,
    cacheF16,
    // what the kernel reads: the cache as stored (f16-rounded for an f16 cache)
    cacheSeen: cacheF16 ? hostWeightToF32(cacheF16) : cache,
  };
}
type Inputs = ReturnType<typeof inputs>;

function uploadCache(g: CaseGpu, x: Inputs, s: Shape): Tensor {
  const width = s.rank + s.rope;
  if (x.cacheF16) return g.uploadWeight(x.cacheF16);
  if (s.cache === 'f32') return g.upload(x.cache, [s.ctx, width]);
  const { partRows } = s.cache as { partRows: number };
  const parts = [];
  for (let start = 0; start < s.ctx; start += partRows) {
    const count = Math.min(partRows, s.ctx - start);
    parts.push({
      start,
      count,
      tensor: g.upload(x.cache.subarray(start * width, (start + count) * width), [count, width]),
    });
  }
  return new PartedTensor([s.ctx, width], 'f32', parts, partRows);
}

const title = (s: Shape) =>
  `T=${s.T} pos0=${s.pos0} ctx=${s.ctx} H=${s.heads} nope=${s.nope} rope=${s.rope} v=${s.v} R=${s.rank} ` +
  `kv_b ${s.kvB} cache ${typeof s.cache === 'string' ? s.cache : `in parts of ${s.cache.partRows}`}`;

// Attention's class bound is NMSE ≤ 5e-4. f32 tiles: only f32-vs-f64 accumulation differs (the kv_b
// dequantisation is the same on both sides), so 1e-6 as mlaAttention's test. f16 tiles round k_nope, k_pe
// and v to 11 significant bits (relative error ≤ 2⁻¹¹): NMSE ~1e-7, held to 1e-5 as the vision kernel's.
const BOUNDS = { f32: 1e-6, f16: 1e-5 } as const;

for (const tiles of ['f32', 'f16'] as const) {
  const cases = VARIANTS.filter((v) => (v.tiles === 'f32') === (tiles === 'f32')).flatMap((variant) =>
    SHAPES.map((s) => ({ ...s, variant })),
  );
  describe(`mlaPrefill (${tiles} tiles) on the GPU vs mlaPrefillRef`, () => {
    kernelTests({
      op: 'mlaPrefill',
      cases,
      name: (c) =>
        `${c.variant.subgroups ? 'subgroups' : 'workgroup-memory reduce'} ${c.variant.tiles} ${title(c)}`,
      skip: (c) => skipReason(c.variant),
      seed: (c) => c.T * 100_003 + c.pos0 * 101 + c.heads * 7 + c.rank,
      inputs: (c, seed) => inputs(c, seed),
      run: (g, x, c) => {
        g.rt.tuning.mlaPrefill = 'flash';
        g.rt.tuning.subgroups = c.variant.subgroups;
        // 'f16-packed' is what 'f16' becomes on an adapter without shader-f16 (checked below).
        g.rt.tuning.attentionTiles = c.variant.tiles === 'f32' ? 'f32' : 'f16';
        const q = g.upload(x.q, [c.T, c.heads * (c.nope + c.rope)]);
        return mlaPrefill(g.rt, q, g.uploadWeight(x.kvB), uploadCache(g, x, c), c.pos0, dims(c));
      },
      ref: (x, c) => mlaPrefillRef(x.q, hostWeightToF32(x.kvB), x.cacheSeen, c.T, c.pos0, dims(c)),
      metric: nmseBelow(BOUNDS[tiles]),
      // The non-absorbed form ran (not the fallback), in the variant forced.
      check: (_got, g, x, c) => {
        expect(mlaPrefillRuns(g.rt, uploadCache(g, x, c), c.pos0 + c.T, dims(c))).toBe(true);
        expect(chooseMlaPrefillVariant(g.rt, dims(c))).toMatchObject(c.variant);
      },
    });
  });
}

// The absorbed fallback (tuning 'absorbed', as a prefill the kernel cannot take runs) answers the same.
describe('mlaPrefill forced to the absorbed form vs mlaPrefillRef', () => {
  kernelTests({
    op: 'mlaPrefill',
    cases: [SHAPES[2]!, SHAPES[6]!, SHAPES[10]!],
    name: (c) => `absorbed ${title(c)}`,
    seed: (c) => c.T * 7 + c.pos0,
    inputs: (c, seed) => inputs(c, seed),
    run: (g, x, c) => {
      g.rt.tuning.mlaPrefill = 'absorbed';
      const q = g.upload(x.q, [c.T, c.heads * (c.nope + c.rope)]);
      const out = mlaPrefill(g.rt, q, g.uploadWeight(x.kvB), uploadCache(g, x, c), c.pos0, dims(c));
      g.rt.tuning.mlaPrefill = 'flash';
      return out;
    },
    ref: (x, c) => mlaPrefillRef(x.q, hostWeightToF32(x.kvB), x.cacheSeen, c.T, c.pos0, dims(c)),
    metric: nmseBelow(BOUNDS.f32),
  });
});
