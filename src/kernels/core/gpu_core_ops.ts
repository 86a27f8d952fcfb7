// CoreOps on the GPU backend: each method forwards to its op module.

import { gpuTensorsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { asGpu } from '../../gpu/tensor.ts';
import { widenToF32 } from '../../tensor/half.ts';
import type { HostWeight } from '../../tensor/types.ts';
import { type SplitPolicy, uploadWeightParts, zerosParts } from '../parts_upload.ts';
import type { CoreOps } from '../types.ts';
import { add, gelu, siluMul } from './elementwise.ts';
import { gateUpSilu, matmulAdd, normMatmul, normMatmulPair } from './fused_linear.ts';
import { embedding, sliceCols, sliceRows, spliceRows } from './gather.ts';
import { matmul } from './matmul.ts';
import { layerNorm, rmsNorm } from './norm.ts';

/** Rank-1 weights (norm scales, biases, router bias) are widened to f32 once: kernels read them as f32. */
function widenVector(w: HostWeight): HostWeight {
  if (w.shape.length !== 1 || (w.dtype !== 'bf16' && w.dtype !== 'f16')) return w;
  const f = widenToF32(w.dtype, w.bytes);
  return { dtype: 'f32', shape: w.shape, bytes: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

export function createGpuCoreOps(rt: GpuRuntime, policy: SplitPolicy = { split: true }): CoreOps {
  return {
    backend: 'gpu',
    upload: (data, shape) => rt.upload(data, shape),
    // over the buffer limits: in parts along dim 0 (src/gpu/parted_tensor.ts)
    uploadWeight: (w) => uploadWeightParts(rt, widenVector(w), policy),
    zeros: (shape) => zerosParts(rt, shape, policy),
    read: (t) => rt.read(asGpu(t)),
    readU32: (t) => rt.readU32(asGpu(t)),
    release: (...ts) => rt.free(...ts.flatMap(gpuTensorsOf)),
    flush: () => rt.flush(),
    matmul: (x, w, bias) => matmul(rt, asGpu(x), w, bias && asGpu(bias)),
    normMatmul: (x, nw, eps, w) => normMatmul(rt, asGpu(x), asGpu(nw), eps, w),
    normMatmulPair: (x, nw, eps, wa, wb) => normMatmulPair(rt, asGpu(x), asGpu(nw), eps, wa, wb),
    gateUpSilu: (x, gate, up, norm) =>
      gateUpSilu(rt, asGpu(x), gate, up, norm && { weight: asGpu(norm.weight), eps: norm.eps }),
    matmulAdd: (x, w, residual) => matmulAdd(rt, asGpu(x), w, asGpu(residual)),
    add: (a, b) => add(rt, asGpu(a), asGpu(b)),
    rmsNorm: (x, w, eps) => rmsNorm(rt, asGpu(x), asGpu(w), eps),
    layerNorm: (x, w, b, eps) => layerNorm(rt, asGpu(x), asGpu(w), asGpu(b), eps),
    siluMul: (g, u) => siluMul(rt, asGpu(g), asGpu(u)),
    gelu: (x, form) => gelu(rt, asGpu(x), form),
    embedding: (ids, table) => embedding(rt, asGpu(ids), table),
    sliceCols: (x, start, width) => sliceCols(rt, asGpu(x), start, width),
    sliceRows: (x, start, count) => sliceRows(rt, asGpu(x), start, count),
    spliceRows: (x, rows, src) => spliceRows(rt, asGpu(x), rows, asGpu(src)),
  };
}
