// MLA decode at long contexts: the new kernel against the old one in the same run, and the bytes each
// reads per token against the f16 minimum (the latent cache once in f16 + q/o + kv_b).
//   old: the kernel this work started from (one workgroup per (head, split): every head streams the f32
//        latent cache, H× the f32 minimum) — bench/baseline/ once it is kept there, else the engine's.
//   new: the engine's mlaAttention as it is now (all heads per cache row, f16 cache, where it landed).
import type { Tensor, WeightDType } from '../src/tensor/types.ts';
import { type BenchContext, REAL } from './kernel_bench.ts';
import { syntheticActivations, syntheticWeight, weightBytes } from './synthetic.ts';
import { timeRuns } from './timing.ts';
import type { MlaDecodeRow } from './types.ts';

export const MLA_DIMS = {
  heads: REAL.heads,
  qkNope: REAL.qkNope,
  qkRope: REAL.qkRope,
  v: REAL.vHead,
  kvRank: REAL.kvRank,
  scale: (REAL.qkNope + REAL.qkRope) ** -0.5,
};

/** A decode kernel over a latent cache: how to build its cache, run one token, and what it reads. */
export interface MlaDecodeKernel {
  name: string;
  /** A cache of `ctx` rows [ctx, R + P] in this kernel's storage form. */
  cache(c: BenchContext, ctx: number): Tensor;
  run(c: BenchContext, q: Tensor, kvB: Tensor, cache: Tensor, pos: number): Tensor;
  /** Bytes of the cache this kernel reads for one token at `ctx` keys. */
  cacheBytesRead(ctx: number): number;
}

const W = REAL.kvRank + REAL.qkRope;

/** The engine's mlaAttention over an f32 cache: every head streams every row (H× the f32 minimum). */
export const enginePerHeadF32: MlaDecodeKernel = {
  name: 'mla_attention_attend (per head, f32 cache)',
  cache: (c, ctx) => c.k.upload(syntheticActivations(ctx * W, 12), [ctx, W]),
  run: (c, q, kvB, cache, pos) => c.k.mlaAttention(q, kvB, cache, pos, MLA_DIMS),
  cacheBytesRead: (ctx) => REAL.heads * ctx * W * 4,
};

/** q and o of one token plus kv_b once: what any decode kernel reads besides the cache. */
export function mlaFixedBytes(quant: WeightDType): number {
  const { heads: H, qkNope: N, qkRope: P, vHead: V, kvRank: R } = REAL;
  return weightBytes(quant, [H * (N + V), R]) + 4 * (H * (N + P) + H * V);
}

/** The f16 minimum for one token at `ctx` keys: the latent cache once in f16 + q/o + kv_b. */
export const mlaMinBytes = (ctx: number, quant: WeightDType) => ctx * W * 2 + mlaFixedBytes(quant);

async function timeKernel(c: BenchContext, k: MlaDecodeKernel, ctx: number, kvB: Tensor, q: Tensor) {
  const cache = k.cache(c, ctx);
  try {
    return await timeRuns(
      () => c.k.release(k.run(c, q, kvB, cache, ctx - 1)),
      () => c.rt.sync(),
      c.timing,
    );
  } finally {
    c.k.release(cache);
  }
}

export async function benchMlaDecode(
  c: BenchContext,
  ctx: number,
  oldK: MlaDecodeKernel,
  newK: MlaDecodeKernel,
  quant: WeightDType = 'bf16',
): Promise<MlaDecodeRow> {
  const fixed = mlaFixedBytes(quant);
  const row: MlaDecodeRow = {
    context: ctx,
    oldKernel: oldK.name,
    newKernel: newK.name,
    bytesRead: newK.cacheBytesRead(ctx) + fixed,
    oldBytesRead: oldK.cacheBytesRead(ctx) + fixed,
    minBytes: mlaMinBytes(ctx, quant),
  };
  const { heads: H, qkNope: N, qkRope: P, vHead: V, kvRank: R } = REAL;
  const kvB = c.k.uploadWeight(syntheticWeight(quant, [H * (N + V), R], 11));
  const q = c.k.upload(syntheticActivations(H * (N + P), 13), [1, H * (N + P)]);
  try {
    row.oldMs = (await timeKernel(c, oldK, ctx, kvB, q)).ms;
    row.newMs = (await timeKernel(c, newK, ctx, kvB, q)).ms;
    row.speedup = row.oldMs / row.newMs;
  } catch (e) {
    row.skipped = `failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    c.k.release(kvB, q);
  }
  return row;
}

type BaselineModule = {
  mlaDecodeBaseline?: MlaDecodeKernel;
  mlaDecodeEngine?: (dtype?: 'f16' | 'f32') => MlaDecodeKernel;
};
/**
 * bench/baseline/mla_decode_baseline.ts when this checkout has it (the old kernel kept by #13's work).
 * Loaded lazily: it imports MLA_DIMS from here, so an eager import would evaluate it before this module.
 */
const baseline = import.meta.glob<BaselineModule>('./baseline/mla_decode_baseline.ts');

/** The old and new kernels this build has (see the header). */
export async function mlaKernels(): Promise<{ oldK: MlaDecodeKernel; newK: MlaDecodeKernel }> {
  const load = Object.values(baseline)[0];
  const b = load ? await load() : undefined;
  if (b?.mlaDecodeBaseline && b.mlaDecodeEngine)
    return { oldK: b.mlaDecodeBaseline, newK: b.mlaDecodeEngine('f16') };
  return {
    oldK: enginePerHeadF32,
    newK: { ...enginePerHeadF32, name: `${enginePerHeadF32.name} (no new kernel in this build)` },
  };
}

export async function runMlaDecodeBenches(
  c: BenchContext,
  log: (s: string) => void,
): Promise<MlaDecodeRow[]> {
  const { oldK, newK } = await mlaKernels();
  const rows: MlaDecodeRow[] = [];
  for (const ctx of c.cfg.smoke ? [1024] : [1024, 8192, 32768]) {
    const r = await benchMlaDecode(c, ctx, oldK, newK);
    log(
      `mla decode ctx ${ctx}: ${r.skipped ?? `old ${r.oldMs!.toFixed(1)} ms, new ${r.newMs!.toFixed(1)} ms, ×${r.speedup!.toFixed(2)}`}`,
    );
    rows.push(r);
  }
  return rows;
}
