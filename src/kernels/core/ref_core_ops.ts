// CoreOps on the reference backend: the shared shape rules (core_shapes.ts), then the *.ref.ts loops.
import type { HostWeight } from '../../tensor/types.ts';
import { asRef, hostWeightToF32, RefTensor } from '../ref_tensor.ts';
import { checkShape, numel } from '../shape_check.ts';
import type { CoreOps, GeluForm } from '../types.ts';
import {
  elementwiseShape,
  embeddingShape,
  matmulShape,
  normShape,
  sliceColsShape,
  sliceRowsShape,
  spliceRowsShape,
} from './core_shapes.ts';
import { addRef, geluRef, siluMulRef } from './elementwise.ref.ts';
import { embeddingRef, sliceColsRef, spliceRowsRef } from './gather.ref.ts';
import { matmulRef } from './matmul.ref.ts';
import { layerNormRef, rmsNormRef } from './norm.ref.ts';

const f32 = (shape: readonly number[], data: Float32Array) => new RefTensor([...shape], 'f32', data);

export function createRefCoreOps(): CoreOps {
  const ops: CoreOps = {
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
      const { M, K, N } = matmulShape(x, w, bias);
      const y = matmulRef(asRef(x).f32, asRef(w).f32, M, K, N, bias ? asRef(bias).f32 : undefined);
      return f32([...x.shape.slice(0, -1), N], y);
    },
    // The fused ops are the unfused oracles in sequence (what the GPU's fused GEMV is tested against).
    normMatmul(x, nw, eps, w) {
      return ops.matmul(ops.rmsNorm(x, nw, eps), w);
    },
    normMatmulPair(x, nw, eps, wa, wb) {
      const h = ops.rmsNorm(x, nw, eps);
      return [ops.matmul(h, wa), ops.matmul(h, wb)];
    },
    gateUpSilu(x, gate, up, norm) {
      const h = norm ? ops.rmsNorm(x, norm.weight, norm.eps) : x;
      return ops.siluMul(ops.matmul(h, gate), ops.matmul(h, up));
    },
    matmulAdd(x, w, residual) {
      return ops.add(ops.matmul(x, w), residual);
    },
    add(a, b) {
      elementwiseShape('add', a, b);
      return f32(a.shape, addRef(asRef(a).f32, asRef(b).f32));
    },
    rmsNorm(x, w, eps) {
      const { rows, D } = normShape('rmsNorm', x, w, null);
      return f32(x.shape, rmsNormRef(asRef(x).f32, asRef(w).f32, rows, D, eps));
    },
    layerNorm(x, w, b, eps) {
      const { rows, D } = normShape('layerNorm', x, w, b);
      return f32(x.shape, layerNormRef(asRef(x).f32, asRef(w).f32, asRef(b).f32, rows, D, eps));
    },
    siluMul(gate, up) {
      elementwiseShape('siluMul', gate, up);
      return f32(gate.shape, siluMulRef(asRef(gate).f32, asRef(up).f32));
    },
    gelu(x, form: GeluForm) {
      return f32(x.shape, geluRef(asRef(x).f32, form));
    },
    embedding(ids, table) {
      const { T, V, D } = embeddingShape(ids, table);
      const idv = asRef(ids).u32;
      for (const id of idv) checkShape(id < V, 'embedding', `token id ${id} ≥ vocab ${V}`);
      return f32([T, D], embeddingRef(idv, asRef(table).f32, D));
    },
    sliceCols(x, start, width) {
      const { rows, cols } = sliceColsShape(x, start, width);
      return f32([rows, width], sliceColsRef(asRef(x).f32, rows, cols, start, width));
    },
    sliceRows(x, start, count) {
      const { cols } = sliceRowsShape(x, start, count);
      return f32([count, cols], asRef(x).f32.slice(start * cols, (start + count) * cols));
    },
    spliceRows(x, rows, src) {
      const { D } = spliceRowsShape(x, rows, src);
      return f32(x.shape, spliceRowsRef(asRef(x).f32, D, rows, asRef(src).f32));
    },
  };
  return ops;
}
