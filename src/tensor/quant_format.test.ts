import { describe, expect, test } from 'vitest';
import { randn } from '../testing/random.ts';
import { f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from './half.ts';
import { dequantize, quantize, quantLayout } from './quant_format.ts';

describe('kvq1 block quantisation', () => {
  test('layout: blocks of 32 along K, partial last block padded, u32-aligned scales', () => {
    const L = quantLayout('q4', [3, 40]);
    expect(L.blocksPerRow).toBe(2);
    expect(L.quantBytes).toBe(3 * 2 * 16);
    expect(L.scaleBytes).toBe(12);
    expect(quantLayout('q8', [5, 24]).scaleBytes).toBe(12); // 5 scales × 2 B = 10 → padded to 12
  });
  for (const q of ['q8', 'q4'] as const) {
    // q8: half a step. q4 (Q4_0): half a step, except values of the opposite sign to the block extreme
    // near its magnitude, which clamp at +7·d: up to one full step.
    test(`${q}: round trip error within the format's bound per block`, () => {
      const shape = [7, 100];
      const x = randn(700, 11);
      const y = dequantize(q, quantize(q, x, shape), shape);
      for (let r = 0; r < 7; r++) {
        for (let b = 0; b < 4; b++) {
          const blk = Array.from(
            x.subarray(r * 100 + b * 32, Math.min(r * 100 + b * 32 + 32, (r + 1) * 100)),
          );
          const amax = Math.max(...blk.map(Math.abs));
          const step = q === 'q8' ? amax / 127 : amax / 8;
          blk.forEach((v, j) => {
            expect(Math.abs(y[r * 100 + b * 32 + j]! - v)).toBeLessThanOrEqual(
              step * (q === 'q8' ? 0.5 : 1) + step * 2e-3 + 1e-7,
            );
          });
        }
      }
    });
  }
  test('q4 reproduces the block extreme exactly up to the f16 scale (GGML Q4_0 convention)', () => {
    const x = new Float32Array(32).fill(0.25);
    x[5] = -3;
    const y = dequantize('q4', quantize('q4', x, [1, 32]), [1, 32]);
    expect(y[5]).toBeCloseTo(-3, 3);
  });
  test('zero blocks stay zero', () => {
    const y = dequantize('q8', quantize('q8', new Float32Array(64), [2, 32]), [2, 32]);
    expect(y.every((v) => v === 0)).toBe(true);
  });
});

describe('half conversions', () => {
  test('f16 round-to-nearest-even, subnormals, overflow', () => {
    for (const v of [0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, 1e-3, 0.1]) {
      expect(Math.abs(f16BitsToF32(f32ToF16Bits(v)) - v)).toBeLessThanOrEqual(
        Math.abs(v) * 2 ** -11 + 2 ** -25,
      );
    }
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
  });
  test('bf16 round-to-nearest-even', () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
  });
});
