// MLA's absorb pass on the GPU (shaders/mla_attention_absorb.wgsl), shared by the decode and the general
// absorbed path: qcat [T, H, R+P] = [W_UK[h]ᵀ q_nope | q_pe] per token and head. With qRope the pass also
// ropes q_pe (the rope table of rope.ts, rows pos0..), so no separate rope dispatch precedes attention.
// Variants: 'elem' (a lane per output value, any weight form) and 'vec' (a workgroup per token and head,
// 8 columns a lane from vec4<u32> words; bf16/f16 with R % 8 = 0), the CPU adapters' default.
import absorbSource from '../../../shaders/mla_attention_absorb.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, ro, rw, WEIGHT_UNIFORMS, weightAccess } from '../dispatch.ts';
import type { MlaDims, QRope } from '../types.ts';
import { qRopeOptions } from './language_shapes.ts';
import { ropeTable, ropeTableServes } from './rope.ts';

const AbsorbParams = defineUniforms('MlaAbsorbParams', {
  T: 'u32',
  H: 'u32',
  N: 'u32',
  P: 'u32',
  V: 'u32',
  ...WEIGHT_UNIFORMS,
  ROWS_X: 'u32',
  pos0: 'u32',
});

export type MlaAbsorbVariant = 'elem' | 'vec';

/** Whether kv_b [rows, R] can be read as whole vec4<u32> words of 8 weights (the 'vec' kernels). */
export function vec8Fits(kvB: GpuTensor): boolean {
  const R = kvB.shape[kvB.shape.length - 1]!;
  return (kvB.dtype === 'bf16' || kvB.dtype === 'f16') && R % 8 === 0;
}

/** 'vec' on CPU adapters where kv_b fits it (measured there: see bench mla), else 'elem'. */
export function chooseMlaAbsorbVariant(rt: GpuRuntime, kvB: GpuTensor): MlaAbsorbVariant {
  return rt.info.isFallbackAdapter && vec8Fits(kvB) ? 'vec' : 'elem';
}

/** qcat [T, H, R+P] of q [T, H·(N+P)] (shapes already checked by the caller). */
export function mlaAbsorb(
  rt: GpuRuntime,
  q: GpuTensor,
  kvB: GpuTensor,
  pos0: number,
  d: MlaDims,
  qRope?: QRope,
  variant: MlaAbsorbVariant = chooseMlaAbsorbVariant(rt, kvB),
): GpuTensor {
  const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R } = d;
  const T = q.shape[0]!;
  const a = weightAccess(kvB);
  const ropeOpts = qRope && qRopeOptions(d, pos0, qRope);
  const table = ropeOpts && ropeTable(rt, ropeOpts, pos0 + T);
  const qcat = rt.alloc([T, H, R + P]);
  // 'vec' where kv_b allows it (forcing it on a q8 kv_b falls back: the words hold no 8 weights)
  const vec = variant === 'vec' && vec8Fits(kvB);
  const wg = vec ? 64 : 256;
  const g = grid2d(rt, vec ? T * H : Math.ceil((T * H * (R + P)) / 256));
  rt.dispatch({
    op: 'mla_attention_absorb',
    source: absorbSource,
    defines: { [a.define]: true, ROPE_Q: table !== undefined, VEC: vec },
    overrides: { WG: wg },
    uniforms: AbsorbParams,
    params: { T, H, N, P, V, ...a.fields, ROWS_X: g.x, pos0 },
    // decode: q is roped at the step's position, within the table's reach
    ...(T === 1 && {
      perStep: ({ pos }) =>
        pos !== undefined && (!ropeOpts || ropeTableServes(rt, ropeOpts, pos + 1, table!))
          ? { pos0: pos }
          : null,
    }),
    bindings: [ro(q), ro(kvB), rw(qcat), ...(table ? [ro(table)] : [])],
    workgroups: [g.x, g.y],
    // only the H·N k rows of kv_b (the out pass reads the value rows)
    weightBytes: storageBytes([H * N, R], kvB.dtype),
  });
  return qcat;
}
