// The in_token_limit resize rule, padding, normalisation and patch layout (spec §4.1–§4.6).
import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import type { RgbaImage } from './image.ts';
import { type PreprocessConfig, planImage, preprocessImage, preprocessImages } from './preprocess.ts';

const cfg = (inTokenLimit: number): PreprocessConfig => ({
  patchSize: 14,
  inTokenLimit,
  mergeKernelSize: [2, 2],
  padInput: true,
  imageMean: [0.5, 0.5, 0.5],
  imageStd: [0.5, 0.5, 0.5],
});

/** Pixel (x, y) channel c = (x·7 + y·13 + c·101) mod 256, opaque. */
function pattern(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 4 + c] = (x * 7 + y * 13 + c * 101) % 256;
      data[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { width, height, data };
}

describe('planImage (spec §4.6 token counts)', () => {
  it.each([
    // [W, H, L, resized W×H, padded W×H, grid h×w, tokens]
    [1024, 768, 4096, [1024, 768], [1036, 784], [56, 74], 1036],
    [224, 224, 4096, [224, 224], [224, 224], [16, 16], 64],
    [100, 50, 4096, [100, 50], [112, 56], [4, 8], 8],
    [4000, 3000, 4096, [1036, 777], [1036, 784], [56, 74], 1036],
    [1920, 1080, 16384, [1920, 1080], [1932, 1092], [78, 138], 2691],
    // §4.1 note: the patch count after resize + pad can exceed L.
    [1920, 1080, 4096, [1196, 672], [1204, 672], [48, 86], 1032],
    // Golden cases: 200×150 with L=64 and 48.
    [200, 150, 64, [135, 101], [140, 112], [8, 10], 20],
  ] as const)('%i×%i, L=%i', (w, h, limit, resized, padded, grid, tokens) => {
    const plan = planImage(w, h, cfg(limit));
    expect(plan.resizedWH).toEqual(resized);
    expect(plan.paddedWH).toEqual(padded);
    expect([plan.grid.h, plan.grid.w]).toEqual(grid);
    expect(plan.nTokens).toBe(tokens);
  });

  it('resizes only when ⌊W/14⌋·⌊H/14⌋ exceeds the limit (equality does not)', () => {
    expect(planImage(112, 112, cfg(64)).resizedWH).toEqual([112, 112]); // 8·8 = 64
    expect(planImage(125, 125, cfg(64)).resizedWH).toEqual([125, 125]); // still 8·8 (floor)
    expect(planImage(126, 112, cfg(64)).resizedWH).not.toEqual([126, 112]); // 9·8 = 72 > 64
    // s = √(64/72) = 0.9428…: int(126·s) = 118, int(112·s) = 105.
    expect(planImage(126, 112, cfg(64)).resizedWH).toEqual([118, 105]);
    // Images smaller than one patch are never resized, only padded.
    expect(planImage(5, 3, cfg(1)).paddedWH).toEqual([28, 28]);
  });

  it('refuses grids MoonViT cannot position and pad_input=false', () => {
    const big = () => planImage(7200, 100, cfg(1_000_000));
    expect(big).toThrow(/patch grid/);
    try {
      big();
    } catch (e) {
      expect(isKimiVLError(e, 'ImageError')).toBe(true);
    }
    expect(() => planImage(28, 28, { ...cfg(64), padInput: false })).toThrow(/pad_input/);
  });
});

describe('preprocessImage', () => {
  it('normalises (v/255 − 0.5)/0.5 in float32 and pads with −1', () => {
    const out = preprocessImage(pattern(20, 10), cfg(64));
    expect(out.grid).toEqual({ h: 2, w: 2 });
    expect(out.pixelValues.length).toBe(4 * 3 * 14 * 14);
    // Patch 0, channel 0, (y=1, x=2): byte 2·7 + 1·13 = 27.
    const f = Math.fround;
    expect(out.pixelValues[1 * 14 + 2]).toBe(f(f(f(27 / 255) - 0.5) / 0.5));
    // Padding (x ≥ 20 or y ≥ 10) is black → −1 exactly.
    expect(out.pixelValues[3 * 588 + 0]).toBe(-1);
    const extremes = preprocessImage(
      { width: 1, height: 1, data: new Uint8ClampedArray([0, 255, 128, 255]) },
      cfg(64),
    );
    expect(Array.from(extremes.pixelValues.subarray(0, 588).filter((_, i) => i % 196 === 0))).toEqual([
      -1,
      1,
      f(f(f(128 / 255) - 0.5) / 0.5),
    ]);
  });

  it('lays patches out [row-major patch][channel][y][x]', () => {
    const img = pattern(42, 28); // padded 56×28 → grid 2×4
    const { pixelValues, grid } = preprocessImage(img, cfg(64));
    expect(grid).toEqual({ h: 2, w: 4 });
    const norm = (v: number) => Math.fround(Math.fround(Math.fround(v / 255) - 0.5) / 0.5);
    for (let gy = 0; gy < 2; gy++) {
      for (let gx = 0; gx < 4; gx++) {
        for (const [c, ky, kx] of [
          [0, 0, 0],
          [1, 5, 13],
          [2, 13, 7],
        ]) {
          const x = gx * 14 + kx;
          const y = gy * 14 + ky;
          const want = x < 42 ? norm((x * 7 + y * 13 + c * 101) % 256) : -1;
          expect(
            pixelValues[(gy * 4 + gx) * 588 + c * 196 + ky * 14 + kx],
            `${gy},${gx},${c},${ky},${kx}`,
          ).toBe(want);
        }
      }
    }
  });

  it('uses per-channel mean and std', () => {
    const c = {
      ...cfg(64),
      imageMean: [0.48145466, 0.4578275, 0.40821073] as [number, number, number],
      imageStd: [0.26862954, 0.26130258, 0.27577711] as [number, number, number],
    };
    const { pixelValues } = preprocessImage(
      { width: 1, height: 1, data: new Uint8ClampedArray([200, 200, 200, 255]) },
      c,
    );
    const f = Math.fround;
    for (let ch = 0; ch < 3; ch++) {
      expect(pixelValues[ch * 196]).toBe(f(f(f(200 / 255) - f(c.imageMean[ch])) / f(c.imageStd[ch])));
    }
  });

  it('pads palette images with palette entry 0, as torchvision pads the index', () => {
    const img: RgbaImage = { ...pattern(14, 14), pilMode: 'P', padRgb: [255, 255, 255] };
    const out = preprocessImage(img, cfg(64));
    expect(out.pixelValues[1 * 588]).toBe(1); // patch (0, 1) is all padding → white → +1
  });

  it('preprocessImages concatenates in order and reports grids and token counts', () => {
    const a = pattern(56, 84);
    const b = pattern(28, 28);
    const batch = preprocessImages([a, b], cfg(64));
    expect(batch.grids).toEqual([
      { h: 6, w: 4 },
      { h: 2, w: 2 },
    ]);
    expect(batch.nTokens).toEqual([6, 1]);
    const alone = preprocessImage(b, cfg(64)).pixelValues;
    expect(Array.from(batch.pixelValues.subarray(24 * 588))).toEqual(Array.from(alone));
    expect(batch.pixelValues.length).toBe(28 * 588);
    expect(batch.shape).toEqual([28, 588]); // one row per patch, as the vision tower takes them
  });
});
