// The split plan of mla_decode and the bytes it reads per token at the real dims: within 1.1 × (the f16
// latent cache once + q + o) at 1K, 8K and 32K keys on a discrete GPU's and a CPU adapter's split counts;
// splits never straddle cache parts and cover every visible key once.
import { describe, expect, test } from 'vitest';
import type { TensorPart } from '../../gpu/parted_tensor.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { MlaDims } from '../types.ts';
import { decodeChunk, decodeTiles, mlaDecodeBytes, splitParts } from './mla_decode_plan.ts';

const REAL: MlaDims = { heads: 16, qkNope: 128, qkRope: 64, v: 128, kvRank: 512, scale: 1 / 192 ** 0.5 };

describe('mla_decode bytes per token (real dims, f16 cache)', () => {
  for (const [adapterWg, hpl] of [
    [128, 1],
    [2, 1],
    [16, 1],
    [2, 4],
    [16, 4],
  ] as const) {
    for (const keys of [1024, 8192, 32768]) {
      test(`${keys} keys, ${adapterWg} workgroups at once, ${hpl} heads per lane`, () => {
        const b = mlaDecodeBytes(REAL, keys, 2, adapterWg, 16384, hpl);
        expect(b.cache).toBe(keys * 576 * 2); // one head group: each row read once
        expect(b.total / b.minimum).toBeLessThanOrEqual(1.1);
      });
    }
  }
  test('splits grow with the context (parallelism) but keep ≥ the overhead bound of keys', () => {
    const t = decodeTiles(REAL, 16384);
    expect(t).toEqual({ wg: 256, tk: 4, headGroups: 1 });
    const splits = (keys: number) => Math.ceil(keys / decodeChunk(REAL, keys, t.tk, 1, 2, 128));
    expect([splits(1), splits(1024), splits(8192), splits(32768)]).toEqual([1, 1, 10, 43]);
  });
  test('4 heads per lane: 4 quads of 16 lanes, no staged tile, TK ≤ 16 within workgroup memory', () => {
    expect(decodeTiles(REAL, 16384, 4)).toEqual({ wg: 64, tk: 8, headGroups: 1 });
    expect(decodeTiles(REAL, 32768, 4)).toEqual({ wg: 64, tk: 16, headGroups: 1 });
    expect(decodeTiles({ ...REAL, heads: 17 }, 16384, 4)).toEqual({ wg: 64, tk: 8, headGroups: 2 });
    expect(decodeTiles({ ...REAL, heads: 3 }, 16384, 4)).toEqual({ wg: 16, tk: 16, headGroups: 1 });
  });
});

describe('splitParts', () => {
  const part = (start: number, count: number): TensorPart => ({ start, count, tensor: {} as GpuTensor });
  test('every visible key in exactly one split, none straddling a part', () => {
    const parts = [part(0, 50), part(50, 50), part(100, 30)];
    for (const [keys, chunk] of [
      [1, 1],
      [45, 20],
      [50, 7],
      [101, 20],
      [130, 33],
    ] as const) {
      const p = splitParts(parts, keys, chunk);
      const seen = new Array<number>(keys).fill(0);
      for (const q of p.parts)
        for (let s = 0; s < q.splits; s++)
          for (let j = q.key0 + s * chunk; j < Math.min(q.key0 + (s + 1) * chunk, q.keyEnd); j++) seen[j]!++;
      expect(seen.every((n) => n === 1)).toBe(true);
      expect(p.splits).toBe(p.parts.reduce((a, q) => a + q.splits, 0));
    }
  });
});
