// mlaAttention on the GPU, weight-absorbed over the latent cache (spec §9.4), in three dispatches:
//   1. mla_absorb: qcat[t,h] = [W_UK[h]ᵀ q_nope | q_pe]          [T, H, R+P]
//   2. mla_attend: o_lat[t,h] = causal softmax-weighted sum of cache c-rows (online softmax)   [T, H, R]
//   3. mla_out:    o[t,h] = W_UV[h] o_lat[t,h]                     [T, H·V]
// kv_b is read in its storage form (f32/f16/bf16/q8/q4) through shaders/common/weights.wgsl.
import absorbSource from '../../../shaders/mla_absorb.wgsl?raw';
import attendSource from '../../../shaders/mla_attend.wgsl?raw';
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
  const g2 = exactGrid(rt, T * H);
  rt.dispatch({
    op: 'mla_attend',
    source: attendSource,
    overrides: { WG: 64 },
    uniforms: AttendParams,
    params: { H, R, P, pos0, SCALE: d.scale, ROWS_X: g2.x },
    bindings: [
      { tensor: qcat, access: 'read' },
      { tensor: cache, access: 'read' },
      { tensor: olat, access: 'rw' },
    ],
    workgroups: [g2.x, g2.y],
  });

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
