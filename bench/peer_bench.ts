// Side by side with ONNX Runtime Web's WebGPU backend on the same adapter, same page, same inputs:
// our kernel and the peer's graph run the same shape; we report ours/theirs and how closely the two
// outputs agree (so a ratio never compares different work).
import { f16BitsToF32, f32ToF16Bits } from '../src/tensor/half.ts';
import { quantLayout } from '../src/tensor/quant_format.ts';
import type { Tensor } from '../src/tensor/types.ts';
import { type BenchContext, fmtShape, REAL } from './kernel_bench.ts';
import { attentionModel, matmulModel, matmulNBitsModel } from './peer_graphs.ts';
import { type PeerInput, runPeer } from './peer_ort.ts';
import { syntheticActivations, syntheticWeight } from './synthetic.ts';
import { timeRuns } from './timing.ts';
import type { PeerRow } from './types.ts';

const bytesOf = (a: Float32Array | Uint16Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function agreement(ours: Float32Array, theirs: Float32Array): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < theirs.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
    maxRef = Math.max(maxRef, Math.abs(theirs[i]!));
  }
  // an all-zero reference would make any agreement meaningless
  return ours.length === theirs.length && maxRef > 0 ? maxDiff / maxRef : Number.NaN;
}

/** [rows, cols] of 16- or 32-bit elements → [cols, rows]. */
function transpose<T extends Float32Array | Uint16Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as { new (n: number): T })(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

async function oursTimed(c: BenchContext, run: () => Tensor): Promise<{ ms: number; out: Float32Array }> {
  const y = run();
  const out = await c.k.read(y);
  c.k.release(y);
  const t = await timeRuns(
    () => c.k.release(run()),
    () => c.rt.sync(),
    c.timing,
  );
  return { ms: t.ms, out };
}

async function compare(
  c: BenchContext,
  row: PeerRow,
  ours: () => Tensor,
  model: () => Uint8Array,
  inputs: PeerInput[],
  oursLayout: (o: Float32Array) => Float32Array = (o) => o,
): Promise<PeerRow> {
  const mine = await oursTimed(c, ours);
  row.oursMs = mine.ms;
  try {
    const peer = await runPeer(model(), inputs, c.timing);
    row.peerMs = peer.timing.ms;
    row.ratio = mine.ms / peer.timing.ms;
    row.agreement = agreement(oursLayout(mine.out), peer.output);
  } catch (e) {
    row.skipped = `skipped: peer failed (${(e as Error).message.split('\n')[0]!.slice(0, 160)})`;
  }
  return row;
}

/** y = x·wᵀ at [M,K]·[N,K]ᵀ, f32 or f16 weights (ONNX MatMul with B = wᵀ). */
async function peerMatmul(c: BenchContext, M: number, K: number, N: number, dtype: 'f32' | 'f16') {
  const row: PeerRow = {
    op: M === 1 ? 'matvec' : `matmul M=${M}`,
    shape: fmtShape(K, N),
    quant: dtype,
    peerOp: `MatMul (${dtype === 'f32' ? 'float' : 'float16'})`,
  };
  const host = syntheticWeight(dtype, [N, K], 31);
  const xs = syntheticActivations(M * K, 32);
  const w = c.k.uploadWeight(host);
  const x = c.k.upload(xs, [M, K]);
  try {
    if (dtype === 'f32') {
      const wT = transpose(new Float32Array(host.bytes.buffer), N, K);
      return await compare(
        c,
        row,
        () => c.k.matmul(x, w),
        () => matmulModel(M, K, N, 'f32', bytesOf(wT)),
        [{ name: 'x', dtype: 'float32', dims: [M, K], bytes: bytesOf(xs) }],
      );
    }
    if (!c.rt.features.shaderF16)
      return {
        ...row,
        skipped: 'skipped: the adapter has no shader-f16, which ORT needs for float16 MatMul',
      };
    const wT = transpose(new Uint16Array(host.bytes.buffer), N, K);
    const xh = Uint16Array.from(xs, (v) => f32ToF16Bits(v));
    const r = await compare(
      c,
      row,
      () => c.k.matmul(x, w),
      () => matmulModel(M, K, N, 'f16', bytesOf(wT)),
      [{ name: 'x', dtype: 'float16', dims: [M, K], bytes: bytesOf(xh) }],
    );
    r.note = 'peer computes in f16 (activations too); ours reads f16 weights, computes in f32';
    return r;
  } finally {
    c.k.release(w, x);
  }
}

/** q4 weights: kvq1 q4 vs MatMulNBits (4 bits, block 32, zero point 8) on the same quants. */
async function peerQ4(c: BenchContext, M: number, K: number, N: number) {
  const row: PeerRow = {
    op: M === 1 ? 'matvec' : `matmul M=${M}`,
    shape: fmtShape(K, N),
    quant: 'q4',
    peerOp: 'MatMulNBits (4-bit, block 32)',
  };
  const host = syntheticWeight('q4', [N, K], 41);
  const L = quantLayout('q4', [N, K]);
  const f16Scales = new Uint16Array(host.bytes.buffer, L.scaleOffset, L.rows * L.blocksPerRow);
  const scales = Float32Array.from(f16Scales, f16BitsToF32);
  const xs = syntheticActivations(M * K, 42);
  const w = c.k.uploadWeight(host);
  const x = c.k.upload(xs, [M, K]);
  try {
    return await compare(
      c,
      row,
      () => c.k.matmul(x, w),
      () => matmulNBitsModel(M, K, N, host.bytes.subarray(0, L.quantBytes), scales),
      [{ name: 'x', dtype: 'float32', dims: [M, K], bytes: bytesOf(xs) }],
    );
  } finally {
    c.k.release(w, x);
  }
}

/** One image of side×side patches: our varlen kernel vs Transpose/MatMul/Softmax/MatMul. */
async function peerAttention(c: BenchContext, side: number) {
  const { visionHidden: Dv, visionHeads: H } = REAL;
  const d = Dv / H;
  const L = side * side;
  const row: PeerRow = {
    op: 'patch attention',
    shape: `1×${side}×${side} patches, ${H}×${d}`,
    quant: 'f32',
    peerOp: 'MatMul·Softmax·MatMul graph',
  };
  const qkv = syntheticActivations(L * 3 * Dv, 51);
  // [L, 3, H, d] → three [H, L, d]
  const part = (which: number) => {
    const out = new Float32Array(H * L * d);
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++)
        for (let j = 0; j < d; j++) out[(h * L + l) * d + j] = qkv[l * 3 * Dv + which * Dv + h * d + j]!;
    return out;
  };
  const t = c.k.upload(qkv, [L, 3 * Dv]);
  const grids = [{ h: side, w: side }];
  try {
    const r = await compare(
      c,
      row,
      () => c.k.varlenAttention(t, grids, H, d),
      () => attentionModel(H, L, d),
      ['q', 'k', 'v'].map((name, i) => ({
        name,
        dtype: 'float32' as const,
        dims: [H, L, d],
        bytes: bytesOf(part(i)),
      })),
      // ours [L, H·d] → [H, L, d]
      (o) => headsFirst(o, L, H, d),
    );
    r.note = 'peer materialises the L×L scores per head; ours streams them (online softmax)';
    return r;
  } finally {
    c.k.release(t);
  }
}

