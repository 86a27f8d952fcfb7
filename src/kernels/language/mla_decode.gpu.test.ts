// mlaDecode (all heads per key split) on the GPU vs mlaAttentionRef at T = 1, every variant forced on this
// adapter: cache f32 / f16 packed two per u32 / native f16 (shader-f16 only) × subgroup shuffles on/off ×
// 1 head per lane (mla_decode.wgsl) with absorb 'elem' and out 'split-lanes' / 4 (mla_decode_hq.wgsl) with
// absorb 'vec' and out 'row-lanes'.
// Contexts 1, 2, 255, 257 and forced split boundaries (a split of one key, splits not a multiple of the key
// tile, one key per split), a second head group (17 heads), a cache in position parts, and the real
// Kimi-VL dims (16 heads, rank 512, rope 64, nope 128, v 128) at 1K and 8K keys. Guard words on the output.
import { describe } from 'vitest';
import { type PartedTensor, partsOf } from '../../gpu/parted_tensor.ts';
import { testRuntime } from '../../gpu/testing.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { parted } from '../parts_upload.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { type CaseGpu, kernelTests, nmseBelow } from '../testing.ts';
import type { MlaDims } from '../types.ts';
import { mlaAttentionRef } from './mla_attention.ref.ts';
import { type MlaDecodeVariant, mlaDecode } from './mla_decode.ts';

interface Shape {
  keys: number;
  heads: number;
  nope: number;
  rope: number;
  v: number;
  rank: number;
  kvB: WeightDType;
  /** Forced keys per split (0: the adapter's choice). */
  chunk: number;
  /** Cache part rows (0: one buffer). */
  partRows: number;
  /** Cache rows (≥ keys; rows past the keys must not be read). */
  ctx: number;
}

const small = (keys: number, more: Partial<Shape> = {}): Shape => ({
  keys,
  heads: 3,
  nope: 8,
  rope: 16,
  v: 12,
  rank: 24,
  kvB: 'bf16',
  chunk: 0,
  partRows: 0,
  ctx: keys,
  ...more,
});
const real = (keys: number, more: Partial<Shape> = {}): Shape => ({
  ...small(keys),
  heads: 16,
  nope: 128,
  rope: 64,
  v: 128,
  rank: 512,
  ...more,
});

const SHAPES: Shape[] = [
  small(1),
  small(2),
  small(255, { ctx: 300 }),
  small(257),
  small(64, { chunk: 32 }), // two full splits
  small(65, { chunk: 32 }), // the last split holds one key
  small(100, { chunk: 7 }), // splits not a multiple of the key tile
  small(19, { chunk: 1 }), // one key per split
  small(40, { heads: 17, chunk: 16 }), // a second head group of one head
  small(21, { heads: 6, chunk: 20 }), // a half-empty head quad
  { ...small(33), heads: 1, nope: 2, rope: 2, v: 1, rank: 2 }, // W = 4: lanes that own no column
  small(130, { partRows: 50, chunk: 20 }), // a cache in 3 position parts, splits aligned to them
  small(45, { partRows: 50, ctx: 120, kvB: 'q8' }), // visible keys end inside the first part
  real(257, { kvB: 'q4' }),
  real(1024),
  real(8192),
];

type Case = Shape & { variant: MlaDecodeVariant };
/** The absorb and out kernels, both variants forced (each falls back to elem / split-lanes on q8, q4, R = 2). */
const FIXED = {
  1: { absorb: 'elem', out: 'split-lanes' },
  4: { absorb: 'vec', out: 'row-lanes' },
} as const;
const VARIANTS: MlaDecodeVariant[] = ([1, 4] as const).flatMap((headsPerLane) =>
  (['f32', 'f16-packed', 'f16-native'] as const).flatMap((cache) =>
    [true, false].map((subgroups) => ({ subgroups, cache, headsPerLane, ...FIXED[headsPerLane] })),
  ),
);
const CASES: Case[] = VARIANTS.flatMap((variant) => SHAPES.map((s) => ({ ...s, variant })));

