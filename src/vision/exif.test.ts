// EXIF Orientation neutralising for JPEG (APP1, both byte orders) and WebP (EXIF chunk).
import { describe, expect, it } from 'vitest';
import { neutralizeExifOrientation } from './exif.ts';

/** TIFF block with IFD0 = [ImageWidth LONG, Orientation SHORT]. */
function tiff(little: boolean, orientation: number): number[] {
  const u16 = (v: number) => (little ? [v & 255, v >> 8] : [v >> 8, v & 255]);
  const u32 = (v: number) =>
    little
      ? [v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24]
      : [v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255];
  return [
    ...(little ? [0x49, 0x49] : [0x4d, 0x4d]),
    ...u16(42),
    ...u32(8),
    ...u16(2),
    ...u16(0x0100),
    ...u16(4),
    ...u32(1),
    ...u32(640),
    ...u16(0x0112),
    ...u16(3),
    ...u32(1),
    ...u16(orientation),
    0,
    0,
    ...u32(0),
  ];
}

function jpeg(little: boolean, orientation: number): Uint8Array {
  const app0 = [0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff(little, orientation)];
  const app1 = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  return new Uint8Array([0xff, 0xd8, ...app0, ...app1, 0xff, 0xda, 0, 2, 9, 9, 0xff, 0xd9]);
}

function webp(orientation: number): Uint8Array {
  const exif = tiff(true, orientation);
  const chunk = [0x45, 0x58, 0x49, 0x46, exif.length, 0, 0, 0, ...exif];
  const vp8x = [0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const body = [0x57, 0x45, 0x42, 0x50, ...vp8x, ...chunk];
  return new Uint8Array([0x52, 0x49, 0x46, 0x46, body.length, 0, 0, 0, ...body]);
}

describe('neutralizeExifOrientation', () => {
  it.each([true, false])(
    'JPEG, little-endian TIFF = %s: orientation 6 → 1, nothing else changes',
    (little) => {
      const src = jpeg(little, 6);
      const out = neutralizeExifOrientation(src)!;
      expect(out).not.toBeNull();
      const diff = Array.from(out)
        .map((v, i) => (v !== src[i] ? i : -1))
        .filter((i) => i >= 0);
      expect(diff.length).toBe(1); // only the low byte of the SHORT changes from 6 to 1
      expect(out[diff[0]]).toBe(1);
      expect(neutralizeExifOrientation(out)).toBeNull();
      expect(src[diff[0]]).toBe(6); // input untouched
    },
  );

  it('WebP EXIF chunk', () => {
    const out = neutralizeExifOrientation(webp(8))!;
    expect(out).not.toBeNull();
    expect(neutralizeExifOrientation(out)).toBeNull();
  });

  it('leaves images without a tag, with orientation 1, or truncated alone', () => {
    expect(neutralizeExifOrientation(jpeg(true, 1))).toBeNull();
    expect(neutralizeExifOrientation(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeNull();
    const full = jpeg(false, 3);
    for (let cut = 0; cut < full.length; cut++)
      expect(() => neutralizeExifOrientation(full.slice(0, cut))).not.toThrow();
    expect(neutralizeExifOrientation(new Uint8Array([137, 80, 78, 71]))).toBeNull();
  });
});
