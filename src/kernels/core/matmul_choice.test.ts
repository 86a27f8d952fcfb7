// matmul 'auto' (matmul_choice.ts): the thresholds per weight form, and forced kinds pass through.
import { describe, expect, it } from 'vitest';
import { matmulKind } from './matmul_choice.ts';

describe("matmul 'auto'", () => {
  it('quantised weights take the tiled GEMM from M = 16, 16-bit from 24, f32 from 128', () => {
    expect(matmulKind('auto', 15, 'q4')).toBe('direct');
    expect(matmulKind('auto', 16, 'q4')).toBe('tiled');
    expect(matmulKind('auto', 16, 'q8')).toBe('tiled');
    expect(matmulKind('auto', 23, 'bf16')).toBe('direct');
    expect(matmulKind('auto', 24, 'f16')).toBe('tiled');
    expect(matmulKind('auto', 127, 'f32')).toBe('direct');
    expect(matmulKind('auto', 1332, 'f32')).toBe('tiled');
  });

  it('a forced kind is run whatever the shape', () => {
    expect(matmulKind('direct', 1332, 'q4')).toBe('direct');
    expect(matmulKind('tiled', 2, 'f32')).toBe('tiled');
    expect(matmulKind('classic', 64, 'q8')).toBe('classic');
  });
});
