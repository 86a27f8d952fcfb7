// Linear layers side by side with ORT: matvec (T = 1, decode) in q4/q8 at the real decode shapes, and
// GEMMs (prefill rows M = 32, 256, 1332) in q4/f16/f32. Ours runs the variant real GPUs run (forced
// through rt.tuning on a CPU adapter); matmul_direct rows are the CPU-adapter path and say so.
// MatMulNBits runs at accuracy_level 0 (f32 math) and 4 (int8 activations: ORT's DP4A kernel where it
// applies); the faster is the row's peer and both times are kept.
import { chooseGemmTiling, describeTiling } from '../src/kernels/core/matmul_tiling.ts';
import { f16BitsToF32, f32ToF16Bits } from '../src/tensor/half.ts';
import { quantLayout } from '../src/tensor/quant_format.ts';
import { type BenchContext, fmtShape, skipReason } from './kernel_bench.ts';
import { bytesOf, compare, type PeerOption, transpose } from './peer_compare.ts';
import { matmulModel, matmulNBitsModel, q8ToUint8 } from './peer_graphs.ts';
import type { PeerInput } from './peer_ort.ts';
import { syntheticActivations, syntheticWeight, weightBytes } from './synthetic.ts';
import type { PeerRow } from './types.ts';
import { gemmDirect, gemmTiled, gemmTiledGpuLanes, gemvGpu, type Variant, withVariant } from './variants.ts';

/** The tiled GEMM as it ran (tile, staged precision, k-chunk, lanes), after the row's variant. */
async function withTiling(c: BenchContext, v: Variant, M: number, N: number, row: PeerRow): Promise<PeerRow> {
  if (v.tuning.matmul !== 'tiled' || !row.variant) return row;
  const tiling = await withVariant(c.rt, v, async () => describeTiling(chooseGemmTiling(c.rt, M, N)));
  return { ...row, variant: `${row.variant}: ${tiling}` };
}

const opName = (M: number) => (M === 1 ? 'matvec' : `matmul M=${M}`);

/** q4/q8 weights: kvq1 vs MatMulNBits on the same quants, accuracy_level 0 and 4. */
export async function peerQuant(
  c: BenchContext,
  M: number,
  K: number,
  N: number,
  quant: 'q4' | 'q8',
  variant: Variant,
  target?: number,
): Promise<PeerRow> {
  const wBytes = weightBytes(quant, [N, K]);
  const row: PeerRow = {
    op: opName(M),
    shape: fmtShape(K, N),
    quant,
    peerOp: `MatMulNBits (${quant === 'q4' ? 4 : 8}-bit, block 32)`,
    target,
    bytes: wBytes + 4 * M * (K + N),
  };
  const skip = skipReason(c, wBytes, false);
  if (skip) return { ...row, skipped: skip };
  const host = syntheticWeight(quant, [N, K], 41 + N);
  const L = quantLayout(quant, [N, K]);
  const f16Scales = new Uint16Array(host.bytes.buffer, L.scaleOffset, L.rows * L.blocksPerRow);
  const scales = Float32Array.from(f16Scales, f16BitsToF32);
  const quants = host.bytes.subarray(0, L.quantBytes);
  const bits = quant === 'q4' ? 4 : 8;
  const xs = syntheticActivations(M * K, 42);
  const w = c.k.uploadWeight(host);
  const x = c.k.upload(xs, [M, K]);
  const ortQuants = bits === 8 ? q8ToUint8(quants) : quants;
  const options: PeerOption[] = ([0, 4] as const).map((level) => ({
    label: `MatMulNBits (${bits}-bit, block 32, accuracy_level ${level}${level === 4 ? ': int8 activations, DP4A' : ': f32 math'})`,
    model: () => matmulNBitsModel(M, K, N, ortQuants, scales, bits, level),
  }));
  try {
    return await withTiling(
      c,
      variant,
      M,
      N,
      await compare(c, {
        row,
        variant,
        ours: () => c.k.matmul(x, w),
        options,
        inputs: [{ name: 'x', dtype: 'float32', dims: [M, K], bytes: bytesOf(xs) }],
      }),
    );
  } finally {
    c.k.release(w, x);
  }
}

/**
 * f32/f16 weights vs ONNX MatMul. ORT's float16 MatMul needs shader-f16; without it our f16-weight
 * kernel is compared with ORT's f32 MatMul on the same (widened) values, and the row says so.
 */
