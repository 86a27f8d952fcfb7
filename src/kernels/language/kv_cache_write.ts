// kvCacheWrite on the GPU: rows pos0.. of the latent cache [ctx, R+P] ← [c_norm | k_pe].
import source from '../../../shaders/kv_cache_write.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d } from '../core/matmul.ts';
import { checkShape } from '../core/ref_core_ops.ts';

const Params = defineUniforms('KvWriteParams', { T: 'u32', R: 'u32', P: 'u32', pos0: 'u32', ROWS_X: 'u32' });
const WG = 256;

export function kvCacheWrite(
  rt: GpuRuntime,
  cache: GpuTensor,
  c: GpuTensor,
  kPe: GpuTensor,
  pos0: number,
): void {
  const [ctx, W] = cache.shape as [number, number];
  const R = c.shape[c.shape.length - 1]!;
  const T = c.numel / R;
  const P = kPe.shape[kPe.shape.length - 1]!;
  checkShape(
    kPe.numel / P === T && R + P === W,
    'kvCacheWrite',
    `c [${c.shape}] + k_pe [${kPe.shape}] vs cache [${cache.shape}]`,
  );
  checkShape(
    pos0 >= 0 && pos0 + T <= ctx,
    'kvCacheWrite',
    `rows ${pos0}..${pos0 + T} outside cache of ${ctx}`,
  );
  const g = grid2d(rt, Math.max(1, Math.ceil((T * W) / WG)));
  rt.dispatch({
    op: 'kv_cache_write',
    source,
    overrides: { WG },
    uniforms: Params,
    params: { T, R, P, pos0, ROWS_X: g.x },
    bindings: [
      { tensor: c, access: 'read' },
      { tensor: kPe, access: 'read' },
      { tensor: cache, access: 'rw' },
    ],
    workgroups: [g.x, g.y],
  });
}
