// Per-kernel figures at real Kimi-VL shapes (browser side): matvec per storage form, a MoE decode step,
// patch attention (MLA decode has its own table: bench/mla_bench.ts). Time is the median of wall-clock samples
// around rt.sync() (bench/timing.ts); GB/s counts the bytes an op must read at least.
import type { GpuRuntime } from '../src/gpu/runtime.ts';
import type { Kernels } from '../src/kernels/types.ts';
import type { Tensor, WeightDType } from '../src/tensor/types.ts';
import { syntheticActivations, syntheticWeight, weightBytes } from './synthetic.ts';
import { type TimingOptions, timeRuns } from './timing.ts';
import type { BenchConfig, KernelRow } from './types.ts';

/** Kimi-VL-A3B text and MoonViT dimensions (configs/Kimi-VL-A3B-Instruct.config.json). */
export const REAL = {
  hidden: 2048,
  moeInter: 1408,
  inter: 11264,
  vocab: 163840,
  experts: 64,
  active: 6,
  heads: 16,
  qkNope: 128,
  qkRope: 64,
  vHead: 128,
  kvRank: 512,
  visionHidden: 1152,
  visionHeads: 16,
} as const;

export interface BenchContext {
  rt: GpuRuntime;
  k: Kernels;
  cfg: BenchConfig;
  /** SwiftShader or another CPU adapter: image sizes stay small. */
  cpu: boolean;
  /** Timing options for one op, given how long a single run is expected to take on this adapter. */
  timing: TimingOptions;
}

export const fmtShape = (K: number, N: number) => `${K}→${N}`;
const MB = (b: number) => `${(b / 1e6).toFixed(0)} MB`;

function finish(row: KernelRow): KernelRow {
  if (row.timing) {
    row.gbps = row.bytes / (row.timing.ms * 1e-3) / 1e9;
    row.gflops = row.flops / (row.timing.ms * 1e-3) / 1e9;
  }
  return row;
}

/** Reason to skip a weight of `bytes`, or null. */
export function skipReason(c: BenchContext, bytes: number, quickSkip: boolean): string | null {
  if (quickSkip && c.cfg.quick) return 'skipped: --quick leaves out the big shapes';
  const maxBuf = c.rt.device.limits.maxStorageBufferBindingSize;
  if (bytes > maxBuf) return `skipped: weight ${MB(bytes)} > maxStorageBufferBindingSize ${MB(maxBuf)}`;
  if (c.cfg.maxWeightBytes !== null && bytes > c.cfg.maxWeightBytes)
    return `skipped: weight ${MB(bytes)} > the ${MB(c.cfg.maxWeightBytes)} per-run budget for a CPU adapter (--max-weight-mb, or --hardware)`;
  return null;
}

async function timed(c: BenchContext, run: () => Tensor | Tensor[]) {
  return timeRuns(
    () => c.k.release(...([] as Tensor[]).concat(run())),
    () => c.rt.sync(),
    c.timing,
  );
}

export async function benchMatvec(c: BenchContext, K: number, N: number, quant: WeightDType, big = false) {
  const bytes = weightBytes(quant, [N, K]);
  const row: KernelRow = {
    op: 'matvec',
    shape: fmtShape(K, N),
    quant,
    bytes: bytes + 4 * (K + N),
    flops: 2 * N * K,
  };
  const skip = skipReason(c, bytes, big);
  if (skip) return { ...row, skipped: skip };
  const w = c.k.uploadWeight(syntheticWeight(quant, [N, K], N ^ K));
  const x = c.k.upload(syntheticActivations(K, 7), [1, K]);
  try {
    row.timing = await timed(c, () => c.k.matmul(x, w));
  } finally {
    c.k.release(w, x);
  }
  return finish(row);
}

