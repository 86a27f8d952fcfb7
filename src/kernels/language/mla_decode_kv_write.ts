// latentRowWrite on the GPU (shaders/mla_decode_kv_write.wgsl): kv_a's output [T, R+P] → RMSNorm of the c
// columns, RoPE of the k_pe columns, written as the cache rows pos0.. in one dispatch per cache part
// touched (decode: one dispatch in all, where slice + slice + rmsNorm + rope + kvCacheWrite took five).
import source from '../../../shaders/mla_decode_kv_write.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { Tensor } from '../../tensor/types.ts';
import { ro, rw } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { RopeOptions } from '../types.ts';
import { latentRowWriteShape } from './mla_decode_kv_write.shape.ts';
import { ropeTable, ropeTableServes } from './rope.ts';

const Params = defineUniforms('LatentRowWriteParams', {
  R: 'u32',
  P: 'u32',
  pos0: 'u32',
  T0: 'u32',
  ROW0: 'u32',
  eps: 'f32',
});
const WG = 256;

export function latentRowWrite(
  rt: GpuRuntime,
  cache: Tensor,
  kva: GpuTensor,
  norm: GpuTensor,
  eps: number,
  rope: RopeOptions,
): void {
  const { T, R, P } = latentRowWriteShape(cache, kva, norm, rope);
  const f16 = cache.dtype === 'f16';
  checkShape(f16 || cache.dtype === 'f32', 'latentRowWrite', `a ${cache.dtype} cache`);
  checkShape(!f16 || (R + P) % 2 === 0, 'latentRowWrite', `an f16 cache needs an even width, got ${R + P}`);
  const pos0 = rope.pos0;
  const table = ropeTable(rt, rope, pos0 + T);
  const maxX = rt.device.limits.maxComputeWorkgroupsPerDimension;
  for (const part of partsOf(cache)) {
    // token rows t0 .. t1 fall in the part's positions [start, start + count)
    const t0 = Math.max(0, part.start - pos0);
    const t1 = Math.min(T, part.start + part.count - pos0);
    for (let a = t0; a < t1; a += maxX) {
      const n = Math.min(maxX, t1 - a);
      rt.dispatch({
        op: 'mla_decode_kv_write',
        source,
        defines: { CACHE_F16: f16 },
        overrides: { WG },
        uniforms: Params,
        params: { R, P, pos0, T0: a, ROW0: part.start, eps },
        // decode: the row moves with the position, within this part and the table's reach
        ...(T === 1 && {
          perStep: ({ pos }) =>
            pos !== undefined &&
            pos >= part.start &&
            pos < part.start + part.count &&
            ropeTableServes(rt, rope, pos + 1, table)
              ? { pos0: pos }
              : null,
        }),
        bindings: [ro(kva), ro(norm), ro(table), rw(part.tensor)],
        workgroups: [n],
      });
    }
  }
}
