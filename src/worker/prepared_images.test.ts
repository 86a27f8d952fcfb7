// Images prepared once per content (prepared_images.ts): the same file, bytes or pixels are decoded and
// preprocessed once; what comes back equals a fresh decode + preprocess; failures keep nothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO } from '../golden/node_io.ts';
import { readCase } from '../golden/reader.ts';
import { decodeImage } from '../vision/decode.ts';
import { preprocessImagesWithin } from '../vision/image_budget.ts';
import { parsePreprocessorConfig } from '../vision/preprocessor_config.ts';
import { PreparedImageCache } from './prepared_images.ts';

const c = await readCase(nodeGoldenIO, `${GOLDEN_ROOT}/cases/a-one-image`);
const png = readFileSync(c.images[0]!);
const cfg = parsePreprocessorConfig(
  JSON.parse(readFileSync(`${GOLDEN_ROOT}/models/tiny-a/preprocessor_config.json`, 'utf8')),
);
const rgba = (width: number, height: number, seed: number) => ({
  width,
  height,
  data: Uint8ClampedArray.from({ length: width * height * 4 }, (_, i) => (i * 31 + seed) & 255),
});

describe('PreparedImageCache', () => {
  it('decodes the same file once, whatever object carries it, and returns what a fresh preprocess gives', async () => {
    const cache = new PreparedImageCache(cfg);
    const a = await cache.prepare(new Uint8Array(png), 0);
    const b = await cache.prepare(new Uint8Array(png).buffer, 0);
    const blob = await cache.prepare(new Blob([new Uint8Array(png)]), 0);
    expect(cache.prepared).toBe(1);
    expect(b).toBe(a);
    expect(blob).toBe(a);
    const fresh = preprocessImagesWithin([await decodeImage(new Uint8Array(png))], cfg);
    expect(a.grid).toEqual(fresh.grids[0]);
    expect(a.pixelValues).toEqual(fresh.pixelValues);
  });

  it('keys by maxImageTokens and by every pixel, and evicts the least recently used', async () => {
    const cache = new PreparedImageCache(cfg, 2);
    const full = await cache.prepare(new Uint8Array(png), 0);
    const small = await cache.prepare(new Uint8Array(png), 0, 1);
    expect(cache.prepared).toBe(2);
    expect(small.nTokens).toBeLessThanOrEqual(1);
    expect(small.nTokens).toBeLessThan(full.nTokens);
    const img = rgba(40, 30, 1);
    await cache.prepare(img as unknown as ImageData, 0); // evicts the full-size png (oldest)
    expect(cache.prepared).toBe(3);
    const changed = rgba(40, 30, 1);
    changed.data[17] = (changed.data[17]! + 1) & 255;
    await cache.prepare(changed as unknown as ImageData, 0);
    expect(cache.prepared).toBe(4);
    await cache.prepare(new Uint8Array(png), 0);
    expect(cache.prepared).toBe(5); // it was evicted
    expect(cache.size).toBe(2);
  });

  it('a failed image is an ImageError naming it and keeps nothing; a bad budget is a ConfigError', async () => {
    const cache = new PreparedImageCache(cfg);
    const junk = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    await expect(cache.prepare(junk, 1)).rejects.toMatchObject({
      name: 'ImageError',
      message: expect.stringContaining('image 2 could not be read'),
    });
    expect(cache.size).toBe(0);
    await expect(cache.prepare(new Uint8Array(png), 0, 0)).rejects.toMatchObject({ name: 'ConfigError' });
    expect(cache.prepared).toBe(0);
  });
});
