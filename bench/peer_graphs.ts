// The peer's side of the side-by-side: one-node ONNX graphs at the same shapes our kernels run.
//   MatMul (f32/f16):            y[M,N] = x[M,K] · B[K,N]          (B = our w[N,K] transposed)
//   MatMulNBits (com.microsoft): y[M,N] = x[M,K] · dequant(B)ᵀ     (4-bit, block 32, zero point 8 —
//                                exactly kvq1 q4's (q − 8)·d with low nibble first, so the quant bytes
//                                are shared as they are and only the f16 scales widen to f32)
//   attention (standard ops):    softmax(q·kᵀ·scale)·v per head, q,k,v [H, L, d]
import { encodeModel, type OnnxTensor, OnnxType } from './onnx_builder.ts';

const OPSET = [{ domain: '', version: 21 }];

export function matmulModel(
  M: number,
  K: number,
  N: number,
  dtype: 'f32' | 'f16',
  bT: Uint8Array,
): Uint8Array {
  const type = dtype === 'f32' ? OnnxType.FLOAT : OnnxType.FLOAT16;
  return encodeModel({
    name: `matmul_${dtype}`,
    nodes: [{ opType: 'MatMul', inputs: ['x', 'B'], outputs: ['y'] }],
    initializers: [{ name: 'B', dims: [K, N], type, raw: bT }],
    inputs: [{ name: 'x', type, dims: [M, K] }],
    outputs: [{ name: 'y', type, dims: [M, N] }],
    opsets: OPSET,
  });
}

/** quants: kvq1 q4 quant region ([N, K/32, 16] bytes); scales: f32 [N · K/32]. */
export function matmulNBitsModel(
  M: number,
  K: number,
  N: number,
  quants: Uint8Array,
  scales: Float32Array,
): Uint8Array {
  const nb = Math.ceil(K / 32);
  const inits: OnnxTensor[] = [
    { name: 'B', dims: [N, nb, 16], type: OnnxType.UINT8, raw: quants },
    { name: 'scales', dims: [N * nb], type: OnnxType.FLOAT, raw: new Uint8Array(scales.buffer) },
  ];
  return encodeModel({
    name: 'matmul_nbits_q4',
    nodes: [
      {
        opType: 'MatMulNBits',
        domain: 'com.microsoft',
        inputs: ['x', 'B', 'scales'],
        outputs: ['y'],
        attrs: [
          { name: 'K', i: K },
          { name: 'N', i: N },
          { name: 'bits', i: 4 },
          { name: 'block_size', i: 32 },
        ],
      },
    ],
    initializers: inits,
    inputs: [{ name: 'x', type: OnnxType.FLOAT, dims: [M, K] }],
    outputs: [{ name: 'y', type: OnnxType.FLOAT, dims: [M, N] }],
    opsets: [...OPSET, { domain: 'com.microsoft', version: 1 }],
  });
}

/** Scaled dot-product attention over one image's tokens, f32, q/k/v [H, L, d] → [H, L, d]. */
export function attentionModel(H: number, L: number, d: number): Uint8Array {
  const scale = new Float32Array([1 / Math.sqrt(d)]);
  return encodeModel({
    name: 'attention',
    nodes: [
      { opType: 'Transpose', inputs: ['k'], outputs: ['kT'], attrs: [{ name: 'perm', ints: [0, 2, 1] }] },
      { opType: 'MatMul', inputs: ['q', 'kT'], outputs: ['s'] },
      { opType: 'Mul', inputs: ['s', 'scale'], outputs: ['ss'] },
      { opType: 'Softmax', inputs: ['ss'], outputs: ['p'], attrs: [{ name: 'axis', i: -1 }] },
      { opType: 'MatMul', inputs: ['p', 'v'], outputs: ['o'] },
    ],
    initializers: [{ name: 'scale', dims: [], type: OnnxType.FLOAT, raw: new Uint8Array(scale.buffer) }],
    inputs: ['q', 'k', 'v'].map((name) => ({ name, type: OnnxType.FLOAT, dims: [H, L, d] })),
    outputs: [{ name: 'o', type: OnnxType.FLOAT, dims: [H, L, d] }],
    opsets: OPSET,
  });
}
