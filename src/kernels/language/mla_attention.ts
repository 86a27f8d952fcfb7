// mlaAttention on the GPU, weight-absorbed over the latent cache (spec §9.4), in three dispatches:
//   1. mla_absorb: qcat[t,h] = [W_UK[h]ᵀ q_nope | q_pe]          [T, H, R+P]
//   2. mla_attend: o_lat[t,h] = causal softmax-weighted sum of cache c-rows (online softmax)   [T, H, R]
//      (decode over a long context: key ranges in parallel workgroups, merged by mla_combine)
//   3. mla_out:    o[t,h] = W_UV[h] o_lat[t,h]                     [T, H·V]
// kv_b is read in its storage form (f32/f16/bf16/q8/q4) through shaders/common/weights.wgsl.
import absorbSource from '../../../shaders/mla_absorb.wgsl?raw';
import attendSource from '../../../shaders/mla_attend.wgsl?raw';
import combineSource from '../../../shaders/mla_combine.wgsl?raw';
import outSource from '../../../shaders/mla_out.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, weightAccess } from '../core/matmul.ts';
import { checkShape } from '../core/ref_core_ops.ts';
import type { MlaDims } from '../types.ts';

const AbsorbParams = defineUniforms('MlaAbsorbParams', {
  T: 'u32',
  H: 'u32',
  N: 'u32',
  P: 'u32',
  V: 'u32',
  K: 'u32',
  NB: 'u32',
  SCALE_OFF: 'u32',
  ROWS_X: 'u32',
});
const AttendParams = defineUniforms('MlaAttendParams', {
  H: 'u32',
  R: 'u32',
  P: 'u32',
  pos0: 'u32',
  SCALE: 'f32',
  SPLITS: 'u32',
  CHUNK: 'u32',
  ROWS_X: 'u32',
});
const CombineParams = defineUniforms('MlaCombineParams', {
  n: 'u32',
  R: 'u32',
  SPLITS: 'u32',
  ROWS_X: 'u32',
});
const OutParams = defineUniforms('MlaOutParams', {
  T: 'u32',
  H: 'u32',
  N: 'u32',
  V: 'u32',
  K: 'u32',
  NB: 'u32',
  SCALE_OFF: 'u32',
  ROWS_X: 'u32',
});
/** Workgroup-memory bounds of mla_attend/mla_out (MAX_W, MAX_R there). */
const MAX_W = 1152;
const MAX_R = 1088;
/** Decode splits the keys into ranges of ≥ KEYS_PER_SPLIT (a multiple of mla_attend's WG), at most MAX_SPLITS. */
const KEYS_PER_SPLIT = 256;
const MAX_SPLITS = 32;

/** Key ranges for one query row over `keys` keys: prefill rows already give T·H workgroups. */
export function attendSplits(T: number, keys: number): { splits: number; chunk: number } {
  const splits = T === 1 ? Math.min(MAX_SPLITS, Math.ceil(keys / KEYS_PER_SPLIT)) : 1;
  if (splits <= 1) return { splits: 1, chunk: 0xffffffff };
  return { splits, chunk: Math.ceil(keys / splits / 64) * 64 };
}