/** moeRoute + moeExperts for one token: 6 of 64 experts at 2048/1408. */
export async function benchMoeStep(c: BenchContext, quant: WeightDType) {
  const { hidden: D, moeInter: I, experts: E, active: A } = REAL;
  const expertBytes = weightBytes(quant, [E, I, D]);
  const gateBytes = weightBytes('bf16', [E, D]);
  const row: KernelRow = {
    op: 'moe decode step',
    shape: `${A}/${E} experts, ${D}/${I}`,
    quant,
    bytes: gateBytes + E * 4 + Math.round((3 * expertBytes * A) / E) + 4 * (D * 2 + 3 * A * I),
    flops: 2 * E * D + A * 3 * 2 * I * D,
  };
  // the budget is about time, so it applies to the bytes a step reads (6 of 64 experts), not the 64 held
  const skip = skipReason(c, row.bytes, false);
  if (skip) return { ...row, skipped: skip.replace('weight', 'step reads') };
  const gate = c.k.uploadWeight(syntheticWeight('bf16', [E, D], 1));
  const bias = c.k.uploadWeight({ dtype: 'f32', shape: [E], bytes: new Uint8Array(E * 4) });
  const eg = c.k.uploadWeight(syntheticWeight(quant, [E, I, D], 2));
  const eu = c.k.uploadWeight(syntheticWeight(quant, [E, I, D], 3));
  const ed = c.k.uploadWeight(syntheticWeight(quant, [E, D, I], 4));
  const x = c.k.upload(syntheticActivations(D, 5), [1, D]);
  const router = { topK: A, nGroup: 1, topkGroup: 1, normTopkProb: true, routedScalingFactor: 2.446 };
  try {
    row.timing = await timed(c, () => {
      const r = c.k.moeRoute(x, gate, bias, router);
      return [r.ids, r.weights, c.k.moeExperts(x, r.ids, r.weights, eg, eu, ed)];
    });
  } finally {
    c.k.release(gate, bias, eg, eu, ed, x);
  }
  return finish(row);
}

/**
 * MoonViT attention over `images` images of side×side patches (packed qkv): 'flash' is the kernel the
 * engine runs, 'varlen' the one-thread-per-query kernel it replaced (kept as the reference mode: the "before").
 */
export async function benchVarlen(
  c: BenchContext,
  images: number,
  side: number,
  kernel: 'flash' | 'varlen' = 'flash',
) {
  const { visionHidden: Dv, visionHeads: H } = REAL;
  const d = Dv / H;
  const L = images * side * side;
  const grids = Array.from({ length: images }, () => ({ h: side, w: side }));
  const row: KernelRow = {
    op: kernel === 'flash' ? 'vision attention (flash)' : 'vision attention (varlen, before)',
    shape: `${images}×${side}×${side} patches, ${H}×${d}`,
    quant: 'f32',
    bytes: L * 3 * Dv * 4 + L * Dv * 4,
    flops: images * 4 * H * d * (side * side) ** 2,
  };
  const qkv = c.k.upload(syntheticActivations(L * 3 * Dv, 21), [L, 3 * Dv]);
  try {
    const before = c.rt.tuning.visionAttention;
    c.rt.tuning.visionAttention = kernel;
    try {
      row.timing = await timed(c, () => c.k.varlenAttention(qkv, grids, H, d));
    } finally {
      c.rt.tuning.visionAttention = before;
    }
  } finally {
    c.k.release(qkv);
  }
  return finish(row);
}

export async function runKernelBenches(c: BenchContext, log: (s: string) => void): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  const add = (r: KernelRow) => {
    rows.push(r);
    log(
      `${r.op} ${r.shape} ${r.quant}: ${r.skipped ?? `${r.timing!.ms.toFixed(3)} ms, ${r.gbps!.toFixed(2)} GB/s`}`,
    );
  };
  const { hidden: D, moeInter: I, inter, vocab } = REAL;
  const quants: WeightDType[] = c.cfg.smoke
    ? ['q4']
    : c.cfg.quick
      ? ['q4', 'q8', 'f16']
      : ['q4', 'q8', 'f16', 'bf16'];
  for (const [K, N] of [
    [D, I],
    [I, D],
    [D, inter],
  ] as const)
    for (const q of quants)
      add(
        c.cfg.smoke && N === inter
          ? { op: 'matvec', shape: fmtShape(K, N), quant: q, bytes: 0, flops: 0, skipped: 'skipped: --smoke' }
          : await benchMatvec(c, K, N, q),
      );
  // the lm_head q4/q8 run in the side-by-side (bench/peer_linear.ts) on a CPU adapter: not twice
  for (const q of quants)
    add(
      c.cpu && (q === 'q4' || q === 'q8')
        ? {
            op: 'matvec',
            shape: fmtShape(D, vocab),
            quant: q,
            bytes: weightBytes(q, [vocab, D]),
            flops: 0,
            skipped: 'skipped: timed in the side-by-side table (CPU adapter: once is enough)',
          }
        : await benchMatvec(c, D, vocab, q, true),
    );
  add(await benchMoeStep(c, 'q4'));
  if (!c.cfg.quick) add(await benchMoeStep(c, 'q8'));
  const side = c.cpu || c.cfg.quick ? 16 : 32;
  for (const n of c.cfg.smoke ? [1] : [1, 4]) add(await benchVarlen(c, n, side));
  // Before/after at 448² (32×32 patches), the issue's reference size, on every adapter.
  if (!c.cfg.smoke)
    for (const kernel of ['varlen', 'flash'] as const) add(await benchVarlen(c, 1, 32, kernel));
  return rows;
}
