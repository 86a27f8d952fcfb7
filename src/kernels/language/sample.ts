// sample on the GPU. Two modes (rt.tuning.sampler): 'split' (sample_split.ts: the passes over the
// vocabulary on many workgroups; no copy without a penalty) and 'single', the reference mode: copy (+
// repetition penalty) then one workgroup picks the id (shaders/sample.wgsl).
// The uniform draw U = uniformForStep(seed, step) is computed on the host (it depends only on the
// counters), so GPU and reference use the very same number.
import source from '../../../shaders/sample.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { SamplingParams } from '../types.ts';
import { sampleShape } from './language_shapes.ts';
import { uniformForStep } from './rng.ts';
import { sampleSplit } from './sample_split.ts';

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
  const { V } = sampleShape(logits, history);
  // sample_pick counts tokens in f32 reductions, exact for integers up to 2^24.
  checkShape(V <= 1 << 24, 'sample', `vocabulary ${V} exceeds the kernel's 2^24`);
  const penalised = !!history && history.numel > 0 && p.repetitionPenalty !== 1;
  const split = rt.tuning.sampler === 'split';
  if (split && !penalised) return sampleSplit(rt, logits, V, p, step);
  const l = rt.alloc([V]);
  // copy: l = logits (one thread per id); penalty: l[id] rescaled for each history id (one thread per id)
  const pass = (define: 'COPY' | 'PENALTY', threads: number, nHist: number, inputs: GpuTensor[]) => {
    const g = grid2d(rt, Math.ceil(threads / WG));
    rt.dispatch({
      op: define === 'COPY' ? 'sample_copy' : 'sample_penalty',
      source,
      defines: { [define]: true },
      overrides: { WG },
      uniforms: CopyParams,
      params: { V, NHIST: nHist, PENALTY_F: nHist ? p.repetitionPenalty : 1, ROWS_X: g.x },
      bindings: [...inputs.map(ro), rw(l)],
      workgroups: [g.x, g.y],
    });
  };
  pass('COPY', V, 0, [logits]);
  if (penalised) pass('PENALTY', history!.numel, history!.numel, [logits, history!]);
  if (split) {
    const id = sampleSplit(rt, l, V, p, step);
    rt.free(l);
    return id;
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
    // replay: the draw follows the sampler step
    perStep: ({ step: s }) => (s === undefined ? null : { U: uniformForStep(p.seed, s) }),
    bindings: [ro(l), rw(out)],
    workgroups: [1],
  });
  rt.free(l);
  return out;
}