export function mlaAttention(
  rt: GpuRuntime,
  q: GpuTensor,
  kvB: GpuTensor,
  cache: GpuTensor,
  pos0: number,
  d: MlaDims,
): GpuTensor {
  const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R } = d;
  const T = q.numel / (H * (N + P));
  const [ctx, W] = cache.shape as [number, number];
  checkShape(
    Number.isInteger(T) && q.shape[q.shape.length - 1] === H * (N + P),
    'mlaAttention',
    `q [${q.shape}] for ${H} heads`,
  );
  checkShape(W === R + P, 'mlaAttention', `cache [${cache.shape}] width vs R+P = ${R + P}`);
  checkShape(
    kvB.shape.join() === [H * (N + V), R].join(),
    'mlaAttention',
    `kv_b [${kvB.shape}] vs [${H * (N + V)}, ${R}]`,
  );
  checkShape(pos0 + T <= ctx, 'mlaAttention', `positions up to ${pos0 + T} exceed cache ${ctx}`);
  checkShape(
    W <= MAX_W && R <= MAX_R,
    'mlaAttention',
    `kv_lora_rank ${R} + rope ${P} exceeds the kernel's ${MAX_W}`,
  );
  const a = weightAccess(kvB);
  const wdef = { [a.define]: true };
  const wBytes = storageBytes(kvB.shape, kvB.dtype);

  const qcat = rt.alloc([T, H, W]);
  const g1 = grid2d(rt, Math.ceil((T * H * W) / 256));
  rt.dispatch({
    op: 'mla_absorb',
    source: absorbSource,
    defines: wdef,
    overrides: { WG: 256 },
    uniforms: AbsorbParams,
    params: { T, H, N, P, V, K: R, NB: a.NB, SCALE_OFF: a.SCALE_OFF, ROWS_X: g1.x },
    bindings: [
      { tensor: q, access: 'read' },
      { tensor: kvB, access: 'read' },
      { tensor: qcat, access: 'rw' },
    ],
    workgroups: [g1.x, g1.y],
    weightBytes: wBytes,
  });

  const olat = rt.alloc([T, H, R]);
  const { splits, chunk } = attendSplits(T, pos0 + 1);
  const part = splits > 1 ? rt.alloc([T * H * splits, R]) : olat;
  const ml = splits > 1 ? rt.alloc([T * H * splits, 2]) : null;
  const g2 = exactGrid(rt, T * H * splits);
  rt.dispatch({
    op: 'mla_attend',
    source: attendSource,
    defines: { SPLIT: splits > 1 },
    overrides: { WG: 64 },
    uniforms: AttendParams,
    params: { H, R, P, pos0, SCALE: d.scale, SPLITS: splits, CHUNK: chunk, ROWS_X: g2.x },
    bindings: [
      { tensor: qcat, access: 'read' },
      { tensor: cache, access: 'read' },
      { tensor: part, access: 'rw' },
      ...(ml ? [{ tensor: ml, access: 'rw' as const }] : []),
    ],
    workgroups: [g2.x, g2.y],
  });
  if (ml) {
    const gc = grid2d(rt, Math.ceil((T * H * R) / 256));
    rt.dispatch({
      op: 'mla_combine',
      source: combineSource,
      overrides: { WG: 256 },
      uniforms: CombineParams,
      params: { n: T * H * R, R, SPLITS: splits, ROWS_X: gc.x },
      bindings: [
        { tensor: part, access: 'read' },
        { tensor: ml, access: 'read' },
        { tensor: olat, access: 'rw' },
      ],
      workgroups: [gc.x, gc.y],
    });
    rt.free(part, ml);
  }

  const o = rt.alloc([T, H * V]);
  const g3 = exactGrid(rt, H * V);
  rt.dispatch({
    op: 'mla_out',
    source: outSource,
    defines: wdef,
    overrides: { WG: 64 },
    uniforms: OutParams,
    params: { T, H, N, V, K: R, NB: a.NB, SCALE_OFF: a.SCALE_OFF, ROWS_X: g3.x },
    bindings: [
      { tensor: olat, access: 'read' },
      { tensor: kvB, access: 'read' },
      { tensor: o, access: 'rw' },
    ],
    workgroups: [g3.x, g3.y],
  });
  rt.free(qcat, olat);
  return o;
}

/** A 2-D grid with exactly `count` workgroups (x·y = count), for kernels that index by workgroup id. */
export function exactGrid(rt: GpuRuntime, count: number): { x: number; y: number } {
  const max = rt.device.limits.maxComputeWorkgroupsPerDimension;
  if (count <= max) return { x: count, y: 1 };
  for (let x = max; x > 0; x--) if (count % x === 0 && count / x <= max) return { x, y: count / x };
  return { x: count, y: 1 }; // the runtime reports the limit
}
