// The peer's side of the side-by-side: one-node ONNX graphs at the same shapes our kernels run.
//   MatMul (f32/f16):            y[M,N] = x[M,K] · B[K,N]          (B = our w[N,K] transposed)
//   MatMulNBits (com.microsoft): y[M,N] = x[M,K] · dequant(B)ᵀ     (4-bit, block 32, zero point 8 —
//                                exactly kvq1 q4's (q − 8)·d with low nibble first, so the quant bytes
//                                are shared as they are and only the f16 scales widen to f32; 8-bit,
//                                zero point 128: kvq1 q8's int8 q with its sign bit flipped)
//                                accuracy_level 0 (f32 math) or 4 (int8 activations, ORT's DP4A kernel)
//   attention (standard ops):    softmax(q·kᵀ·scale)·v per head, q,k,v [H, L, d] (split into head groups
//                                where one [H, L, L] score tensor would pass the binding-size limit)
//   MultiHeadAttention (com.microsoft): the same, q,k,v [B, L, H·d] (ORT's fused/flash attention op)
import { encodeModel, type OnnxGraph, type OnnxNode, type OnnxTensor, OnnxType } from './onnx_builder.ts';

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
/**
 * WebGPU's default maxStorageBufferBindingSize, which every device has: the most one L×L score tensor of the
 * attention graph may take (16 heads of 4,096 patches would be 1 GiB, past SwiftShader's binding limit:
 * ORT then fails on an invalid buffer).
 */
export const ATTENTION_SCORE_BYTES = 128 * 2 ** 20;

/** The fewest head groups (dividing H) whose f32 score tensors [H/groups, L, L] fit `maxBytes` each. */
export function attentionHeadGroups(H: number, L: number, maxBytes = ATTENTION_SCORE_BYTES): number {
  for (let groups = 1; groups < H; groups++)
    if (H % groups === 0 && (H / groups) * L * L * 4 <= maxBytes) return groups;
  return H;
}

/** softmax(q·kᵀ·scale)·v over q, k, v [heads, L, d] → o. */
function attentionNodes(q: string, k: string, v: string, o: string, tag = ''): OnnxNode[] {
  return [
    { opType: 'Transpose', inputs: [k], outputs: [`kT${tag}`], attrs: [{ name: 'perm', ints: [0, 2, 1] }] },
    { opType: 'MatMul', inputs: [q, `kT${tag}`], outputs: [`s${tag}`] },
    { opType: 'Mul', inputs: [`s${tag}`, 'scale'], outputs: [`ss${tag}`] },
    { opType: 'Softmax', inputs: [`ss${tag}`], outputs: [`p${tag}`], attrs: [{ name: 'axis', i: -1 }] },
    { opType: 'MatMul', inputs: [`p${tag}`, v], outputs: [o] },
  ];
}

/**
 * The attention graph over q, k, v [H, L, d] → o [H, L, d]; with `groups` > 1 the heads are split (Split on
 * axis 0) into that many equal groups, each runs the same five nodes (its own, smaller, score tensor) in
 * turn, and a Concat joins the outputs: one session run still times the whole op.
 */
export function attentionGraph(H: number, L: number, d: number, groups = 1): OnnxGraph {
  const scale = new Float32Array([1 / Math.sqrt(d)]);
  const ids = Array.from({ length: groups }, (_, g) => g);
  const split = (x: string): OnnxNode => ({
    opType: 'Split',
    inputs: [x],
    outputs: ids.map((g) => `${x}${g}`),
    attrs: [
      { name: 'axis', i: 0 },
      { name: 'num_outputs', i: groups },
    ],
  });
  const nodes =
    groups === 1
      ? attentionNodes('q', 'k', 'v', 'o')
      : [
          split('q'),
          split('k'),
          split('v'),
          ...ids.flatMap((g) => attentionNodes(`q${g}`, `k${g}`, `v${g}`, `o${g}`, `${g}`)),
          {
            opType: 'Concat',
            inputs: ids.map((g) => `o${g}`),
            outputs: ['o'],
            attrs: [{ name: 'axis', i: 0 }],
          },
        ];
  return {
    name: 'attention',
    nodes,
    initializers: [{ name: 'scale', dims: [], type: OnnxType.FLOAT, raw: new Uint8Array(scale.buffer) }],
    inputs: ['q', 'k', 'v'].map((name) => ({ name, type: OnnxType.FLOAT, dims: [H, L, d] })),
    outputs: [{ name: 'o', type: OnnxType.FLOAT, dims: [H, L, d] }],
    opsets: OPSET,
  };
}

export function attentionModel(H: number, L: number, d: number, groups = 1): Uint8Array {
  return encodeModel(attentionGraph(H, L, d, groups));
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
