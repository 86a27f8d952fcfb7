// PNG decoder: every color type × bit depth × filter × interlace round trip through the independent
// encoder in png_encode.ts, then malformed inputs (must reject with ImageError, never hang).
import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { mulberry32 } from '../testing/random.ts';
import { decodePng, isPng } from './png.ts';
import { encodePng, type PngEncodeOptions } from './png_encode.ts';

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

/** What the decoder must produce, written from the PNG spec: gray scaled to 8 bits, 16-bit → high byte. */
function expectedRgba(o: PngEncodeOptions): Uint8Array {
  const ch = CHANNELS[o.colorType];
  const max = 2 ** o.bitDepth - 1;
  const to8 = (v: number) => (o.bitDepth === 16 ? v >> 8 : Math.round((v * 255) / max));
  const out = new Uint8Array(o.width * o.height * 4);
  for (let p = 0; p < o.width * o.height; p++) {
    const s = Array.from({ length: ch }, (_, c) => o.samples[p * ch + c]);
    let rgba: number[];
    if (o.colorType === 3) {
      const pal = o.palette!;
      const alpha = o.trns && s[0] < o.trns.length ? o.trns[s[0]] : 255;
      rgba = [pal[s[0] * 3], pal[s[0] * 3 + 1], pal[s[0] * 3 + 2], alpha];
    } else if (o.colorType === 0 || o.colorType === 4) {
      const key = o.trns ? (o.trns[0] << 8) | o.trns[1] : -1;
      const a = o.colorType === 4 ? to8(s[1]) : s[0] === key ? 0 : 255;
      // 16-bit gray is Pillow's "I;16": convert("RGB") clips to 255 (Convert.c I16_RGB).
      const g = o.colorType === 0 && o.bitDepth === 16 ? Math.min(s[0], 255) : to8(s[0]);
      rgba = [g, g, g, a];
    } else {
      const t = o.trns;
      const isKey =
        t && s[0] === ((t[0] << 8) | t[1]) && s[1] === ((t[2] << 8) | t[3]) && s[2] === ((t[4] << 8) | t[5]);
      rgba = [to8(s[0]), to8(s[1]), to8(s[2]), o.colorType === 6 ? to8(s[3]) : isKey ? 0 : 255];
    }
    out.set(rgba, p * 4);
  }
  return out;
}

/** Random image for a color type / depth; the first pixel's value doubles as the tRNS key. */
function randomImage(
  colorType: 0 | 2 | 3 | 4 | 6,
  bitDepth: 1 | 2 | 4 | 8 | 16,
  width: number,
  height: number,
  seed: number,
) {
  const r = mulberry32(seed);
  const ch = CHANNELS[colorType];
  const max = colorType === 3 ? Math.min(2 ** bitDepth, 200) - 1 : 2 ** bitDepth - 1;
  const samples = Array.from({ length: width * height * ch }, () => Math.floor(r() * (max + 1)));
  const o: PngEncodeOptions = { width, height, colorType, bitDepth, samples };
  if (colorType === 3) {
    o.palette = new Uint8Array(Array.from({ length: (max + 1) * 3 }, () => Math.floor(r() * 256)));
    o.trns = new Uint8Array(Array.from({ length: Math.ceil((max + 1) / 2) }, () => Math.floor(r() * 256)));
  } else if (colorType === 0 || colorType === 2) {
    o.trns = new Uint8Array(samples.slice(0, ch).flatMap((v) => [v >> 8, v & 255]));
  }
  return o;
}

const COMBOS: [0 | 2 | 3 | 4 | 6, 1 | 2 | 4 | 8 | 16][] = [
  [0, 1],
  [0, 2],
  [0, 4],
  [0, 8],
  [0, 16],
  [2, 8],
  [2, 16],
  [3, 1],
  [3, 2],
  [3, 4],
  [3, 8],
  [4, 8],
  [4, 16],
  [6, 8],
  [6, 16],
];
const MODES = { 0: 'L', 2: 'RGB', 3: 'P', 4: 'LA', 6: 'RGBA' } as const;

describe('decodePng round trips', () => {
  for (const [colorType, bitDepth] of COMBOS) {
    it(`color type ${colorType}, ${bitDepth}-bit: all filters, plain and Adam7, odd sizes`, async () => {
      let seed = colorType * 100 + bitDepth;
      for (const [w, h] of [
        [1, 1],
        [3, 5],
        [9, 7],
        [17, 13],
      ]) {
        for (const interlace of [false, true]) {
          for (const filter of [0, 1, 2, 3, 4, 'cycle'] as const) {
            const o = {
              ...randomImage(colorType, bitDepth, w, h, seed++),
              interlace,
              filter,
              idatChunkBytes: 7,
            };
            const img = await decodePng(await encodePng(o));
            const where = `${w}×${h} interlace=${interlace} filter=${filter}`;
            expect([img.width, img.height], where).toEqual([w, h]);
            expect(Array.from(img.data), where).toEqual(Array.from(expectedRgba(o)));
            const mode =
              colorType === 0 && bitDepth === 1
                ? '1'
                : colorType === 0 && bitDepth === 16
                  ? 'I;16'
                  : MODES[colorType];
            expect(img.pilMode).toBe(mode);
          }
        }
      }
    });
  }

  it('reports palette entry 0 as the padding color of palette images only', async () => {
    const pal = await decodePng(await encodePng(randomImage(3, 8, 4, 4, 1)));
    const o = randomImage(3, 8, 4, 4, 1);
    expect(pal.padRgb).toEqual([o.palette![0], o.palette![1], o.palette![2]]);
    expect((await decodePng(await encodePng(randomImage(2, 8, 4, 4, 1)))).padRgb).toBeUndefined();
  });

  it('16-bit gray clips like Pillow I;16 → RGB instead of keeping the high byte', async () => {
    const samples = [0, 1, 255, 256, 65535];
    const img = await decodePng(
      await encodePng({ width: 5, height: 1, colorType: 0, bitDepth: 16, samples }),
    );
    expect(Array.from(img.data).filter((_, i) => i % 4 === 0)).toEqual([0, 1, 255, 255, 255]);
    expect(img.pilMode).toBe('I;16');
  });

  it('recognises the signature', async () => {
    expect(isPng(await encodePng(randomImage(2, 8, 2, 2, 3)))).toBe(true);
    expect(isPng(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0]))).toBe(false);
  });
});

