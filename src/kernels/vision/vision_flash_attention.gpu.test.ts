// visionFlashAttention on the GPU vs varlenAttentionRef, every variant forced on this adapter: subgroup
// reductions on/off × K/V tiles f32 / f16 (packed two per u32 without shader-f16, native with it) × 4, 8 or
// 16 queries per quad (rt.tuning.flashQueries).
import { describe, expect, test } from 'vitest';
import { testRuntime } from '../../gpu/testing.ts';
import { randn } from '../../testing/random.ts';
import { kernelTests, nmseBelow, qkvCase } from '../testing.ts';
import { varlenAttentionRef } from './varlen_attention.ref.ts';
import {
  chooseFlashVariant,
  type FlashVariant,
  flashWorkgroupBytes,
  visionFlashAttention,
} from './vision_flash_attention.ts';

// One patch, prime sides (tiles not multiples of the 64-, 128- or 256-query tile or of any key tile), images of very
// different sizes packed together (tiles must not straddle images), head dims 72 (MoonViT) and 64, plus
// 4, 12 (lanes that own no column) and 128 (the largest). Scale 2 sharpens the softmax so the online
// max/rescale path is exercised.
const SHAPES = [
  qkvCase(1, 72, '1x1'),
  qkvCase(2, 64, '1x1'),
  qkvCase(1, 4, '1x1,1x2'),
  qkvCase(2, 72, '7x13'),
  qkvCase(3, 64, '13x17,1x1,2x3'),
  qkvCase(2, 72, '24x24,1x1,3x5'),
  qkvCase(1, 72, '17x19,1x1'), // 323 queries: a full and a partial 256-query tile, then a 1-patch image
  qkvCase(3, 12, '4x8,2x2,6x4,1x1'),
  qkvCase(1, 128, '9x9,2x2', 2),
  qkvCase(2, 64, '11x5,29x3', 2),
  qkvCase(16, 72, '12x12,2x6'), // MoonViT's 16 heads × 72 (a larger grid only repeats tiles: CI time)
];

type Forced = Pick<FlashVariant, 'subgroups' | 'tiles' | 'queriesPerQuad'>;
const VARIANTS: Forced[] = ([4, 8, 16] as const).flatMap((queriesPerQuad) =>
  (['f32', 'f16-packed', 'f16'] as const).flatMap((tiles) =>
    [true, false].map((subgroups) => ({ subgroups, tiles, queriesPerQuad })),
  ),
);

const { features } = await testRuntime();

function skipReason(v: Forced): string | false {
  if (v.subgroups && !features.subgroups) return 'the adapter has no subgroups';
  if (v.tiles === 'f16' && !features.shaderF16) return 'the adapter has no shader-f16 (SwiftShader)';
  if (v.tiles === 'f16-packed' && features.shaderF16) return 'packed halves run only without shader-f16';
  return false;
}

// Attention's class bound is NMSE ≤ 5e-4. f32 tiles: only f32-vs-f64 accumulation differs, so 1e-9 as
// the varlen kernel. f16 tiles round K and V to 11 significant bits (relative error ≤ 2⁻¹¹), which moves
// scores and outputs by ~1e-4 relative: NMSE ~1e-7, held to 1e-5.
const BOUNDS = { f32: 1e-9, f16: 1e-5 } as const;

for (const tiles of ['f32', 'f16'] as const) {
  const cases = VARIANTS.filter((v) => (v.tiles === 'f32') === (tiles === 'f32')).flatMap((variant) =>
    SHAPES.map((shape) => ({ ...shape, variant })),
  );
  describe(`visionFlashAttention (${tiles} tiles) on the GPU vs varlenAttentionRef`, () => {
    kernelTests({
      op: 'visionFlashAttention',
      cases,
      name: (c) =>
        `${c.variant.subgroups ? 'subgroups' : 'workgroup-memory reduce'} ${c.variant.tiles} ` +
        `QR=${c.variant.queriesPerQuad} ${c.title}`,
      skip: (c) => skipReason(c.variant),
      seed: ({ L, heads, headDim }) => L * 131 + heads * 17 + headDim,
      inputs: ({ L, width, scale }, seed) => randn(L * width, seed, scale),
      run: (g, xv, c) => {
        g.rt.tuning.visionAttention = 'flash';
        g.rt.tuning.subgroups = c.variant.subgroups;
        // 'f16-packed' is what 'f16' becomes on an adapter without shader-f16 (checked below).
        g.rt.tuning.attentionTiles = c.variant.tiles === 'f32' ? 'f32' : 'f16';
        g.rt.tuning.flashQueries = c.variant.queriesPerQuad;
        const qkv = g.upload(xv, [c.L, c.width]);
        return visionFlashAttention(g.rt, g.tables, { ...c, qkv });
      },
      ref: (xv, { grids, heads, headDim }) => varlenAttentionRef(xv, grids, heads, headDim),
      metric: nmseBelow(BOUNDS[tiles]),
      // The variant forced is the one that ran (an adapter with shader-f16 cannot run the packed form).
      check: (_got, g, _x, c) => {
        expect(chooseFlashVariant(g.rt, c.headDim)).toMatchObject(c.variant);
      },
    });
  });
}

// Unforced, a CPU adapter runs 16 queries per quad with subgroups and 8 without, a GPU 4; the choice
// always fits the adapter's workgroup memory.
test('chooseFlashVariant: the unforced query blocking', async () => {
  const rt = await testRuntime();
  const saved = { ...rt.tuning };
  try {
    rt.tuning.flashQueries = undefined;
    for (const subgroups of [true, false]) {
      rt.tuning.subgroups = subgroups;
      const v = chooseFlashVariant(rt, 72);
      const fits = flashWorkgroupBytes(72, v, v.keyTile) <= rt.device.limits.maxComputeWorkgroupStorageSize;
      expect(fits).toBe(true);
      if (!rt.info.isFallbackAdapter) expect(v.queriesPerQuad).toBe(4);
      else expect(v.queriesPerQuad).toBe(subgroups && rt.features.subgroups ? 16 : 8);
    }
  } finally {
    Object.assign(rt.tuning, saved);
  }
});
