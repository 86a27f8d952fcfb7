// Writes the demo's app icons (public/icons/): one SVG and PNGs at 192 and 512 px (plus a maskable
// 512 with the shapes inside the safe zone), drawn from the same three shapes the tiny models are
// trained on. PNGs are rasterised here with 4×4 supersampling and written with node:zlib, so no image
// tool is needed. Run: `npx tsx demo/make_icons.ts` (the outputs are committed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

type Rgb = [number, number, number];
const BG: Rgb = [54, 84, 216];
const CIRCLE: Rgb = [240, 210, 40];
const SQUARE: Rgb = [255, 255, 255];
const TRIANGLE: Rgb = [245, 140, 30];

/** Shapes in unit coordinates (0..1), scaled around the centre by `inset` for the maskable variant. */
function colourAt(x: number, y: number, rounded: boolean, inset: number): Rgb | null {
  if (rounded) {
    const r = 0.18;
    const cx = Math.min(Math.max(x, r), 1 - r);
    const cy = Math.min(Math.max(y, r), 1 - r);
    if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) return null;
  }
  const u = 0.5 + (x - 0.5) / inset;
  const v = 0.5 + (y - 0.5) / inset;
  if ((u - 0.32) ** 2 + (v - 0.34) ** 2 < 0.16 ** 2) return CIRCLE;
  if (u > 0.55 && u < 0.83 && v > 0.2 && v < 0.48) return SQUARE;
  // Triangle with apex (0.5, 0.56), base y = 0.84 from x = 0.26 to 0.74.
  if (v < 0.84 && v > 0.56 && Math.abs(u - 0.5) < ((v - 0.56) / 0.28) * 0.24) return TRIANGLE;
  return BG;
}

function rasterise(size: number, rounded: boolean, inset: number): Buffer {
  const S = 4;
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4); // filter byte 0, then RGBA
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < S; sy++)
        for (let sx = 0; sx < S; sx++) {
          const c = colourAt((x + (sx + 0.5) / S) / size, (y + (sy + 0.5) / S) / size, rounded, inset);
          if (!c) continue;
          r += c[0];
          g += c[1];
          b += c[2];
          a++;
        }
      const o = 1 + x * 4;
      if (a)
        row.set(
          [Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round((255 * a) / (S * S))],
          o,
        );
    }
    rows.push(row);
  }
  return Buffer.concat(rows);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

export function png(size: number, rounded: boolean, inset = 1): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rasterise(size, rounded, inset), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const hex = (c: Rgb) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="18" fill="${hex(BG)}"/>
<circle cx="32" cy="34" r="16" fill="${hex(CIRCLE)}"/>
<rect x="55" y="20" width="28" height="28" fill="${hex(SQUARE)}"/>
<path d="M50 56 74 84H26Z" fill="${hex(TRIANGLE)}"/>
</svg>
`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = join(import.meta.dirname, '../public/icons');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'icon.svg'), ICON_SVG);
  writeFileSync(join(dir, 'icon-192.png'), png(192, true));
  writeFileSync(join(dir, 'icon-512.png'), png(512, true));
  writeFileSync(join(dir, 'icon-maskable-512.png'), png(512, false, 0.72));
  writeFileSync(join(dir, 'apple-touch-icon.png'), png(180, false));
  console.log(`icons written to ${dir}`);
}
