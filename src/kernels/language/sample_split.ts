// The sampler's split mode (shaders/sample_split.wgsl): the passes over the vocabulary run on many
// workgroups (chunks of CH ids), the final choices on one. Greedy: 2 dispatches; temperature: 4; top-k adds
// 4 radix rounds of (histogram, select) = 8; top-p adds a mass pass and 4 rounds of (digit masses,
// select) = 9. It picks the id sample.wgsl (the reference mode) picks: the same weights
// e_i = exp((l_i − max)·INV_TEMP), the same K-th largest key, the same nucleus threshold (the smallest key
// b whose kept mass above it is < topP · total: a radix select on masses instead of counts; only the
// order of float additions differs), the same inverse CDF in id order with U = uniformForStep(seed, step).
import source from '../../../shaders/sample_split.wgsl?raw';
import type { StepValues } from '../../gpu/replay/tape.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { ro, rw } from '../dispatch.ts';
import type { SamplingParams } from '../types.ts';
import { uniformForStep } from './rng.ts';

const Params = defineUniforms('SampleSplitParams', {
  V: 'u32',
  NWG: 'u32',
  CH: 'u32',
  GREEDY: 'u32',
  INV_TEMP: 'f32',
  TOPK: 'u32',
  TOPP: 'f32',
  U: 'f32',
  ROUND: 'u32',
});
const WG = 256;
/** Ids per chunk: 4 per lane, so a 163,840-id vocabulary is 160 workgroups. */
export const SPLIT_CHUNK = 4 * WG;
/** Scratch words before the per-chunk parts (see the shader's header). */
const PARTS = 1040;

type Entry = 'SPLIT_MAX' | 'REDUCE' | 'HIST' | 'SELECT' | 'MASS' | 'PHIST' | 'PSELECT' | 'PICK';

/** Samples from l [V] (logits, already penalised where a penalty applies) → u32 [1]. */
export function sampleSplit(
  rt: GpuRuntime,
  l: GpuTensor,
  V: number,
  p: SamplingParams,
  step: number,
): GpuTensor {
  const NWG = Math.ceil(V / SPLIT_CHUNK);
  const greedy = p.temperature <= 0 || p.topK === 1;
  const topK = Math.max(0, Math.floor(p.topK));
  const topP = !greedy && p.topP > 0 && p.topP < 1;
  const scratch = rt.alloc([PARTS + 3 * NWG + (topP ? 256 * NWG : 0)], 'u32');
  const out = rt.alloc([1], 'u32');
  const params = {
    V,
    NWG,
    CH: SPLIT_CHUNK,
    GREEDY: greedy ? 1 : 0,
    INV_TEMP: greedy ? 1 : 1 / p.temperature,
    TOPK: greedy ? 0 : topK,
    TOPP: topP ? p.topP : 1,
    U: greedy ? 0 : uniformForStep(p.seed, step),
    ROUND: 0,
  };
  // replay: every pass's block carries the draw, which follows the sampler step
  const perStep = greedy
    ? undefined
    : ({ step: s }: StepValues) => (s === undefined ? null : { U: uniformForStep(p.seed, s) });
  const pass = (entry: Entry, workgroups: number, round = 0) =>
    rt.dispatch({
      ...(perStep && { perStep }),
      op: `sample_${entry.toLowerCase()}`,
      source,
      defines: { [entry]: true },
      overrides: entry === 'SELECT' || entry === 'PICK' ? {} : { WG },
      uniforms: Params,
      params: { ...params, ROUND: round },
      bindings: [ro(l), rw(scratch), rw(out)],
      workgroups: [workgroups],
    });
  pass('SPLIT_MAX', NWG);
  pass('REDUCE', 1);
  if (!greedy) {
    if (topK > 0 && topK < V) {
      for (let r = 0; r < 4; r++) {
        pass('HIST', NWG, r);
        pass('SELECT', 1, r);
      }
    }
    pass('MASS', NWG);
    if (topP) {
      for (let r = 0; r < 4; r++) {
        pass('PHIST', NWG, r);
        pass('PSELECT', 1, r);
      }
      pass('MASS', NWG);
    }
    pass('PICK', 1);
  }
  rt.free(scratch);
  return out;
}
