import { describe, expect, it } from 'vitest';
import { dequantize, quantize } from './quant_format.ts';
import { planRowParts, sliceBytes, sliceWeightRows } from './row_parts.ts';

describe('row parts', () => {
  it('plans the fewest equal parts under the limit', () => {
    expect(planRowParts([512, 64], 'bf16', 65536)).toEqual({ partRows: 512, count: 1 });
    expect(planRowParts([512, 64], 'bf16', 16384)).toEqual({ partRows: 128, count: 4 });
    expect(planRowParts([1000, 96], 'bf16', 16384)).toEqual({ partRows: 84, count: 12 });
    expect(planRowParts([8, 24, 96], 'bf16', 16384)).toEqual({ partRows: 3, count: 3 });
    expect(planRowParts([8, 24, 96], 'bf16', 4000)).toBeNull(); // one expert is 4608 bytes
    for (const [shape, dtype, limit] of [
      [[1000, 96], 'q4', 7000],
      [[7, 33, 65], 'q8', 5000],
      [[163840, 2048], 'bf16', 128 << 20],
    ] as const) {
      const p = planRowParts(shape, dtype, limit)!;
      expect(sliceBytes(p.partRows, shape.slice(1), dtype)).toBeLessThanOrEqual(limit);
      expect((p.count - 1) * p.partRows).toBeLessThan(shape[0]);
      expect(p.count * p.partRows).toBeGreaterThanOrEqual(shape[0]);
    }
  });

  it('slices bf16 and kvq1 weights into standalone parts', () => {
    const shape = [7, 3, 40]; // K = 40: a partial kvq1 block; 3·40 rows per expert
    const values = Float32Array.from({ length: 7 * 3 * 40 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 11)));
    for (const q of ['q8', 'q4'] as const) {
      const w = { dtype: q, shape, bytes: quantize(q, values, shape) };
      const whole = dequantize(q, w.bytes, shape);
      const part = sliceWeightRows(w, 2, 3);
      expect(part.shape).toEqual([3, 3, 40]);
      expect(Array.from(dequantize(q, part.bytes, part.shape))).toEqual(Array.from(whole.subarray(240, 600)));
    }
    const bf = new Uint8Array(7 * 3 * 40 * 2).map((_, i) => i % 251);
    const part = sliceWeightRows({ dtype: 'bf16', shape, bytes: bf }, 5, 2);
    expect(Array.from(part.bytes)).toEqual(Array.from(bf.subarray(5 * 240, 7 * 240)));
  });
});
