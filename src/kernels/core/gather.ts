// Row/column movement on the GPU: embedding gather (any weight form), slices, splice of image features.
import source from '../../../shaders/gather.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { Tensor } from '../../tensor/types.ts';
import { grid2d, ro, rw, WEIGHT_UNIFORMS, weightAccess } from '../dispatch.ts';
import { embeddingShape, sliceColsShape, sliceRowsShape, spliceRowsShape } from './core_shapes.ts';

const Params = defineUniforms('GatherParams', {
  n: 'u32',
  width: 'u32',
  rows: 'u32',
  cols: 'u32',
  r0: 'u32',
  c0: 'u32',
  ...WEIGHT_UNIFORMS,
  ROWS_X: 'u32',
  LAST: 'u32',
});
const WG = 256;

type GatherOp = 'EMBEDDING' | 'SLICE' | 'SPLICE';
type GatherFields = Partial<
  Record<'rows' | 'cols' | 'r0' | 'c0' | 'K' | 'NB' | 'SCALE_OFF' | 'LAST', number>
>;

function run(
  rt: GpuRuntime,
  op: GatherOp,
  out: GpuTensor,
  fields: GatherFields,
  inputs: GpuTensor[],
  define?: string,
): GpuTensor {
  const width = out.shape[out.shape.length - 1]!;
  const n = out.numel;
  const g = grid2d(rt, Math.max(1, Math.ceil(n / WG)));
  const base = { rows: 0, cols: 0, r0: 0, c0: 0, K: 0, NB: 0, SCALE_OFF: 0, LAST: 1 };
  rt.dispatch({
    op: 'gather',
    source,
    defines: { [op]: true, ...(define ? { [define]: true } : {}) },
    overrides: { WG },
    uniforms: Params,
    params: { ...base, ...fields, n, width, ROWS_X: g.x },
    bindings: [...inputs.map(ro), rw(out)],
    workgroups: [g.x, g.y],
  });
  return out;
}

/**
 * ids u32 [T] → rows of table [V, D]. Ids ≥ V are a caller bug (the engine validates ids first). A table
 * in parts (vocab rows) takes one dispatch per part, each filling the rows of its ids.
 */
export function embedding(rt: GpuRuntime, ids: GpuTensor, table: Tensor): GpuTensor {
  const { T, D } = embeddingShape(ids, table);
  const out = rt.alloc([T, D]);
  const parts = partsOf(table);
  parts.forEach((p, i) => {
    const a = weightAccess(p.tensor);
    const fields = { rows: p.count, r0: p.start, LAST: i === parts.length - 1 ? 1 : 0, ...a.fields };
    run(rt, 'EMBEDDING', out, fields, [ids, p.tensor], a.define);
  });
  return out;
}

export function sliceCols(rt: GpuRuntime, x: GpuTensor, start: number, width: number): GpuTensor {
  const { rows, cols } = sliceColsShape(x, start, width);
  return run(rt, 'SLICE', rt.alloc([rows, width]), { rows, cols, r0: 0, c0: start }, [x]);
}

export function sliceRows(rt: GpuRuntime, x: GpuTensor, start: number, count: number): GpuTensor {
  const { rows, cols } = sliceRowsShape(x, start, count);
  return run(rt, 'SLICE', rt.alloc([count, cols]), { rows, cols, r0: start, c0: 0 }, [x]);
}

/** The shader reads map[r] = 1 + the src row that replaces row r (0: keep x's row). */
export function spliceRows(rt: GpuRuntime, x: GpuTensor, rows: readonly number[], src: GpuTensor): GpuTensor {
  const { T } = spliceRowsShape(x, rows, src);
  const map = new Uint32Array(T);
  rows.forEach((r, i) => {
    map[r] = i + 1;
  });
  const mapT = rt.upload(map, [T]);
  const out = run(rt, 'SPLICE', rt.alloc(x.shape), {}, [x, mapT, src]);
  rt.free(mapT);
  return out;
}
