// decode.ts in Node: the module loads without browser APIs, decodes PNG bytes/Blobs/ImageData-likes,
// and refuses what needs a browser decoder or is too large with ImageError.
import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { decodeImage } from './decode.ts';
import { encodePng } from './png_encode.ts';

const samples = Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);
const png = () => encodePng({ width: 5, height: 3, colorType: 2, bitDepth: 8, samples, filter: 'cycle' });
const want = Array.from({ length: 15 }, (_, p) => [
  samples[p * 3],
  samples[p * 3 + 1],
  samples[p * 3 + 2],
  255,
]).flat();

async function imageError(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(isKimiVLError(e, 'ImageError'), String(e)).toBe(true);
  return (e as Error).message;
}

describe('decodeImage (Node)', () => {
  it('decodes PNG from Uint8Array, ArrayBuffer and Blob identically', async () => {
    const bytes = await png();
    for (const input of [bytes, bytes.slice().buffer, new Blob([bytes as Uint8Array<ArrayBuffer>])]) {
      const img = await decodeImage(input);
      expect([img.width, img.height, img.pilMode]).toEqual([5, 3, 'RGB']);
      expect(Array.from(img.data)).toEqual(want);
    }
  });

  it('passes ImageData-like pixels through after checking their size', async () => {
    const data = new Uint8ClampedArray(want);
    const img = await decodeImage({ width: 5, height: 3, data });
    expect(img.data).toBe(data);
    expect(await imageError(decodeImage({ width: 4, height: 3, data }))).toMatch(/needs 48/);
    expect(await imageError(decodeImage({ width: 20000, height: 1, data }))).toMatch(/16384 px a side/);
  });

  it('refuses non-PNG bytes without a browser decoder, and unknown inputs', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0]);
    expect(await imageError(decodeImage(jpeg))).toMatch(/createImageBitmap|convert it to PNG/);
    expect(await imageError(decodeImage(42 as unknown as Uint8Array))).toMatch(/unsupported image input/);
  });

  it('reports fetch failures as ImageError', async () => {
    expect(await imageError(decodeImage('http://127.0.0.1:9/nothing.png'))).toMatch(/could not fetch/);
  });
});
