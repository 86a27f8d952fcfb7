// Elementwise GPU ops: add, silu·mul, gelu (erf / tanh).
import source from '../../../shaders/elementwise.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { GeluForm } from '../types.ts';
import { grid2d } from './matmul.ts';
import { checkShape } from './ref_core_ops.ts';

const Params = defineUniforms('ElementwiseParams', { n: 'u32', ROWS_X: 'u32' });
const WG = 256;

type ElementwiseOp = 'OP_ADD' | 'OP_SILU_MUL' | 'OP_GELU_ERF' | 'OP_GELU_TANH';

function run(rt: GpuRuntime, op: ElementwiseOp, a: GpuTensor, b?: GpuTensor): GpuTensor {
  checkShape(a.dtype === 'f32', op, `expects f32, got ${a.dtype}`);
  if (b) checkShape(a.shape.join() === b.shape.join(), op, `shapes [${a.shape}] and [${b.shape}] differ`);
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
    bindings: [
      { tensor: a, access: 'read' },
      ...(b ? [{ tensor: b, access: 'read' as const }] : []),
      { tensor: y, access: 'rw' },
    ],
    workgroups: [g.x, g.y],
  });
  return y;
}

export const add = (rt: GpuRuntime, a: GpuTensor, b: GpuTensor) => run(rt, 'OP_ADD', a, b);
export const siluMul = (rt: GpuRuntime, gate: GpuTensor, up: GpuTensor) => run(rt, 'OP_SILU_MUL', gate, up);
export const gelu = (rt: GpuRuntime, x: GpuTensor, form: GeluForm) =>
  run(rt, form === 'erf' ? 'OP_GELU_ERF' : 'OP_GELU_TANH', x);
