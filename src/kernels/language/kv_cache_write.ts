// kvCacheWrite on the GPU: rows pos0.. of the latent cache [ctx, R+P] ← [c_norm | k_pe].
import source from '../../../shaders/kv_cache_write.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import { kvCacheWriteShape } from './language_shapes.ts';

const Params = defineUniforms('KvWriteParams', { T: 'u32', R: 'u32', P: 'u32', pos0: 'u32', ROWS_X: 'u32' });
const WG = 256;

export function kvCacheWrite(
  rt: GpuRuntime,
  cache: GpuTensor,
  c: GpuTensor,
  kPe: GpuTensor,
  pos0: number,
): void {
  const { T, R, P } = kvCacheWriteShape(cache, c, kPe, pos0);
  const g = grid2d(rt, Math.max(1, Math.ceil((T * (R + P)) / WG)));
  rt.dispatch({
    op: 'kv_cache_write',
    source,
    overrides: { WG },
    uniforms: Params,
    params: { T, R, P, pos0, ROWS_X: g.x },
    bindings: [ro(c), ro(kPe), rw(cache)],
    workgroups: [g.x, g.y],
  });
}
