// Image reuse across turns (tiny-a golden model, CPU reference): a follow-up turn about the same images
// encodes nothing, prefills only its new rows and gives the tokens of a fresh prefill of the whole
// conversation; a prefix that diverged before the images takes their features from the feature cache; a
// changed image is encoded again and the cache stops reusing at its first row.
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../generate/generate.ts';
import { resolveGenerateOptions } from '../generate/params.ts';
import { TimingRecorder } from '../generate/timings.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO as io } from '../golden/node_io.ts';
import { loadGoldenModel, readCase } from '../golden/reader.ts';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { KimiVLModel, type PixelRows } from '../model/kimi_vl.ts';
import type { KvCache } from '../model/kv_cache.ts';
import { mulberry32 } from '../testing/random.ts';
import { encodeImagesReusing, ImageFeatureCache, imageHash } from './image_features_cache.ts';

const k = createRefKernels();
let model: KimiVLModel;
let images: PixelRows;
let pad: number;
const grids = [
  { h: 4, w: 4 },
  { h: 2, w: 6 },
];

beforeAll(async () => {
  const c = await readCase(io, `${GOLDEN_ROOT}/cases/a-text-only`);
  const m = await loadGoldenModel(io, c.modelDir);
  model = KimiVLModel.load(k, m.config, m.host);
  pad = m.config.mediaPlaceholderTokenId;
  const p = m.config.vision.patchSize;
  const rows = grids.reduce((n, g) => n + g.h * g.w, 0);
  const rand = mulberry32(29);
  const pixelValues = Float32Array.from({ length: rows * 3 * p * p }, () => rand() * 2 - 1);
  images = { pixelValues, shape: [rows, 3 * p * p], grids };
});

/** text, image 1 (4 rows), text, image 2 (3 rows), text. */
const prompt = () => [5, 6, 7, ...Array(4).fill(pad), 8, 9, ...Array(3).fill(pad), 10, 11];

/** One turn as the engine runs it: reuse-aware image features, then generate (greedy). */
async function turn(cache: KvCache, fc: ImageFeatureCache, ids: number[], rows: PixelRows = images) {
  const reused = await encodeImagesReusing(k, model, cache, ids, rows, () => false, fc);
  if (!reused) throw new Error('cancelled');
  const firstLogits: Float32Array[] = [];
  try {
    const r = await generate(k, model, cache, {
      ids,
      features: reused.features,
      options: resolveGenerateOptions({ temperature: 0, maxTokens: 4 }, false),
      stopIds: [],
      isCancelled: () => false,
      onToken: () => {},
      onLogits: async (t, step) => void (step === 0 && firstLogits.push(await k.read(t))),
      timings: new TimingRecorder(),
    });
    return { ...r, encoded: reused.encoded, logits: firstLogits[0]! };
  } finally {
    if (reused.features) k.release(reused.features);
  }
}

/** A fresh cache and feature cache: the whole conversation prefilled from scratch. */
async function fresh(ids: number[], rows: PixelRows = images) {
  const cache = model.newCache(k, 96);
  const fc = new ImageFeatureCache(k);
  try {
    return await turn(cache, fc, ids, rows);
  } finally {
    cache.release(k);
    fc.clear();
  }
}

function expectClose(got: Float32Array, want: Float32Array) {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  }
  expect(worst / scale).toBeLessThan(1e-5);
}

describe('image reuse across turns (reference kernels)', () => {
  it('the image hash depends on every pixel and on the grid', () => {
    const a = Float32Array.from([1, 2, 3, 4]);
    const b = Float32Array.from([1, 2, 3, 4.000001]);
    expect(imageHash(a, { h: 1, w: 1 })).toBe(imageHash(a.slice(), { h: 1, w: 1 }));
    expect(imageHash(a, { h: 1, w: 1 })).not.toBe(imageHash(b, { h: 1, w: 1 }));
    expect(imageHash(a, { h: 1, w: 2 })).not.toBe(imageHash(a, { h: 2, w: 1 }));
  });

  it('a follow-up turn encodes nothing, prefills only its new rows, and equals a fresh prefill', async () => {
    const cache = model.newCache(k, 96);
    const fc = new ImageFeatureCache(k);
    const ids1 = prompt();
    const t1 = await turn(cache, fc, ids1);
    expect(t1.encoded).toBe(2);
    expect(t1.cachedPromptTokens).toBe(0);

    const ids2 = [...ids1, ...t1.tokens, 12, 13, 14];
    const t2 = await turn(cache, fc, ids2);
    expect(t2.encoded).toBe(0);
    // The cache holds the first prompt and all generated ids but the last (never fed): only those rows
    // and the new text are prefilled.
    expect(t2.cachedPromptTokens).toBe(ids1.length + t1.tokens.length - 1);
    expect(ids2.length - t2.cachedPromptTokens).toBe(1 + 3);

    const f2 = await fresh(ids2);
    expect(f2.encoded).toBe(2);
    expect(t2.tokens).toEqual(f2.tokens);
    expectClose(t2.logits, f2.logits);

    // An edited first message: nothing of the KV cache is reusable, but the images' features are.
    const ids3 = [20, ...ids2.slice(1)];
    const t3 = await turn(cache, fc, ids3);
    expect(t3.cachedPromptTokens).toBe(0);
    expect(t3.encoded).toBe(0);
    const f3 = await fresh(ids3);
    expect(t3.tokens).toEqual(f3.tokens);
    expectClose(t3.logits, f3.logits);
    cache.release(k);
    fc.clear();
  });

  it('a changed image is encoded again and reuse stops at its first row', async () => {
    const cache = model.newCache(k, 96);
    const fc = new ImageFeatureCache(k);
    const ids = prompt();
    await turn(cache, fc, ids);
    const changed = { ...images, pixelValues: images.pixelValues.slice() };
    changed.pixelValues[16 * images.shape[1] + 5]! += 0.5; // a pixel of the second image
    const t = await turn(cache, fc, ids, changed);
    expect(t.encoded).toBe(1);
    expect(t.cachedPromptTokens).toBe(3 + 4 + 2); // text, image 1, text: up to image 2's first row
    const f = await fresh(ids, changed);
    expect(t.tokens).toEqual(f.tokens);
    expectClose(t.logits, f.logits);
    cache.release(k);
    fc.clear();
  });
});
