// Images encoded one at a time (so a cancel lands between images) give the batched pass's features,
// and a cancel between images stops the encoding (tiny-a golden model, CPU reference).
import { beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO as io } from '../golden/node_io.ts';
import { loadGoldenModel, readCase } from '../golden/reader.ts';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { KimiVLModel, type PixelRows } from '../model/kimi_vl.ts';
import { mulberry32 } from '../testing/random.ts';
import { encodeImagesOneByOne } from './image_features.ts';

const k = createRefKernels();
let model: KimiVLModel;
let images: PixelRows;

beforeAll(async () => {
  const c = await readCase(io, `${GOLDEN_ROOT}/cases/a-text-only`);
  const m = await loadGoldenModel(io, c.modelDir);
  model = KimiVLModel.load(k, m.config, m.host);
  const p = m.config.vision.patchSize;
  const grids = [
    { h: 4, w: 4 },
    { h: 2, w: 6 },
    { h: 6, w: 2 },
  ];
  const rows = grids.reduce((n, g) => n + g.h * g.w, 0);
  const width = 3 * p * p;
  const rand = mulberry32(17);
  const pixelValues = Float32Array.from({ length: rows * width }, () => rand() * 2 - 1);
  images = { pixelValues, shape: [rows, width], grids };
});

describe('encodeImagesOneByOne (reference kernels)', () => {
  it('equals the batched encoding of three images', async () => {
    const batched = await k.read(model.imageFeatures(k, images));
    const t = await encodeImagesOneByOne(k, model, images, () => false);
    expect(t).not.toBeNull();
    expect(t!.shape).toEqual([batched.length / t!.shape[1]!, t!.shape[1]]);
    const one = await k.read(t!);
    let scale = 0;
    for (const v of batched) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    for (let i = 0; i < one.length; i++) worst = Math.max(worst, Math.abs(one[i]! - batched[i]!));
    expect(worst / scale).toBeLessThan(1e-6);
    k.release(t!);
  });

  it('a cancel after the first image stops before the second', async () => {
    let encoded = 0;
    const counting = {
      ...model,
      imageFeatures: (kk: typeof k, rows: PixelRows) => {
        encoded++;
        return model.imageFeatures(kk, rows);
      },
    };
    const t = await encodeImagesOneByOne(k, counting, images, () => encoded >= 1);
    expect(t).toBeNull();
    expect(encoded).toBe(1);
  });
});