const { features } = await testRuntime();

const dims = (c: Shape): MlaDims => ({
  heads: c.heads,
  qkNope: c.nope,
  qkRope: c.rope,
  v: c.v,
  kvRank: c.rank,
  scale: (c.nope + c.rope) ** -0.5,
});

/** The cache as the kernel reads it: f32 rows, or f16 rows (the oracle sees the same rounded values). */
function cacheTensor(g: CaseGpu, c: Case, values: Float32Array) {
  const W = c.rank + c.rope;
  const dtype = c.variant.cache === 'f32' ? 'f32' : 'f16';
  const make = (start: number, n: number) => {
    const rows = values.subarray(start * W, (start + n) * W);
    return dtype === 'f32' ? g.upload(rows, [n, W]) : g.uploadWeight(encodeWeight(rows, [n, W], 'f16'));
  };
  if (!c.partRows) return make(0, c.ctx);
  const p: PartedTensor = parted([c.ctx, W], dtype, c.partRows, Math.ceil(c.ctx / c.partRows), make);
  return p;
}

describe('mlaDecode on the GPU vs mlaAttentionRef (T = 1)', () => {
  kernelTests({
    op: 'mlaDecode',
    cases: CASES,
    name: (c) =>
      `${c.variant.cache} ${c.variant.subgroups ? 'subgroups' : 'workgroup-memory'} ` +
      `${c.variant.headsPerLane} heads/lane ${c.variant.absorb}/${c.variant.out} keys=${c.keys} H=${c.heads} ` +
      `R=${c.rank} P=${c.rope} N=${c.nope} V=${c.v} ${c.kvB}${c.chunk ? ` chunk=${c.chunk}` : ''}` +
      `${c.partRows ? ` parts of ${c.partRows}` : ''}${c.ctx > c.keys ? ` ctx=${c.ctx}` : ''}`,
    seed: (c) => c.keys * 7919 + c.heads * 31 + c.rank + c.chunk,
    skip: (c) => {
      if (c.variant.subgroups && !features.subgroups) return 'the adapter has no subgroups';
      if (c.variant.cache === 'f16-native' && !features.shaderF16)
        return 'the adapter has no shader-f16 (SwiftShader)';
      return false;
    },
    inputs: (c, seed) => {
      const cache = randn(c.ctx * (c.rank + c.rope), seed + 2);
      const rounded =
        c.variant.cache === 'f32'
          ? cache
          : hostWeightToF32(encodeWeight(cache, [c.ctx, c.rank + c.rope], 'f16'));
      return {
        q: randn(c.heads * (c.nope + c.rope), seed),
        kvB: encodeWeight(
          randn(c.heads * (c.nope + c.v) * c.rank, seed + 1, 0.1),
          [c.heads * (c.nope + c.v), c.rank],
          c.kvB,
        ),
        cache: rounded,
      };
    },
    run: (g, { q, kvB, cache }, c) => {
      const tq = g.upload(q, [1, c.heads * (c.nope + c.rope)]);
      const tc = cacheTensor(g, c, cache);
      if (c.partRows && partsOf(tc).length < 2) throw new Error('the case meant a cache in parts');
      const opts = { variant: c.variant, ...(c.chunk ? { chunk: c.chunk } : {}) };
      return mlaDecode(g.rt, tq, g.uploadWeight(kvB), tc, c.keys - 1, dims(c), opts);
    },
    ref: ({ q, kvB, cache }, c) => mlaAttentionRef(q, hostWeightToF32(kvB), cache, 1, c.keys - 1, dims(c)),
    // attention class: NMSE ≤ 5e-4; both sides see the same (rounded) cache and dequantised kv_b, so only
    // f32 vs f64 accumulation differs: held to the old kernel's 1e-6
    metric: nmseBelow(1e-6),
  });
});
