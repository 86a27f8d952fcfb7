// Kernel variants forced through rt.tuning, so a CPU adapter (SwiftShader) measures the kernels real GPUs
// run. Fields that a runtime does not know yet are skipped and named, so a row never claims a variant
// it did not run. A variant spec is a partial Tuning plus a label that goes into the row.
import type { GpuRuntime, Tuning } from '../src/gpu/runtime.ts';

export interface Variant {
  /** What the row calls this kernel path (e.g. "tiled (GPU path)", "direct (CPU-adapter path)"). */
  label: string;
  tuning: Partial<Record<keyof Tuning | string, unknown>>;
}

/** The tuning knobs this runtime has (the others in a variant cannot be forced here). */
export function knownFields(rt: GpuRuntime, v: Variant): { set: string[]; missing: string[] } {
  const t = rt.tuning as unknown as Record<string, unknown>;
  const set: string[] = [];
  const missing: string[] = [];
  for (const k of Object.keys(v.tuning)) (k in t ? set : missing).push(k);
  return { set, missing };
}

/** Runs `fn` with `v` forced into rt.tuning, then puts every field back (also on a throw). */
export async function withVariant<T>(rt: GpuRuntime, v: Variant, fn: () => Promise<T>): Promise<T> {
  const t = rt.tuning as unknown as Record<string, unknown>;
  const { set } = knownFields(rt, v);
  const before = new Map(set.map((k) => [k, t[k]]));
  for (const k of set) t[k] = v.tuning[k];
  try {
    return await fn();
  } finally {
    for (const [k, val] of before) t[k] = val;
  }
}

/** "tiled (GPU path; matmul=tiled)": the label with the knobs actually set (and those this runtime lacks). */
export function describeVariant(rt: GpuRuntime, v: Variant): string {
  const { set, missing } = knownFields(rt, v);
  const knobs = set.map((k) => `${k}=${String(v.tuning[k])}`);
  const lack = missing.length ? `; not in this runtime: ${missing.join(', ')}` : '';
  return knobs.length || lack ? `${v.label} (${knobs.join(', ')}${lack})` : v.label;
}

/** The GEMV variant real GPUs run at T = 1: subgroup reductions where the adapter has them. */
export const gemvGpu = (rt: GpuRuntime): Variant => ({
  label: 'GEMV (GPU path)',
  tuning: { subgroups: rt.features.subgroups },
});

/** The tiled GEMM at this adapter's tuning of it: on a CPU adapter few lanes (matmul_tiling.ts). */
export const gemmTiled: Variant = { label: 'tiled GEMM (GPU path)', tuning: { matmul: 'tiled' } };
/** The tiled GEMM exactly as a GPU runs it: many lanes, double-buffered (a CPU adapter's tuning aside). */
export const gemmTiledGpuLanes: Variant = {
  label: 'tiled GEMM, GPU lanes (GPU path, GPU tuning)',
  tuning: { matmul: 'tiled', matmulLanes: 'many' },
};
export const gemmDirect: Variant = {
  label: 'matmul_direct (CPU-adapter path)',
  tuning: { matmul: 'direct' },
};
export const flashAttention: Variant = {
  label: 'flash attention (GPU path)',
  tuning: { visionAttention: 'flash' },
};
