// Neutralises the EXIF Orientation tag in JPEG and WebP bytes before a browser decodes them.
// `PIL.Image.open` never rotates, but Chromium's createImageBitmap applies EXIF orientation even with
// `imageOrientation: 'none'` (measured in preprocess.browser.test.ts: a 40×20 JPEG tagged 6 came back 20×40),
// so we rewrite the tag to 1 ("as stored") in a copy of the file instead of relying on the option.
// EXIF/TIFF layout: CIPA DC-008 §4.5 (TIFF header, IFD0 entries of 12 bytes, tag 0x0112 SHORT).

const ORIENTATION_TAG = 0x0112;

/** Returns a copy of `bytes` with Orientation set to 1, or null when there is no tag to change. */
export function neutralizeExifOrientation(bytes: Uint8Array): Uint8Array | null {
  const tiff = findTiff(bytes);
  if (tiff === null) return null;
  const at = orientationValueOffset(bytes, tiff.start, tiff.end);
  if (at === null) return null;
  const little = bytes[tiff.start] === 0x49;
  const value = little ? bytes[at] | (bytes[at + 1] << 8) : (bytes[at] << 8) | bytes[at + 1];
  if (value === 1) return null;
  const out = bytes.slice();
  out[at] = little ? 1 : 0;
  out[at + 1] = little ? 0 : 1;
  return out;
}

/** [start, end) of the TIFF structure inside a JPEG APP1 "Exif" segment or a WebP EXIF chunk. */
function findTiff(b: Uint8Array): { start: number; end: number } | null {
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8) {
    let pos = 2;
    while (pos + 4 <= b.length && b[pos] === 0xff) {
      const marker = b[pos + 1];
      if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image: no more metadata
      const len = (b[pos + 2] << 8) | b[pos + 3];
      const end = Math.min(pos + 2 + len, b.length);
      if (marker === 0xe1 && hasExifPrefix(b, pos + 4)) return { start: pos + 10, end };
      if (len < 2) break;
      pos += 2 + len;
    }
    return null;
  }
  const ascii = (at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
  if (b.length >= 12 && ascii(0) === 'RIFF' && ascii(8) === 'WEBP') {
    let pos = 12;
    while (pos + 8 <= b.length) {
      const size = (b[pos + 4] | (b[pos + 5] << 8) | (b[pos + 6] << 16) | (b[pos + 7] << 24)) >>> 0;
      const start = pos + 8;
      const end = Math.min(start + size, b.length);
      if (ascii(pos) === 'EXIF') return hasExifPrefix(b, start) ? { start: start + 6, end } : { start, end };
      pos = start + size + (size & 1);
    }
  }
  return null;
}

function hasExifPrefix(b: Uint8Array, at: number): boolean {
  return (
    at + 6 <= b.length && b[at] === 0x45 && b[at + 1] === 0x78 && b[at + 2] === 0x69 && b[at + 3] === 0x66
  );
}

/** Absolute offset of the Orientation SHORT value in IFD0, or null. */
function orientationValueOffset(b: Uint8Array, start: number, end: number): number | null {
  if (start + 8 > end) return null;
  const little = b[start] === 0x49 && b[start + 1] === 0x49;
  if (!little && !(b[start] === 0x4d && b[start + 1] === 0x4d)) return null;
  const u16 = (at: number) => (little ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1]);
  const u32 = (at: number) =>
    little
      ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
      : ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  const ifd = start + u32(start + 4);
  if (ifd + 2 > end) return null;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return null;
    if (u16(entry) === ORIENTATION_TAG && u16(entry + 2) === 3) return entry + 8;
  }
  return null;
}