function headsFirst(o: Float32Array, L: number, H: number, d: number): Float32Array {
  const out = new Float32Array(o.length);
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++)
      for (let j = 0; j < d; j++) out[(h * L + l) * d + j] = o[l * H * d + h * d + j]!;
  return out;
}

export async function runPeerBenches(c: BenchContext, log: (s: string) => void): Promise<PeerRow[]> {
  const { hidden: D, moeInter: I, inter } = REAL;
  const rows: PeerRow[] = [];
  const add = (r: PeerRow) => {
    rows.push(r);
    log(
      `peer ${r.op} ${r.shape} ${r.quant}: ${r.skipped ?? `ours ${r.oursMs!.toFixed(3)} ms, ORT ${r.peerMs!.toFixed(3)} ms, ratio ${r.ratio!.toFixed(2)}`}`,
    );
  };
  add(await peerQ4(c, 1, D, I));
  if (!c.cfg.smoke) add(await peerQ4(c, 1, D, inter));
  add(await peerMatmul(c, 1, D, I, 'f32'));
  if (!c.cfg.smoke) add(await peerMatmul(c, 1, D, I, 'f16'));
  const M = c.cpu ? 32 : 64; // prefill-sized rows (fewer on a CPU adapter)
  if (!c.cfg.smoke) add(await peerMatmul(c, M, D, I, 'f32'));
  if (!c.cfg.smoke) add(await peerQ4(c, M, D, I));
  add(await peerAttention(c, c.cfg.smoke ? 8 : c.cpu || c.cfg.quick ? 16 : 32));
  return rows;
}
