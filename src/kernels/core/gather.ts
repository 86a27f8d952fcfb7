// Row/column movement on the GPU: embedding gather (any weight form), slices, splice of image features.
import source from '../../../shaders/gather.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, weightAccess, weightRowBytes } from './matmul.ts';
import { checkShape } from './ref_core_ops.ts';

const Params = defineUniforms('GatherParams', {
  n: 'u32',
  width: 'u32',
  rows: 'u32',
  cols: 'u32',
  r0: 'u32',
  c0: 'u32',
  K: 'u32',
  NB: 'u32',
  SCALE_OFF: 'u32',
  ROWS_X: 'u32',
});
const WG = 256;

type GatherOp = 'EMBEDDING' | 'SLICE' | 'SPLICE';

function run(
  rt: GpuRuntime,
  op: GatherOp,
  out: GpuTensor,
  fields: Partial<Record<'rows' | 'cols' | 'r0' | 'c0' | 'K' | 'NB' | 'SCALE_OFF', number>>,
  inputs: GpuTensor[],
  define?: string,
  weightBytes = 0,
): GpuTensor {
  const width = out.shape[out.shape.length - 1]!;
  const n = out.numel;
  const g = grid2d(rt, Math.max(1, Math.ceil(n / WG)));
  const base = { rows: 0, cols: 0, r0: 0, c0: 0, K: 0, NB: 0, SCALE_OFF: 0 };
  rt.dispatch({
    op: 'gather',
    source,
    defines: { [op]: true, ...(define ? { [define]: true } : {}) },
    overrides: { WG },
    uniforms: Params,
    params: { ...base, ...fields, n, width, ROWS_X: g.x },
    bindings: [
      ...inputs.map((t) => ({ tensor: t, access: 'read' as const })),
      { tensor: out, access: 'rw' as const },
    ],
    workgroups: [g.x, g.y],
    weightBytes,
  });
  return out;
}

/** ids u32 [T] → rows of table [V, D]. Ids ≥ V are a caller bug (the engine validates ids first). */
export function embedding(rt: GpuRuntime, ids: GpuTensor, table: GpuTensor): GpuTensor {
  checkShape(ids.dtype === 'u32', 'embedding', `ids must be u32, got ${ids.dtype}`);
  const a = weightAccess(table);
  const V = table.numel / a.K;
  const out = rt.alloc([ids.numel, a.K]);
  return run(
    rt,
    'EMBEDDING',
    out,
    { rows: V, K: a.K, NB: a.NB, SCALE_OFF: a.SCALE_OFF },
    [ids, table],
    a.define,
  );
}

export function sliceCols(rt: GpuRuntime, x: GpuTensor, start: number, width: number): GpuTensor {
  const cols = x.shape[x.shape.length - 1]!;
  const rows = x.numel / cols;
  checkShape(
    start >= 0 && width > 0 && start + width <= cols,
    'sliceCols',
    `[${start}, ${start + width}) of ${cols}`,
  );
  return run(rt, 'SLICE', rt.alloc([rows, width]), { rows, cols, r0: 0, c0: start }, [x]);
}

export function sliceRows(rt: GpuRuntime, x: GpuTensor, start: number, count: number): GpuTensor {
  const cols = x.shape[x.shape.length - 1]!;
  const rows = x.numel / cols;
  checkShape(
    start >= 0 && count > 0 && start + count <= rows,
    'sliceRows',
    `[${start}, ${start + count}) of ${rows}`,
  );
  return run(rt, 'SLICE', rt.alloc([count, cols]), { rows, cols, r0: start, c0: 0 }, [x]);
}

export function spliceRows(rt: GpuRuntime, x: GpuTensor, rows: readonly number[], src: GpuTensor): GpuTensor {
  const D = x.shape[x.shape.length - 1]!;
  const T = x.numel / D;
  checkShape(
    src.numel === rows.length * D,
    'spliceRows',
    `src [${src.shape}] for ${rows.length} rows of ${D}`,
  );
  const map = new Uint32Array(T);
  rows.forEach((r, i) => {
    checkShape(r >= 0 && r < T && map[r] === 0, 'spliceRows', `row ${r} out of range or repeated`);
    map[r] = i + 1;
  });
  const mapT = rt.upload(map, [T]);
  const out = run(rt, 'SPLICE', rt.alloc(x.shape), {}, [x, mapT, src]);
  rt.free(mapT);
  return out;
}
