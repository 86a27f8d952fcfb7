// PNG → straight RGBA8, byte-exact with what Pillow's `Image.open(...).convert("RGB")` sees, so the
// CLI, Node tests and workers reproduce the reference preprocessing without a browser image decoder.
// Supports every standard color type and bit depth, Adam7 interlace, PLTE and tRNS. CRCs are not
// checked (Pillow does not either for image data); every length and offset is bounds-checked, and
// malformed input becomes KimiVLError('ImageError').
// Spec: https://www.w3.org/TR/png-3/ (§11 chunks, §7.3 filtering, §8 interlacing).
import { KimiVLError } from '../errors.ts';
import { checkImageSize, type PilMode, type RgbaImage } from './image.ts';
import { inflateZlib } from './inflate.ts';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Adam7 passes: x0, y0, xStep, yStep. A non-interlaced image is one pass (0, 0, 1, 1). */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Samples per pixel and allowed bit depths per PNG color type. */
const COLOR_TYPES: Record<number, { channels: number; depths: number[]; mode: PilMode }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16], mode: 'L' },
  2: { channels: 3, depths: [8, 16], mode: 'RGB' },
  3: { channels: 1, depths: [1, 2, 4, 8], mode: 'P' },
  4: { channels: 2, depths: [8, 16], mode: 'LA' },
  6: { channels: 4, depths: [8, 16], mode: 'RGBA' },
};

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

interface PngParts {
  header: Header;
  idat: Uint8Array;
  /** RGBA palette entries, alpha from tRNS (255 where tRNS is absent or short). */
  palette: Uint8Array | null;
  /** Full-depth gray or RGB sample values that mean "transparent" (tRNS for color types 0 and 2). */
  transparentKey: number[] | null;
}

function fail(message: string): never {
  throw new KimiVLError('ImageError', `PNG: ${message}`);
}

/** True when the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Decodes a PNG file into straight RGBA8 with `pilMode` set to the mode Pillow would open it in. */
export async function decodePng(bytes: Uint8Array): Promise<RgbaImage> {
  const { header, idat, palette, transparentKey } = parseChunks(bytes);
  const { width, height, bitDepth, colorType } = header;
  const { channels, mode } = COLOR_TYPES[colorType];
  const bitsPerPixel = channels * bitDepth;
  const passes = header.interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  let inflatedBytes = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = passSize(width, x0, dx);
    const ph = passSize(height, y0, dy);
    if (pw > 0 && ph > 0) inflatedBytes += ph * (1 + Math.ceil((pw * bitsPerPixel) / 8));
  }
  const raw = await inflateZlib(idat, inflatedBytes, 'PNG');
  const out = new Uint8ClampedArray(width * height * 4);
  const write = pixelWriter(header, palette, transparentKey, out);
  const bytesPerPixel = Math.max(1, bitsPerPixel >> 3);
  let pos = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = passSize(width, x0, dx);
    const ph = passSize(height, y0, dy);
    if (pw === 0 || ph === 0) continue;
    const rowBytes = Math.ceil((pw * bitsPerPixel) / 8);
    let prev: Uint8Array | null = null;
    for (let r = 0; r < ph; r++) {
      const row = raw.subarray(pos + 1, pos + 1 + rowBytes);
      unfilterRow(raw[pos], row, prev, bytesPerPixel);
      write(row, y0 + r * dy, x0, dx, pw);
      prev = row;
      pos += 1 + rowBytes;
    }
  }
  const image: RgbaImage = { width, height, data: out, pilMode: pilModeOf(mode, bitDepth) };
  if (colorType === 3 && palette) image.padRgb = [palette[0], palette[1], palette[2]];
  return image;
}

function pilModeOf(mode: PilMode, bitDepth: number): PilMode {
  if (mode === 'L' && bitDepth === 1) return '1';
  if (mode === 'L' && bitDepth === 16) return 'I;16';
  return mode;
}

