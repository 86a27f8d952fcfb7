// Model-level plumbing of the vision tower: weight loading checks, the position-table cache's ownership,
// input shape checks. (The math is checked against the goldens in src/golden/vision.test.ts.)
import { describe, expect, it } from 'vitest';
import type { VisionConfig } from '../config/config.ts';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createRefVisionOps } from '../kernels/vision/ref_vision_ops.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { encodeWeight, randn } from '../testing/random.ts';
import {
  encodeImages,
  loadVisionWeights,
  PosEmbCache,
  releaseVisionWeights,
  type VisionKernels,
} from './vision.ts';

const CFG: VisionConfig = {
  patchSize: 2,
  hiddenSize: 8,
  numLayers: 1,
  numHeads: 2,
  headDim: 4,
  intermediateSize: 6,
  posEmbHeight: 3,
  posEmbWidth: 5,
  mergeKernel: [2, 2],
};

function hostWeights(): Map<string, HostWeight> {
  const D = CFG.hiddenSize;
  const shapes: Record<string, number[]> = {
    'vision.patch_embed.weight': [D, 12],
    'vision.patch_embed.bias': [D],
    'vision.pos_emb': [3, 5, D],
    'vision.final_norm.weight': [D],
    'vision.final_norm.bias': [D],
  };
  for (const [n, s] of Object.entries({
    norm0: [D],
    norm1: [D],
    qkv: [3 * D, D],
    out: [D, D],
    fc0: [6, D],
    fc1: [D, 6],
  })) {
    shapes[`vision.blocks.0.${n}.weight`] = s;
    shapes[`vision.blocks.0.${n}.bias`] = [s[0]!];
  }
  let seed = 1;
  return new Map(
    Object.entries(shapes).map(([n, s]) => [
      n,
      encodeWeight(
        randn(
          s.reduce((a, b) => a * b, 1),
          seed++,
        ),
        s,
        'bf16',
      ),
    ]),
  );
}

/** Reference kernels that record what is released. */
function trackingKernels(): { k: VisionKernels; released: Set<Tensor> } {
  const released = new Set<Tensor>();
  const k = { ...createRefCoreOps(), ...createRefVisionOps() };
  k.release = (...ts) => {
    for (const t of ts) released.add(t);
  };
  return { k, released };
}

describe('vision tower plumbing', () => {
  it('loads every weight and refuses a missing or mis-shaped one', () => {
    const { k, released } = trackingKernels();
    const w = loadVisionWeights(k, hostWeights(), CFG);
    expect(w.blocks).toHaveLength(1);
    releaseVisionWeights(k, w);
    expect(released.size).toBe(5 + 12);

    const missing = hostWeights();
    missing.delete('vision.blocks.0.fc1.bias');
    expect(() => loadVisionWeights(k, missing, CFG)).toThrow(/vision\.blocks\.0\.fc1\.bias is missing/);
    const wrong = hostWeights();
    wrong.set('vision.pos_emb', encodeWeight(randn(120, 9), [5, 3, 8], 'bf16'));
    expect(() => loadVisionWeights(k, wrong, CFG)).toThrow(/vision\.pos_emb has shape \[5,3,8\].*\[3,5,8\]/);
  });

  it('PosEmbCache: one table per grids list, evicts (and releases) the oldest, clear releases the rest', () => {
    const { k, released } = trackingKernels();
    const w = loadVisionWeights(k, hostWeights(), CFG);
    const cache = new PosEmbCache(2);
    const a = cache.get(k, w.posEmb, [{ h: 2, w: 2 }]);
    expect(cache.get(k, w.posEmb, [{ h: 2, w: 2 }])).toBe(a);
    const b = cache.get(k, w.posEmb, [{ h: 2, w: 4 }]);
    const c = cache.get(k, w.posEmb, [
      { h: 2, w: 2 },
      { h: 2, w: 4 },
    ]);
    expect(released.has(a)).toBe(true);
    expect(released.has(b) || released.has(c)).toBe(false);
    cache.clear(k);
    expect(released.has(b) && released.has(c)).toBe(true);
  });

  it('encodeImages: same result with or without the cache; frees its intermediates; checks the input shape', async () => {
    const { k, released } = trackingKernels();
    const w = loadVisionWeights(k, hostWeights(), CFG);
    const grids = [{ h: 2, w: 2 }];
    const px = k.upload(randn(4 * 12, 5), [4, 12]);
    const plain = encodeImages(k, w, CFG, px, grids);
    const cache = new PosEmbCache();
    const cached = encodeImages(k, w, CFG, px, grids, cache);
    expect(Array.from(await k.read(cached))).toEqual(Array.from(await k.read(plain)));
    expect(plain.shape).toEqual([4, 8]);
    expect(released.has(px) || released.has(plain) || released.has(cached)).toBe(false);
    expect(() => encodeImages(k, w, CFG, px, [{ h: 2, w: 4 }])).toThrow(/must be \[8, 12\]/);
  });
});
