// sample on the GPU: copy (+ repetition penalty) then one workgroup picks the id (shaders/sample.wgsl).
// The uniform draw U = uniformForStep(seed, step) is computed on the host (it depends only on the
// counters), so GPU and reference use the very same number.
import source from '../../../shaders/sample.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d } from '../core/matmul.ts';
import { checkShape } from '../core/ref_core_ops.ts';
import type { SamplingParams } from '../types.ts';
import { uniformForStep } from './rng.ts';

const CopyParams = defineUniforms('SampleCopyParams', {
  V: 'u32',
  NHIST: 'u32',
  PENALTY_F: 'f32',
  ROWS_X: 'u32',
});
const PickParams = defineUniforms('SamplePickParams', {
  V: 'u32',
  GREEDY: 'u32',
  INV_TEMP: 'f32',
  TOPK: 'u32',
  TOPP: 'f32',
  U: 'f32',
});
const WG = 256;

export function sample(
  rt: GpuRuntime,
  logits: GpuTensor,
  history: GpuTensor | null,
  p: SamplingParams,
  step: number,
): GpuTensor {
  const V = logits.shape[logits.shape.length - 1]!;
  checkShape(logits.numel === V, 'sample', `logits [${logits.shape}] must be one row`);
  checkShape(!history || history.dtype === 'u32', 'sample', 'history must be u32 ids');
  const l = rt.alloc([V]);
  const gc = grid2d(rt, Math.ceil(V / WG));
  rt.dispatch({
    op: 'sample_copy',
    source,
    defines: { COPY: true },
    overrides: { WG },
    uniforms: CopyParams,
    params: { V, NHIST: 0, PENALTY_F: 1, ROWS_X: gc.x },
    bindings: [
      { tensor: logits, access: 'read' },
      { tensor: l, access: 'rw' },
    ],
    workgroups: [gc.x, gc.y],
  });
  if (history && history.numel > 0 && p.repetitionPenalty !== 1) {
    const gp = grid2d(rt, Math.ceil(history.numel / WG));
    rt.dispatch({
      op: 'sample_penalty',
      source,
      defines: { PENALTY: true },
      overrides: { WG },
      uniforms: CopyParams,
      params: { V, NHIST: history.numel, PENALTY_F: p.repetitionPenalty, ROWS_X: gp.x },
      bindings: [
        { tensor: logits, access: 'read' },
        { tensor: history, access: 'read' },
        { tensor: l, access: 'rw' },
      ],
      workgroups: [gp.x, gp.y],
    });
  }
  const greedy = p.temperature <= 0 || p.topK === 1;
  const out = rt.alloc([1], 'u32');
  rt.dispatch({
    op: 'sample_pick',
    source,
    defines: { PICK: true },
    overrides: { WG },
    uniforms: PickParams,
    params: {
      V,
      GREEDY: greedy ? 1 : 0,
      INV_TEMP: greedy ? 1 : 1 / p.temperature,
      TOPK: Math.max(0, Math.floor(p.topK)),
      TOPP: p.topP,
      U: uniformForStep(p.seed, step),
    },
    bindings: [
      { tensor: l, access: 'read' },
      { tensor: out, access: 'rw' },
    ],
    workgroups: [1],
  });
  rt.free(l);
  return out;
}
