// The device bandwidth row: a plain copy kernel's GB/s (bytes read + written / time), the ceiling every
// bandwidth-bound kernel is measured against (GEMV rows report their GB/s as a fraction of it).
import type { GpuRuntime } from '../src/gpu/runtime.ts';
import type { GpuTensor } from '../src/gpu/tensor.ts';
import { defineUniforms } from '../src/gpu/uniforms.ts';
import { grid2d, ro, rw } from '../src/kernels/dispatch.ts';
import copySource from './copy_bandwidth.wgsl?raw';
import type { BenchContext } from './kernel_bench.ts';
import { timeRuns } from './timing.ts';
import type { BandwidthRow } from './types.ts';

const CopyParams = defineUniforms('CopyParams', { n: 'u32', ROWS_X: 'u32' });
const WG = 256;

/** Records one copy of `src` into `dst` (both `n` vec4<u32>). */
export function recordCopy(rt: GpuRuntime, src: GpuTensor, dst: GpuTensor, n: number): void {
  const g = grid2d(rt, Math.ceil(n / WG));
  rt.dispatch({
    op: 'bench_copy',
    source: copySource,
    overrides: { WG },
    uniforms: CopyParams,
    params: { n, ROWS_X: g.x },
    bindings: [ro(src), rw(dst)],
    workgroups: [g.x, g.y],
  });
}

export async function benchCopy(c: BenchContext): Promise<BandwidthRow> {
  // big enough to leave every cache (GPU L2s are ≤ 100 MB); smaller on a CPU adapter, where it is time
  const bytes = c.cfg.smoke ? 1 << 20 : c.cpu ? 32 << 20 : 256 << 20;
  const n = bytes / 16;
  const row: BandwidthRow = { op: 'copy (vec4<u32> per lane)', bytes: 2 * bytes };
  const src = c.rt.alloc([bytes / 4], 'u32', 'bench-copy-src');
  const dst = c.rt.alloc([bytes / 4], 'u32', 'bench-copy-dst');
  try {
    row.timing = await timeRuns(
      () => recordCopy(c.rt, src, dst, n),
      () => c.rt.sync(),
      c.timing,
    );
    row.gbps = row.bytes / (row.timing.ms * 1e-3) / 1e9;
  } finally {
    c.rt.free(src, dst);
  }
  return row;
}