function passSize(size: number, start: number, step: number): number {
  return size > start ? Math.ceil((size - start) / step) : 0;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function parseChunks(bytes: Uint8Array): PngParts {
  if (!isPng(bytes)) fail('not a PNG file (bad signature)');
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let transparentKey: number[] | null = null;
  let trns: Uint8Array | null = null;
  const idatChunks: Uint8Array[] = [];
  let pos = 8;
  let ended = false;
  while (!ended) {
    if (pos + 12 > bytes.length) fail(`file is truncated at byte ${pos} (no IEND chunk)`);
    const length = readU32(bytes, pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const start = pos + 8;
    if (length > bytes.length - start - 4)
      fail(`chunk ${JSON.stringify(type)} at byte ${pos} runs past the end`);
    const data = bytes.subarray(start, start + length);
    pos = start + length + 4; // skip CRC
    if (header === null && type !== 'IHDR') fail('the first chunk is not IHDR');
    switch (type) {
      case 'IHDR':
        if (header !== null) fail('more than one IHDR chunk');
        header = parseHeader(data);
        break;
      case 'PLTE':
        if (length % 3 !== 0 || length === 0 || length > 768) fail(`PLTE length ${length} is invalid`);
        palette = new Uint8Array((length / 3) * 4).fill(255);
        for (let i = 0; i < length / 3; i++) palette.set(data.subarray(i * 3, i * 3 + 3), i * 4);
        break;
      case 'tRNS':
        trns = data;
        break;
      case 'IDAT':
        idatChunks.push(data);
        break;
      case 'IEND':
        ended = true;
        break;
      default:
        // Uppercase first letter = critical chunk we cannot ignore (PNG §5.4).
        if (type.charCodeAt(0) >= 65 && type.charCodeAt(0) <= 90)
          fail(`unknown critical chunk ${JSON.stringify(type)}`);
    }
  }
  if (header === null) fail('no IHDR chunk');
  if (idatChunks.length === 0) fail('no image data (IDAT chunk)');
  if (header.colorType === 3 && palette === null) fail('palette image without a PLTE chunk');
  if (trns !== null) {
    if (header.colorType === 3 && palette !== null) {
      for (let i = 0; i < Math.min(trns.length, palette.length / 4); i++) palette[i * 4 + 3] = trns[i];
    } else if (header.colorType === 0 && trns.length >= 2) {
      transparentKey = [(trns[0] << 8) | trns[1]];
    } else if (header.colorType === 2 && trns.length >= 6) {
      transparentKey = [0, 2, 4].map((i) => (trns[i] << 8) | trns[i + 1]);
    }
  }
  const total = idatChunks.reduce((n, c) => n + c.length, 0);
  const idat = new Uint8Array(total);
  let at = 0;
  for (const c of idatChunks) {
    idat.set(c, at);
    at += c.length;
  }
  return { header, idat, palette, transparentKey };
}

function parseHeader(d: Uint8Array): Header {
  if (d.length !== 13) fail(`IHDR has ${d.length} bytes, expected 13`);
  const width = readU32(d, 0);
  const height = readU32(d, 4);
  const [bitDepth, colorType, compression, filter, interlace] = [d[8], d[9], d[10], d[11], d[12]];
  checkImageSize(width, height, 'PNG');
  const ct = COLOR_TYPES[colorType];
  if (!ct) fail(`unknown color type ${colorType}`);
  if (!ct.depths.includes(bitDepth)) fail(`bit depth ${bitDepth} is not allowed for color type ${colorType}`);
  if (compression !== 0 || filter !== 0)
    fail(`unknown compression (${compression}) or filter method (${filter})`);
  if (interlace > 1) fail(`unknown interlace method ${interlace}`);
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}

/** Reverses the per-row filter in place (PNG §7.3); `prev` is the previous row of the same pass. */
function unfilterRow(filter: number, row: Uint8Array, prev: Uint8Array | null, bpp: number): void {
  const n = row.length;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) row[i] += row[i - bpp];
      return;
    case 2:
      if (prev) for (let i = 0; i < n; i++) row[i] += prev[i];
      return;
    case 3:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? row[i - bpp] : 0;
        row[i] += (left + (prev ? prev[i] : 0)) >> 1;
      }
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const b = prev ? prev[i] : 0;
        const c = prev && i >= bpp ? prev[i - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        row[i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      return;
    default:
      fail(`unknown row filter type ${filter}`);
  }
}

type RowWriter = (row: Uint8Array, y: number, x0: number, dx: number, count: number) => void;

/** Returns a function that writes one unfiltered row's pixels into the RGBA output. */
function pixelWriter(
  h: Header,
  palette: Uint8Array | null,
  key: number[] | null,
  out: Uint8ClampedArray,
): RowWriter {
  const { width, bitDepth, colorType } = h;
  const channels = COLOR_TYPES[colorType].channels;
  // Full-depth sample c of pixel i (for tRNS keys and palette indices).
  const sample = (row: Uint8Array, i: number, c: number): number => {
    if (bitDepth === 8) return row[i * channels + c];
    if (bitDepth === 16) return (row[(i * channels + c) * 2] << 8) | row[(i * channels + c) * 2 + 1];
    const bit = i * bitDepth; // sub-byte depths only occur with one channel
    return (row[bit >> 3] >> (8 - bitDepth - (bit & 7))) & ((1 << bitDepth) - 1);
  };
  // Gray scaled to 8 bits the way Pillow's L;1/L;2/L;4 unpackers do; 16-bit keeps the high byte
  // (Pillow's RGB;16B, RGBA;16B and LA;16B unpackers).
  const to8 = (v: number): number =>
    bitDepth === 16 ? v >> 8 : bitDepth === 8 ? v : (v * 255) / ((1 << bitDepth) - 1);
  // 16-bit gray without alpha opens as "I;16" in Pillow, and convert("RGB") clips (Convert.c I16_RGB:
  // v > 255 → 255), so we do the same; browsers keep the high byte instead.
  const gray8 = colorType === 0 && bitDepth === 16 ? (v: number) => Math.min(v, 255) : to8;
  return (row, y, x0, dx, count) => {
    for (let i = 0; i < count; i++) {
      const o = (y * width + x0 + i * dx) * 4;
      if (colorType === 3) {
        const idx = sample(row, i, 0);
        // Out-of-range indices read as opaque black (the PNG spec calls them an error; be lenient).
        if (palette && idx * 4 < palette.length) out.set(palette.subarray(idx * 4, idx * 4 + 4), o);
        else out.set([0, 0, 0, 255], o);
      } else if (colorType === 0 || colorType === 4) {
        const g = sample(row, i, 0);
        out[o] = out[o + 1] = out[o + 2] = gray8(g);
        out[o + 3] = colorType === 4 ? to8(sample(row, i, 1)) : key && g === key[0] ? 0 : 255;
      } else {
        const r = sample(row, i, 0);
        const g = sample(row, i, 1);
        const b = sample(row, i, 2);
        out[o] = to8(r);
        out[o + 1] = to8(g);
        out[o + 2] = to8(b);
        const opaque = !key || r !== key[0] || g !== key[1] || b !== key[2];
        out[o + 3] = colorType === 6 ? to8(sample(row, i, 3)) : opaque ? 255 : 0;
      }
    }
  };
}
