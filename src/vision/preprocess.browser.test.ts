// Preprocessing in real Chromium (needs no GPU): golden PNGs fetched from the Vite server → our PNG
// decoder and, separately, Chromium's decoder (createImageBitmap + canvas) → preprocess → compare with
// pixel_values.bin. Also uses Chromium's decoder as an independent oracle for png.ts on generated PNGs.
// Golden root: ../shared/golden next to the repo root, served through Vite's /@fs/ (fs.allow ['..']).
// Text-only golden cases have nothing to preprocess and are not listed.
import { describe, expect, it } from 'vitest';
import { server } from 'vitest/browser';
import { browserGoldenIO, fsUrl } from '../golden/browser_io.ts';
import { joinPath } from '../golden/case.ts';
import { failures } from '../golden/compare.ts';
import { checkGoldenPixels } from '../golden/pixels.ts';
import { readCases, suiteCaseDirs } from '../golden/reader.ts';
import { mulberry32 } from '../testing/random.ts';
import { decodeImage, decodeWithBrowser } from './decode.ts';
import { decodePng } from './png.ts';
import { encodePng, type PngEncodeOptions } from './png_encode.ts';

const goldenRoot = joinPath(server.config.root, '../shared/golden');

const viaBrowser = (bytes: Uint8Array) =>
  decodeWithBrowser(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }));

/** Bytes that differ between two RGBA buffers, alpha included. */
function differingBytes(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

// Case names come from suite.json (a browser cannot list the cases folder).
const all = await readCases(browserGoldenIO, await suiteCaseDirs(browserGoldenIO, goldenRoot));
const withImages = all.filter((c) => c.images.length > 0).map((c) => [c.name, c.dir]);

describe('golden pixel_values in the browser', () => {
  it('finds the golden suite and its cases with images', () => {
    expect(all.length).toBeGreaterThan(0);
    expect(withImages.length).toBeGreaterThan(0);
  });

  for (const [decoder, decode] of [
    ['our PNG decoder', decodePng],
    ['Chromium decoder (createImageBitmap, no color conversion)', viaBrowser],
  ] as const) {
    it.each(withImages)(`%s: ${decoder}`, async (name, dir) => {
      const r = await checkGoldenPixels(browserGoldenIO, dir, decode);
      console.log(`${name} [${decoder}]: max |Δ| = ${r.pixelError}`);
      expect(failures(r.checks)).toEqual([]);
      expect(r.pixelError).toBeLessThanOrEqual(r.case.tolerance.pixelValuesMaxAbs);
    });
  }

  it('decodeImage from a URL, OffscreenCanvas, ImageBitmap, <canvas> and <img> all give the PNG bytes', async () => {
    const png = `${goldenRoot}/images/img5_130x61.png`;
    const url = fsUrl(png);
    const ours = await decodePng(await browserGoldenIO.readBytes(png));
    const fromUrl = await decodeImage(url);
    expect(differingBytes(fromUrl.data, ours.data)).toBe(0);
    expect(fromUrl.pilMode).toBe('RGB');
    const canvas = new OffscreenCanvas(ours.width, ours.height);
    canvas
      .getContext('2d')!
      .putImageData(new ImageData(ours.data as Uint8ClampedArray<ArrayBuffer>, ours.width), 0, 0);
    expect(differingBytes((await decodeImage(canvas)).data, ours.data)).toBe(0);
    const bitmap = await createImageBitmap(canvas);
    expect(differingBytes((await decodeImage(bitmap)).data, ours.data)).toBe(0);
    const element = document.createElement('canvas');
    [element.width, element.height] = [ours.width, ours.height];
    element.getContext('2d')!.drawImage(canvas, 0, 0);
    expect(differingBytes((await decodeImage(element)).data, ours.data)).toBe(0);
    const img = new Image();
    img.src = url; // not awaited: decodeImage waits for the load
    const fromImg = await decodeImage(img);
    expect([fromImg.width, fromImg.height]).toEqual([130, 61]);
    expect(differingBytes(fromImg.data, ours.data)).toBe(0);
  });
});

/** `n` seeded integer samples in [0, max] (the one seeded RNG, src/testing/random.ts). */
function randomSamples(n: number, max: number, seed: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => Math.floor(rand() * (max + 1)));
}

