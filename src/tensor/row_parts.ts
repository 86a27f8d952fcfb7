// Splitting a tensor along its first dimension into parts that each fit a buffer limit. One place decides
// how a too-large tensor is cut (the GPU upload, the KV cache and the memory plan all follow it):
//   - parts are cut along dim 0 only (vocab rows of an embedding / lm_head, output rows of a linear
//     weight, experts of a stacked [E, N, K] expert weight, positions of a KV cache), in whole dim-0 slices;
//   - every part but the last has exactly `partRows` dim-0 slices, so a kernel finds the part of slice r
//     as floor(r / partRows) (device-side expert ids can pick their part without a table);
//   - each part is a standalone tensor of shape [count, ...rest] in the same storage form (a kvq1 part
//     has its own quant and scale regions), so every kernel reads a part exactly like a whole tensor.
// Ground floor: pure arithmetic and byte copies.
import { quantLayout } from './quant_format.ts';
import type { DType, HostWeight } from './types.ts';

/** Bytes a [rows, ...rest] tensor of this dtype takes in storage (u32-rounded, as GPU buffers hold it). */
export function sliceBytes(rows: number, rest: readonly number[], dtype: DType): number {
  const shape = [rows, ...rest];
  if (dtype === 'q8' || dtype === 'q4') return quantLayout(dtype, shape).totalBytes;
  const n = shape.reduce((a, b) => a * b, 1);
  return dtype === 'f16' || dtype === 'bf16' ? Math.ceil((n * 2) / 4) * 4 : n * 4;
}

export interface RowPartPlan {
  /** Dim-0 slices per part (the last part may hold fewer). */
  partRows: number;
  /** Number of parts (1: the tensor is not split). */
  count: number;
}

/**
 * The fewest equal parts along dim 0 whose bytes are each ≤ `limitBytes`; null when even one dim-0 slice
 * (one row, one expert) is larger than the limit (the caller reports GpuLimitError).
 */
export function planRowParts(shape: readonly number[], dtype: DType, limitBytes: number): RowPartPlan | null {
  const rows = shape[0] ?? 1;
  const rest = shape.slice(1);
  if (shape.length === 0 || sliceBytes(rows, rest, dtype) <= limitBytes) return { partRows: rows, count: 1 };
  if (sliceBytes(1, rest, dtype) > limitBytes) return null;
  for (let count = 2; count <= rows; count++) {
    const partRows = Math.ceil(rows / count);
    if (sliceBytes(partRows, rest, dtype) <= limitBytes)
      return { partRows, count: Math.ceil(rows / partRows) };
  }
  return { partRows: 1, count: rows };
}

/** Dim-0 slices [start, start + count) of a host weight, as a standalone weight of shape [count, ...rest]. */
export function sliceWeightRows(w: HostWeight, start: number, count: number): HostWeight {
  const rest = w.shape.slice(1);
  const shape = [count, ...rest];
  const inner = rest.reduce((a, b) => a * b, 1);
  if (w.dtype === 'q8' || w.dtype === 'q4') {
    // kvq1: [quants of every row][scales of every row]; a dim-0 slice is a contiguous range of rows in both.
    const whole = quantLayout(w.dtype, w.shape);
    const part = quantLayout(w.dtype, shape);
    const rowsPerSlice = whole.rows / (w.shape[0] ?? 1);
    const blocks0 = start * rowsPerSlice * whole.blocksPerRow;
    const qb = whole.quantBytes / (whole.rows * whole.blocksPerRow || 1);
    const out = new Uint8Array(part.totalBytes);
    out.set(w.bytes.subarray(blocks0 * qb, blocks0 * qb + part.quantBytes), 0);
    const s0 = whole.scaleOffset + blocks0 * 2;
    const scaleLen = part.rows * part.blocksPerRow * 2;
    out.set(w.bytes.subarray(s0, s0 + scaleLen), part.scaleOffset);
    return { dtype: w.dtype, shape, bytes: out };
  }
  const elem = w.dtype === 'f32' ? 4 : 2;
  const from = start * inner * elem;
  return { dtype: w.dtype, shape, bytes: w.bytes.slice(from, from + count * inner * elem) };
}
