// kvCacheWrite on the GPU: rows pos0.. of the latent cache [ctx, R+P] ← [c_norm | k_pe], f32 or f16 (two
// halves per u32 word, R+P even); a cache in parts (positions) takes one dispatch per part the rows fall in.
import source from '../../../shaders/kv_cache_write.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { Tensor } from '../../tensor/types.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import { kvCacheWriteShape } from './language_shapes.ts';

const Params = defineUniforms('KvWriteParams', {
  T: 'u32',
  R: 'u32',
  P: 'u32',
  pos0: 'u32',
  ROWS_X: 'u32',
  T0: 'u32',
  ROW0: 'u32',
});
const WG = 256;

export function kvCacheWrite(
  rt: GpuRuntime,
  cache: Tensor,
  c: GpuTensor,
  kPe: GpuTensor,
  pos0: number,
): void {
  const { T, R, P } = kvCacheWriteShape(cache, c, kPe, pos0);
  const f16 = cache.dtype === 'f16';
  checkShape(f16 || cache.dtype === 'f32', 'kvCacheWrite', `a ${cache.dtype} cache`);
  checkShape(!f16 || (R + P) % 2 === 0, 'kvCacheWrite', `an f16 cache needs an even width, got ${R + P}`);
  const perThread = f16 ? 2 : 1;
  for (const part of partsOf(cache)) {
    // token rows t0 .. t1 of this write fall in the part's positions [start, start + count)
    const t0 = Math.max(0, part.start - pos0);
    const t1 = Math.min(T, part.start + part.count - pos0);
    if (t1 <= t0) continue;
    const n = t1 - t0;
    const g = grid2d(rt, Math.max(1, Math.ceil((n * (R + P)) / perThread / WG)));
    rt.dispatch({
      op: 'kv_cache_write',
      source,
      defines: { CACHE_F16: f16 },
      overrides: { WG },
      uniforms: Params,
      params: { T: n, R, P, pos0, ROWS_X: g.x, T0: t0, ROW0: part.start },
      bindings: [ro(c), ro(kPe), rw(part.tensor)],
      workgroups: [g.x, g.y],
    });
  }
}
