// The peer's side of the side-by-side: one-node ONNX graphs at the same shapes our kernels run.
//   MatMul (f32/f16):            y[M,N] = x[M,K] · B[K,N]          (B = our w[N,K] transposed)
//   MatMulNBits (com.microsoft): y[M,N] = x[M,K] · dequant(B)ᵀ     (4-bit, block 32, zero point 8 —
//                                exactly kvq1 q4's (q − 8)·d with low nibble first, so the quant bytes
//                                are shared as they are and only the f16 scales widen to f32; 8-bit,
//                                zero point 128: kvq1 q8's int8 q with its sign bit flipped)
//                                accuracy_level 0 (f32 math) or 4 (int8 activations, ORT's DP4A kernel)
//   attention (standard ops):    softmax(q·kᵀ·scale)·v per head, q,k,v [H, L, d]
//   MultiHeadAttention (com.microsoft): the same, q,k,v [B, L, H·d] (ORT's fused/flash attention op)
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

/** kvq1 q8 quants (int8) → MatMulNBits 8-bit quants (uint8 with the default zero point 128). */
export function q8ToUint8(quants: Uint8Array): Uint8Array {
  const out = new Uint8Array(quants.length);
  for (let i = 0; i < quants.length; i++) out[i] = quants[i]! ^ 0x80;
  return out;
}

/**
 * quants: the kvq1 quant region ([N, K/32, 16] bytes at 4 bits; at 8 bits already through q8ToUint8,
 * [N, K/32, 32]); scales: f32 [N · K/32]. accuracyLevel 4 lets ORT quantise the activations to int8
 * and run its DP4A kernel; 0 keeps f32 math.
 */
export function matmulNBitsModel(
  M: number,
  K: number,
  N: number,
  quants: Uint8Array,
  scales: Float32Array,
  bits: 4 | 8 = 4,
  accuracyLevel: 0 | 4 = 0,
): Uint8Array {
  const nb = Math.ceil(K / 32);
  const inits: OnnxTensor[] = [
    { name: 'B', dims: [N, nb, bits * 4], type: OnnxType.UINT8, raw: quants },
    { name: 'scales', dims: [N * nb], type: OnnxType.FLOAT, raw: new Uint8Array(scales.buffer) },
  ];
  return encodeModel({
    name: `matmul_nbits_q${bits}`,
    nodes: [
      {
        opType: 'MatMulNBits',
        domain: 'com.microsoft',
        inputs: ['x', 'B', 'scales'],
        outputs: ['y'],
        attrs: [
          { name: 'K', i: K },
          { name: 'N', i: N },
          { name: 'bits', i: bits },
          { name: 'block_size', i: 32 },
          { name: 'accuracy_level', i: accuracyLevel },
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

/** com.microsoft MultiHeadAttention over B equal-length sequences, f32, q,k,v [B, L, H·d] → [B, L, H·d]. */
export function multiHeadAttentionModel(B: number, H: number, L: number, d: number): Uint8Array {
  const dims = [B, L, H * d];
  return encodeModel({
    name: 'multi_head_attention',
    nodes: [
      {
        opType: 'MultiHeadAttention',
        domain: 'com.microsoft',
        inputs: ['q', 'k', 'v'],
        outputs: ['o'],
        attrs: [{ name: 'num_heads', i: H }],
      },
    ],
    initializers: [],
    inputs: ['q', 'k', 'v'].map((name) => ({ name, type: OnnxType.FLOAT, dims })),
    outputs: [{ name: 'o', type: OnnxType.FLOAT, dims }],
    opsets: [...OPSET, { domain: 'com.microsoft', version: 1 }],
  });
}
