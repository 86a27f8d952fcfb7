// A small PNG encoder covering every color type, bit depth, row filter and Adam7, written from the
// PNG spec independently of png.ts. Tests use it to build inputs (Node: round trips; browser: our
// decoder against Chromium's), and it can dump preprocessed images for debugging.
// Spec: https://www.w3.org/TR/png-3/ (§5.5 CRC, §7.3 filters, §8.2 Adam7).

export interface PngEncodeOptions {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Row-major samples at full bit depth, channels interleaved (palette images: indices). */
  samples: ArrayLike<number>;
  /** PLTE as RGB triples (color type 3). */
  palette?: Uint8Array;
  /** Raw tRNS chunk data. */
  trns?: Uint8Array;
  interlace?: boolean;
  /** Row filter: one type for every row, or 'cycle' (row r uses r mod 5). */
  filter?: 0 | 1 | 2 | 3 | 4 | 'cycle';
  /** Split the zlib stream into IDAT chunks of at most this many bytes. */
  idatChunkBytes?: number;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Packs one row of samples (big-endian, sub-byte depths MSB first). */
function packRow(samples: number[], bitDepth: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((samples.length * bitDepth) / 8));
  samples.forEach((v, i) => {
    if (bitDepth === 16) {
      out[i * 2] = v >> 8;
      out[i * 2 + 1] = v & 255;
    } else if (bitDepth === 8) {
      out[i] = v;
    } else {
      const bit = i * bitDepth;
      out[bit >> 3] |= v << (8 - bitDepth - (bit & 7));
    }
  });
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filter byte followed by the filtered row (PNG §7.3), computed from unfiltered bytes. */
function filterRow(type: number, row: Uint8Array, prev: Uint8Array | null, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev ? prev[i] : 0;
    const c = prev && i >= bpp ? prev[i - bpp] : 0;
    const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
    out[i + 1] = (row[i] - predictor) & 255;
  }
  return out;
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function encodePng(o: PngEncodeOptions): Promise<Uint8Array> {
  const ch = CHANNELS[o.colorType];
  const bpp = Math.max(1, (ch * o.bitDepth) >> 3);
  const passes = o.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const rows: Uint8Array[] = [];
  let rowIndex = 0;
  for (const [x0, y0, dx, dy] of passes) {
    let prev: Uint8Array | null = null;
    for (let y = y0; y < o.height; y += dy) {
      const samples: number[] = [];
      for (let x = x0; x < o.width; x += dx) {
        for (let c = 0; c < ch; c++) samples.push(o.samples[(y * o.width + x) * ch + c]);
      }
      if (samples.length === 0) continue; // empty pass: no rows at all
      const row = packRow(samples, o.bitDepth);
      const f = o.filter ?? 0;
      rows.push(filterRow(f === 'cycle' ? rowIndex % 5 : f, row, prev, bpp));
      prev = row;
      rowIndex++;
    }
  }
  const raw = new Uint8Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    raw.set(r, at);
    at += r.length;
  }
  const z = await deflate(raw);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, o.width);
  v.setUint32(4, o.height);
  ihdr.set([o.bitDepth, o.colorType, 0, 0, o.interlace ? 1 : 0], 8);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr)];
  if (o.palette) parts.push(chunk('PLTE', o.palette));
  if (o.trns) parts.push(chunk('tRNS', o.trns));
  const step = o.idatChunkBytes ?? z.length;
  for (let i = 0; i < z.length; i += step) parts.push(chunk('IDAT', z.subarray(i, i + step)));
  parts.push(chunk('IEND', new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
