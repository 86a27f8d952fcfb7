// rope on the GPU: interleaved pairs rotated with a host-built cos/sin table indexed by absolute position.
// The table (f64-accurate like the reference, YaRN-scaled when configured) is kept per runtime and grown
// by doubling, so a decode step reuses it and never uploads. It owns its buffer (not pooled): a replayed
// decode step (src/gpu/replay/) binds it, and ropeTableServes tells it whether it still is the table.
import source from '../../../shaders/rope.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { perObject } from '../../per_object.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { RopeOptions } from '../types.ts';
import { ropeShape } from './language_shapes.ts';
import { ropeInvFreq } from './rope.ref.ts';

const Params = defineUniforms('RopeParams', {
  n: 'u32',
  C: 'u32',
  HEADS: 'u32',
  STRIDE: 'u32',
  OFFSET: 'u32',
  ROPE: 'u32',
  pos0: 'u32',
  ROWS_X: 'u32',
});
const WG = 256;

interface Table {
  key: string;
  positions: number;
  tensor: GpuTensor;
}
const tablesFor = perObject((_rt: GpuRuntime) => new Map<string, Table>());
const tableKey = (o: RopeOptions) => `${o.ropeDim}|${o.theta}|${JSON.stringify(o.yarn ?? null)}`;

/** Whether `table` is still the runtime's table for `o` and covers `needed` positions (no regrowth). */
export function ropeTableServes(rt: GpuRuntime, o: RopeOptions, needed: number, table: GpuTensor): boolean {
  const hit = tablesFor(rt).get(tableKey(o));
  return hit?.tensor === table && hit.positions >= needed;
}

/** cos/sin table [positions, ropeDim/2, 2] covering at least `needed` positions. */
export function ropeTable(rt: GpuRuntime, o: RopeOptions, needed: number): GpuTensor {
  const key = tableKey(o);
  const byKey = tablesFor(rt);
  const hit = byKey.get(key);
  if (hit && hit.positions >= needed) return hit.tensor;
  const positions = Math.max(256, 2 ** Math.ceil(Math.log2(needed)), (hit?.positions ?? 0) * 2);
  const half = o.ropeDim / 2;
  const mul = o.yarn ? o.yarn.attnFactor : 1;
  const inv = Array.from({ length: half }, (_, i) => ropeInvFreq(i, o.ropeDim, o.theta, o.yarn));
  const data = new Float32Array(positions * half * 2);
  for (let p = 0; p < positions; p++)
    for (let i = 0; i < half; i++) {
      const a = p * inv[i]!;
      data[(p * half + i) * 2] = Math.cos(a) * mul;
      data[(p * half + i) * 2 + 1] = Math.sin(a) * mul;
    }
  const shape = [positions, half, 2];
  const tensor = rt.uploadWeight({ dtype: 'f32', shape, bytes: new Uint8Array(data.buffer) }, 'rope-table');
  if (hit) rt.free(hit.tensor); // owned: destroyed once the recorded work that reads it is submitted
  byKey.set(key, { key, positions, tensor });
  return tensor;
}

export function rope(rt: GpuRuntime, x: GpuTensor, o: RopeOptions): GpuTensor {
  const { T, C } = ropeShape(x, o);
  checkShape(x.dtype === 'f32', 'rope', `expects f32, got ${x.dtype}`);
  const table = ropeTable(rt, o, o.pos0 + T);
  const y = rt.alloc(x.shape);
  const g = grid2d(rt, Math.max(1, Math.ceil(x.numel / WG)));
  rt.dispatch({
    op: 'rope',
    source,
    overrides: { WG },
    uniforms: Params,
    params: {
      n: x.numel,
      C,
      HEADS: o.heads,
      STRIDE: o.headStride,
      OFFSET: o.offset,
      ROPE: o.ropeDim,
      pos0: o.pos0,
      ROWS_X: g.x,
    },
    bindings: [ro(x), ro(table), rw(y)],
    workgroups: [g.x, g.y],
  });
  return y;
}
