// CoreOps on the reference backend: shape checks, then the *.ref.ts loops.
import { KimiVLError } from '../../errors.ts';
import type { HostWeight, Tensor } from '../../tensor/types.ts';
import { asRef, hostWeightToF32, numel, RefTensor, rowsCols } from '../ref_tensor.ts';
import type { CoreOps, GeluForm } from '../types.ts';
import { addRef, geluRef, siluMulRef } from './elementwise.ref.ts';
import { embeddingRef, sliceColsRef, spliceRowsRef } from './gather.ref.ts';
import { matmulRef } from './matmul.ref.ts';
import { layerNormRef, rmsNormRef } from './norm.ref.ts';
import { softmaxRef } from './softmax.ref.ts';

export function checkShape(cond: boolean, op: string, detail: string): void {
  if (!cond) throw new KimiVLError('ShapeError', `${op}: ${detail}`);
}

function sameShape(a: Tensor, b: Tensor, op: string): void {
  checkShape(a.shape.join() === b.shape.join(), op, `shapes [${a.shape}] and [${b.shape}] differ`);
}

const f32 = (shape: readonly number[], data: Float32Array) => new RefTensor([...shape], 'f32', data);

export function createRefCoreOps(): CoreOps {
  return {
    backend: 'ref',
    upload(data, shape) {
      checkShape(data.length === numel(shape), 'upload', `${data.length} values for shape [${shape}]`);
      return new RefTensor([...shape], data instanceof Uint32Array ? 'u32' : 'f32', data.slice());
    },
    uploadWeight(w: HostWeight) {
      return new RefTensor([...w.shape], w.dtype, hostWeightToF32(w));
    },
    zeros(shape) {
      return f32(shape, new Float32Array(numel(shape)));
    },
    async read(t) {
      return Float32Array.from(asRef(t).data);
    },
    async readU32(t) {
      return Uint32Array.from(asRef(t).data);
    },
    release() {},
    flush() {},
    matmul(x, w, bias) {
      const [m, k] = rowsCols(x);
      const n = numel(w.shape) / k;
      checkShape(w.shape[w.shape.length - 1] === k, 'matmul', `x [${x.shape}] · w [${w.shape}]ᵀ: K differs`);
      checkShape(!bias || numel(bias.shape) === n, 'matmul', `bias [${bias?.shape}] for N=${n}`);
      const y = matmulRef(asRef(x).f32, asRef(w).f32, m, k, n, bias ? asRef(bias).f32 : undefined);
      return f32([...x.shape.slice(0, -1), n], y);
    },
    add(a, b) {
      sameShape(a, b, 'add');
      return f32(a.shape, addRef(asRef(a).f32, asRef(b).f32));
    },
    rmsNorm(x, w, eps) {
      const [rows, d] = rowsCols(x);
      checkShape(numel(w.shape) === d, 'rmsNorm', `weight [${w.shape}] for width ${d}`);
      return f32(x.shape, rmsNormRef(asRef(x).f32, asRef(w).f32, rows, d, eps));
    },
    layerNorm(x, w, b, eps) {
      const [rows, d] = rowsCols(x);
      checkShape(numel(w.shape) === d && numel(b.shape) === d, 'layerNorm', `affine params for width ${d}`);
      return f32(x.shape, layerNormRef(asRef(x).f32, asRef(w).f32, asRef(b).f32, rows, d, eps));
    },
    softmax(x) {
      const [rows, d] = rowsCols(x);
      return f32(x.shape, softmaxRef(asRef(x).f32, rows, d));
    },
    siluMul(gate, up) {
      sameShape(gate, up, 'siluMul');
      return f32(gate.shape, siluMulRef(asRef(gate).f32, asRef(up).f32));
    },
    gelu(x, form: GeluForm) {
      return f32(x.shape, geluRef(asRef(x).f32, form));
    },
    embedding(ids, table) {
      const [, d] = rowsCols(table);
      const idv = asRef(ids).u32;
      const vocab = numel(table.shape) / d;
      for (const id of idv) checkShape(id < vocab, 'embedding', `token id ${id} ≥ vocab ${vocab}`);
      return f32([idv.length, d], embeddingRef(idv, asRef(table).f32, d));
    },
    sliceCols(x, start, width) {
      const [rows, cols] = rowsCols(x);
      checkShape(start >= 0 && start + width <= cols, 'sliceCols', `[${start}, ${start + width}) of ${cols}`);
      return f32([rows, width], sliceColsRef(asRef(x).f32, rows, cols, start, width));
    },
    sliceRows(x, start, count) {
      const [rows, cols] = rowsCols(x);
      checkShape(start >= 0 && start + count <= rows, 'sliceRows', `[${start}, ${start + count}) of ${rows}`);
      return f32([count, cols], asRef(x).f32.slice(start * cols, (start + count) * cols));
    },
    spliceRows(x, rows, src) {
      const [n, d] = rowsCols(x);
      checkShape(
        numel(src.shape) === rows.length * d,
        'spliceRows',
        `src [${src.shape}] for ${rows.length} rows`,
      );
      checkShape(
        rows.every((r) => r >= 0 && r < n),
        'spliceRows',
        'row index out of range',
      );
      return f32(x.shape, spliceRowsRef(asRef(x).f32, d, rows, asRef(src).f32));
    },
  };
}
