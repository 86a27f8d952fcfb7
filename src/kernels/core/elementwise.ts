// Elementwise GPU ops: add, silu·mul, gelu (erf / tanh).
import source from '../../../shaders/elementwise.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { GeluForm } from '../types.ts';
import { elementwiseShape } from './core_shapes.ts';

const Params = defineUniforms('ElementwiseParams', { n: 'u32', ROWS_X: 'u32' });
const WG = 256;

type ElementwiseOp = 'OP_ADD' | 'OP_SILU_MUL' | 'OP_GELU_ERF' | 'OP_GELU_TANH';
const OP_NAME: Record<ElementwiseOp, string> = {
  OP_ADD: 'add',
  OP_SILU_MUL: 'siluMul',
  OP_GELU_ERF: 'gelu',
  OP_GELU_TANH: 'gelu',
};

function run(rt: GpuRuntime, op: ElementwiseOp, a: GpuTensor, b?: GpuTensor): GpuTensor {
  checkShape(a.dtype === 'f32', OP_NAME[op], `expects f32, got ${a.dtype}`);
  if (b) elementwiseShape(OP_NAME[op], a, b);
  const n = a.numel;
  const g = grid2d(rt, Math.max(1, Math.ceil(n / WG)));
  const y = rt.alloc(a.shape);
  rt.dispatch({
    op: 'elementwise',
    source,
    defines: { [op]: true, BINARY: !!b },
    overrides: { WG },
    uniforms: Params,
    params: { n, ROWS_X: g.x },
    bindings: [ro(a), ...(b ? [ro(b)] : []), rw(y)],
    workgroups: [g.x, g.y],
  });
  return y;
}

export const add = (rt: GpuRuntime, a: GpuTensor, b: GpuTensor) => run(rt, 'OP_ADD', a, b);
export const siluMul = (rt: GpuRuntime, gate: GpuTensor, up: GpuTensor) => run(rt, 'OP_SILU_MUL', gate, up);
export const gelu = (rt: GpuRuntime, x: GpuTensor, form: GeluForm) =>
  run(rt, form === 'erf' ? 'OP_GELU_ERF' : 'OP_GELU_TANH', x);