describe('png.ts against Chromium on generated opaque PNGs', () => {
  const cases: [string, Omit<PngEncodeOptions, 'samples' | 'width' | 'height'>, number][] = [
    ['RGB 8-bit, Paeth/cycle filters', { colorType: 2, bitDepth: 8, filter: 'cycle' }, 255],
    ['RGB 8-bit, Adam7', { colorType: 2, bitDepth: 8, interlace: true, filter: 'cycle' }, 255],
    ['gray 1-bit, Adam7', { colorType: 0, bitDepth: 1, interlace: true, filter: 'cycle' }, 1],
    ['gray 2-bit', { colorType: 0, bitDepth: 2, filter: 'cycle' }, 3],
    ['gray 4-bit', { colorType: 0, bitDepth: 4, filter: 'cycle' }, 15],
    ['gray 8-bit', { colorType: 0, bitDepth: 8, filter: 'cycle' }, 255],
    ['palette 4-bit, Adam7', { colorType: 3, bitDepth: 4, interlace: true, filter: 'cycle' }, 15],
  ];
  it.each(cases)('%s: identical bytes', async (_, opts, max) => {
    const [width, height] = [37, 23];
    const ch = opts.colorType === 2 ? 3 : 1;
    const o: PngEncodeOptions = {
      ...opts,
      width,
      height,
      samples: randomSamples(width * height * ch, max, 9),
    };
    if (opts.colorType === 3) o.palette = new Uint8Array(randomSamples(48, 255, 11));
    const png = await encodePng(o);
    expect(differingBytes((await decodePng(png)).data, (await viaBrowser(png)).data)).toBe(0);
  });

  it('16-bit and translucent images: Chromium (+ WebGL straight-alpha read) gives the same bytes (but gray 16)', async () => {
    const [width, height] = [31, 17];
    for (const [name, colorType, ch] of [
      ['RGB 16-bit', 2, 3],
      ['gray 16-bit', 0, 1],
      ['RGBA 8-bit', 6, 4],
      ['gray+alpha 8-bit', 4, 2],
      ['RGBA 16-bit', 6, 4],
    ] as const) {
      const bitDepth = name.includes('16') ? 16 : 8;
      const o: PngEncodeOptions = {
        width,
        height,
        colorType,
        bitDepth,
        samples: randomSamples(width * height * ch, 2 ** bitDepth - 1, 5),
      };
      const png = await encodePng(o);
      const a = (await decodePng(png)).data;
      const b = (await viaBrowser(png)).data;
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      console.log(`${name}: ${differingBytes(a, b)} of ${a.length} bytes differ, max |Δ| ${maxDiff}`);
      // 16-bit gray: Pillow ("I;16" → RGB) clips to 255, Chromium keeps the high byte; png.ts follows Pillow.
      if (name === 'gray 16-bit') expect(differingBytes(a, b)).toBeGreaterThan(0);
      else expect(differingBytes(a, b), name).toBe(0);
    }
  });
});

/** Inserts an APP1 Exif segment with Orientation = `orientation` right after the JPEG SOI marker. */
function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  // "Exif\0\0", big-endian TIFF header, one IFD entry: tag 0x0112 SHORT ×1 = orientation, next IFD 0.
  const tiff = [
    0x4d,
    0x4d,
    0,
    42,
    0,
    0,
    0,
    8,
    0,
    1,
    0x01,
    0x12,
    0,
    3,
    0,
    0,
    0,
    1,
    0,
    orientation,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const app1 = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  const out = new Uint8Array(jpeg.length + app1.length);
  out.set(jpeg.subarray(0, 2));
  out.set(app1, 2);
  out.set(jpeg.subarray(2), 2 + app1.length);
  return out;
}

describe('non-PNG inputs through the browser decoder', () => {
  it('JPEG decodes at its stored size; EXIF orientation is ignored like PIL.Image.open', async () => {
    const canvas = new OffscreenCanvas(40, 20);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#c83214';
    ctx.fillRect(0, 0, 40, 20);
    const jpeg = new Uint8Array(
      await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 1 })).arrayBuffer(),
    );
    const plain = await decodeImage(new Blob([jpeg], { type: 'image/jpeg' }));
    expect([plain.width, plain.height]).toEqual([40, 20]);
    expect(Math.abs(plain.data[0] - 0xc8)).toBeLessThanOrEqual(2);
    const rotatedFile = withExifOrientation(jpeg, 6); // "rotate 90° CW to display"
    const fromImage = await createImageBitmap(
      new Blob([rotatedFile as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }),
    );
    console.log(`EXIF orientation 6: default createImageBitmap gives ${fromImage.width}×${fromImage.height}`);
    const decoded = await decodeImage(
      new Blob([rotatedFile as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }),
    );
    console.log(
      `EXIF orientation 6: decodeImage (tag rewritten to 1) gives ${decoded.width}×${decoded.height}`,
    );
    expect([decoded.width, decoded.height]).toEqual([40, 20]);
  });

  it('undecodable bytes become ImageError', async () => {
    const err = await decodeImage(
      new Blob([new Uint8Array([0xff, 0xd8, 1, 2, 3])], { type: 'image/jpeg' }),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('ImageError');
  });
});