async function expectImageError(bytes: Uint8Array, message: RegExp): Promise<void> {
  const err = await decodePng(bytes).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isKimiVLError(err, 'ImageError'), `expected ImageError, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toMatch(message);
}

describe('decodePng rejects malformed input', () => {
  const good = () => encodePng({ ...randomImage(2, 8, 16, 16, 42), filter: 'cycle' });

  it('bad signature, truncation at every chunk boundary and inside data', async () => {
    const png = await good();
    await expectImageError(png.slice(1), /signature/);
    for (const cut of [8, 20, 33, 40, 50, png.length - 20, png.length - 12, png.length - 1]) {
      await expectImageError(png.slice(0, cut), /truncated|runs past|no image data|IHDR/);
    }
  });

  it('corrupt or short compressed data', async () => {
    const png = await good();
    const idat = findChunk(png, 'IDAT');
    const corrupt = png.slice();
    corrupt.fill(0xaa, idat + 8, idat + 20);
    await expectImageError(corrupt, /corrupt|truncated|filter/);
    // A valid zlib stream that holds fewer bytes than the header promises.
    const tall = patchU32(png, 8 + 8 + 4, 40);
    await expectImageError(tall, /truncated/);
  });

  it('oversized, empty and invalid headers before allocating', async () => {
    const png = await good();
    await expectImageError(patchU32(png, 16, 100_000), /limit is 16384/);
    await expectImageError(patchU32(patchU32(png, 16, 16000), 20, 16000), /MP in total/);
    await expectImageError(patchU32(png, 16, 0), /invalid image size/);
    const badDepth = png.slice();
    badDepth[24] = 3;
    await expectImageError(badDepth, /bit depth 3/);
    const badFilter = png.slice();
    badFilter[28] = 2;
    await expectImageError(badFilter, /interlace/);
  });

  it('unknown row filter type and unknown critical chunk', async () => {
    const raw = await encodePng({ ...randomImage(0, 8, 3, 2, 5), filter: 0 });
    // Re-encode with filter byte 7 by hand: uncompressed rows, then zlib via CompressionStream.
    const rows = new Uint8Array([7, 1, 2, 3, 0, 4, 5, 6]);
    const z = new Uint8Array(
      await new Response(
        new Blob([rows]).stream().pipeThrough(new CompressionStream('deflate')),
      ).arrayBuffer(),
    );
    const idat = findChunk(raw, 'IDAT');
    const withBadFilter = concat(
      raw.subarray(0, idat),
      chunkBytes('IDAT', z),
      chunkBytes('IEND', new Uint8Array(0)),
    );
    await expectImageError(withBadFilter, /row filter type 7/);
    const critical = concat(raw.subarray(0, 33), chunkBytes('ABCD', new Uint8Array(4)), raw.subarray(33));
    await expectImageError(critical, /unknown critical chunk/);
    const ancillary = concat(raw.subarray(0, 33), chunkBytes('abCD', new Uint8Array(4)), raw.subarray(33));
    expect((await decodePng(ancillary)).width).toBe(3);
  });

  it('random byte corruption: decodes or throws ImageError, never anything else', async () => {
    const png = await good();
    const r = mulberry32(7);
    for (let t = 0; t < 300; t++) {
      const bad = png.slice();
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++)
        bad[8 + Math.floor(r() * (bad.length - 8))] = Math.floor(r() * 256);
      const result = await decodePng(bad).then(
        (img) => img,
        (e: unknown) => e,
      );
      if (result instanceof Error) expect(isKimiVLError(result, 'ImageError'), String(result)).toBe(true);
      else expect((result as { data: Uint8ClampedArray }).data.length).toBe(16 * 16 * 4);
    }
  });
});

function findChunk(png: Uint8Array, type: string): number {
  let pos = 8;
  while (pos < png.length) {
    const len = new DataView(png.buffer, png.byteOffset).getUint32(pos);
    if (String.fromCharCode(...png.subarray(pos + 4, pos + 8)) === type) return pos;
    pos += 12 + len;
  }
  throw new Error(`no ${type}`);
}

function patchU32(png: Uint8Array, at: number, value: number): Uint8Array {
  const out = png.slice();
  new DataView(out.buffer).setUint32(at, value);
  return out;
}

/** A chunk with a zero CRC (the decoder does not check CRCs). */
function chunkBytes(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  new DataView(out.buffer).setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