export async function peerFloat(
  c: BenchContext,
  M: number,
  K: number,
  N: number,
  dtype: 'f32' | 'f16',
  variant: Variant,
  target?: number,
): Promise<PeerRow> {
  const row: PeerRow = {
    op: opName(M),
    shape: fmtShape(K, N),
    quant: dtype,
    peerOp: 'MatMul',
    target,
    bytes: weightBytes(dtype, [N, K]) + 4 * M * (K + N),
  };
  const host = syntheticWeight(dtype, [N, K], 31);
  const xs = syntheticActivations(M * K, 32);
  const w = c.k.uploadWeight(host);
  const x = c.k.upload(xs, [M, K]);
  const inputsF32: PeerInput[] = [{ name: 'x', dtype: 'float32', dims: [M, K], bytes: bytesOf(xs) }];
  const run = async (options: PeerOption[], inputs = inputsF32) =>
    withTiling(
      c,
      variant,
      M,
      N,
      await compare(c, { row, variant, ours: () => c.k.matmul(x, w), options, inputs }),
    );
  try {
    if (dtype === 'f32') {
      const wT = transpose(new Float32Array(host.bytes.buffer), N, K);
      return await run([{ label: 'MatMul (float)', model: () => matmulModel(M, K, N, 'f32', bytesOf(wT)) }]);
    }
    const bits = new Uint16Array(host.bytes.buffer);
    if (!c.rt.features.shaderF16) {
      const wT = transpose(Float32Array.from(bits, f16BitsToF32), N, K);
      const r = await run([
        {
          label: 'MatMul (float; float16 needs shader-f16)',
          model: () => matmulModel(M, K, N, 'f32', bytesOf(wT)),
        },
      ]);
      r.note =
        'no shader-f16 on this adapter: ORT runs float16 MatMul only with it, so the peer is its f32 MatMul on the same values (it reads 2× our weight bytes)';
      return r;
    }
    const wT = transpose(bits, N, K);
    const xh = Uint16Array.from(xs, (v) => f32ToF16Bits(v));
    const r = await run(
      [{ label: 'MatMul (float16)', model: () => matmulModel(M, K, N, 'f16', bytesOf(wT)) }],
      [{ name: 'x', dtype: 'float16', dims: [M, K], bytes: bytesOf(xh) }],
    );
    r.note = 'peer computes in f16 (activations too); ours reads f16 weights';
    return r;
  } finally {
    c.k.release(w, x);
  }
}

/** The matvec shapes: attention/shared-expert/dense/MoE projections and the lm_head. */
export function matvecShapes(): [number, number][] {
  return [
    [2048, 1408],
    [1408, 2048],
    [2048, 3072],
    [2048, 11264],
    [2048, 163840],
  ];
}

/** The GEMM shapes (#14): 2048→1408 (MoE expert) and 1152→4304 (MoonViT MLP) at prefill rows. */
export const GEMM_ROWS = [32, 256, 1332] as const;
export const GEMM_SHAPES: [number, number][] = [
  [2048, 1408],
  [1152, 4304],
];

export async function runLinearPeers(c: BenchContext, add: (r: PeerRow) => void): Promise<void> {
  const smoke = c.cfg.smoke;
  const gemv = gemvGpu(c.rt);
  for (const [K, N] of smoke ? matvecShapes().slice(0, 1) : matvecShapes())
    for (const q of smoke ? (['q4'] as const) : (['q4', 'q8'] as const))
      add(await peerQuant(c, 1, K, N, q, gemv, 1));
  if (!smoke) add(await peerFloat(c, 1, 2048, 1408, 'f32', gemv));
  const rows = smoke ? [32] : c.cfg.quick ? [32, 256] : GEMM_ROWS;
  for (const [K, N] of smoke ? GEMM_SHAPES.slice(0, 1) : GEMM_SHAPES)
    for (const M of rows) {
      add(await peerQuant(c, M, K, N, 'q4', gemmTiled, 1));
      if (!smoke) add(await peerFloat(c, M, K, N, 'f16', gemmTiled, 1));
    }
  // the tiled GEMM with the GPU tuning (many lanes) where this adapter tunes it otherwise, and the
  // CPU-adapter path (matmul_direct), each labelled as such: no goal on either
  if (!smoke && c.cpu)
    for (const [K, N] of GEMM_SHAPES) add(await peerQuant(c, 32, K, N, 'q4', gemmTiledGpuLanes));
  if (!smoke && c.cpu) {
    add(await peerQuant(c, 32, 2048, 1408, 'q4', gemmDirect));
    add(await peerFloat(c, 32, 2048, 1408, 'f16', gemmDirect));
  }
}
