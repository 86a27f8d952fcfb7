// The shape rule of each core op, called by both backends (ref_core_ops.ts and the GPU wrappers) so they
// refuse the same inputs with the same message. Each returns the sizes the op needs. What only one backend
// can check stays with it: stored dtypes and workgroup limits in the GPU wrappers, id values in the reference.
import type { Tensor } from '../../tensor/types.ts';
import { checkShape, numel, rowsCols, sameShape } from '../shape_check.ts';

/** y[M,N] = x[M,K] · w[N,K]ᵀ (+ bias[N]). */
export function matmulShape(x: Tensor, w: Tensor, bias?: Tensor): { M: number; K: number; N: number } {
  const [M, K] = rowsCols(x);
  const N = numel(w.shape) / K;
  checkShape(
    w.shape[w.shape.length - 1] === K && Number.isInteger(N),
    'matmul',
    `x [${x.shape}] · w [${w.shape}]ᵀ: K differs`,
  );
  checkShape(!bias || numel(bias.shape) === N, 'matmul', `bias [${bias?.shape}] for N=${N}`);
  return { M, K, N };
}

/** Elementwise binary ops (add, siluMul): same shape on both sides. */
export function elementwiseShape(op: string, a: Tensor, b: Tensor): void {
  checkShape(sameShape(a, b), op, `shapes [${a.shape}] and [${b.shape}] differ`);
}

/** rmsNorm (b = null) and layerNorm: row-wise over the last dimension, affine params [D]. */
export function normShape(op: string, x: Tensor, w: Tensor, b: Tensor | null): { rows: number; D: number } {
  const [rows, D] = rowsCols(x);
  checkShape(
    numel(w.shape) === D && (!b || numel(b.shape) === D),
    op,
    `affine params [${w.shape}] for width ${D}`,
  );
  return { rows, D };
}

/** ids u32 [T], table [V, D]. Ids ≥ V are refused by the reference (it reads them); the GPU cannot. */
export function embeddingShape(ids: Tensor, table: Tensor): { T: number; V: number; D: number } {
  checkShape(ids.dtype === 'u32', 'embedding', `ids must be u32, got ${ids.dtype}`);
  const [V, D] = rowsCols(table);
  return { T: numel(ids.shape), V, D };
}

/** [start, start + n) is a non-empty range within 0..size. */
function checkRange(op: string, start: number, n: number, size: number): void {
  checkShape(start >= 0 && n > 0 && start + n <= size, op, `[${start}, ${start + n}) of ${size}`);
}

export function sliceColsShape(x: Tensor, start: number, width: number): { rows: number; cols: number } {
  const [rows, cols] = rowsCols(x);
  checkRange('sliceCols', start, width, cols);
  return { rows, cols };
}

export function sliceRowsShape(x: Tensor, start: number, count: number): { rows: number; cols: number } {
  const [rows, cols] = rowsCols(x);
  checkRange('sliceRows', start, count, rows);
  return { rows, cols };
}

/** x [T, D] with rows[i] ← src[i]; every row in range and named once. */
export function spliceRowsShape(x: Tensor, rows: readonly number[], src: Tensor): { T: number; D: number } {
  const [T, D] = rowsCols(x);
  checkShape(
    numel(src.shape) === rows.length * D,
    'spliceRows',
    `src [${src.shape}] for ${rows.length} rows of ${D}`,
  );
  const seen = new Set<number>();
  for (const r of rows) {
    checkShape(
      Number.isInteger(r) && r >= 0 && r < T && !seen.has(r),
      'spliceRows',
      `row ${r} out of range or repeated`,
    );
    seen.add(r);
  }
  return { T, D };
}
