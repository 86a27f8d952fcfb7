// The pipelined decode loop: the sampled id never leaves the GPU before the next step needs it. Step t+1
// embeds id_t straight from the sampler's output buffer (KimiVLModel.stepOnDevice) and is recorded and
// submitted while id_t is still on its way back; id_t is read one step late. The GPU therefore always has
// the next step queued while JavaScript waits for a readback, and each token costs one submit and one
// 4-byte readback.
//
// The loop emits exactly what the plain loop emits. A step recorded for id_t is speculative until id_t is
// known: when id_t turns out to end the answer (a stop id, the token budget, a cancel or a stop string
// seen through isCancelled) or to need forced ids after it (inject), that one step is discarded — the KV
// cache is rolled back to the position before it (its row there is simply overwritten later), its
// sampled id is dropped unread — and, for forced ids, the step is fed again from the host like the plain
// loop. So at most one step of work is thrown away, and the cache's positions and remembered ids equal
// the plain loop's at every return.
import type { Kernels } from '../kernels/types.ts';
import type { KvCache } from '../model/kv_cache.ts';
import type { Tensor } from '../tensor/types.ts';
import {
  endReason,
  type GenerateRequest,
  type GenerateResult,
  type GenerationModel,
} from './generate_types.ts';

type DeviceModel = GenerationModel & Required<Pick<GenerationModel, 'stepOnDevice'>>;

/** Whether `req` can run pipelined: GPU kernels, a model that embeds device ids, nothing host-side per step. */
export function canPipeline(k: Kernels, model: GenerationModel, req: GenerateRequest): model is DeviceModel {
  if (req.pipelined === false) return false;
  return (
    k.backend === 'gpu' &&
    typeof model.stepOnDevice === 'function' &&
    !req.onLogits && // the observer reads every step's logits before its id is sampled
    req.options.sampling.repetitionPenalty === 1 // the penalty's history is built on the host
  );
}

/** A sampled id on the GPU whose readback has been submitted. */
interface InFlight {
  id: Tensor;
  value: Promise<Uint32Array>;
}

/** Samples logits [1, V] (released) at `step` and submits the id's readback at once. */
function sampleAndRead(k: Kernels, logits: Tensor, req: GenerateRequest, step: number): InFlight {
  const s = req.options.sampling;
  const walk = () => k.sample(logits, null, s, step);
  const id =
    req.replay === false || !k.replayable
      ? walk()
      : k.replayable('sample', [logits, s.temperature, s.topK, s.topP, s.seed], { step }, walk).out; // [1] u32
  k.release(logits);
  // readU32 submits the recorded work plus the copy synchronously, before its first await
  const value = k.readU32(id);
  value.catch(() => {}); // a dropped speculative id is never awaited
  return { id, value };
}

export interface PipelineStart {
  /** The prefill's (or resume's) logits [1, V], sampled at step0. */
  logits: Tensor;
  step0: number;
  result: GenerateResult;
  /** Prompt rows the prefill computed (timings). */
  computed: number;
}

export async function decodePipelined(
  k: Kernels,
  model: DeviceModel,
  cache: KvCache,
  req: GenerateRequest,
  start: PipelineStart,
): Promise<GenerateResult> {
  const { result } = start;
  const { maxTokens } = req.options;
  let cur = sampleAndRead(k, start.logits, req, start.step0);
  for (let step = start.step0; ; step++) {
    // Speculate: feed id_step from the GPU before knowing it, unless the loop surely ends after it.
    const pos = cache.pos;
    let next: InFlight | null = null;
    if (result.tokens.length + 1 < maxTokens && pos + 1 <= cache.capacity && !req.isCancelled()) {
      const logits = model.stepOnDevice(k, cur.id, cache, { replay: req.replay !== false }); // [1, V], pos + 1
      next = sampleAndRead(k, logits, req, step + 1);
    }
    const discard = () => {
      if (!next) return;
      cache.commit(pos, []); // forget the speculative row: the cache is as the plain loop leaves it
      k.release(next.id);
      next = null;
    };
    const [id] = await cur.value;
    k.release(cur.id);
    // A cancel that arrived while this token was computed drops it: nothing more reaches the caller.
    if (req.isCancelled()) {
      discard();
      return result;
    }
    if (step === 0) req.timings.prefillDone(start.computed);
    req.timings.tokenGenerated();
    if (req.progress) req.progress.steps = step + 1;
    if (req.stopIds.includes(id!)) {
      discard();
      result.finishReason = 'stop';
      return result;
    }
    result.tokens.push(id!);
    await req.onToken(id!, false);
    const forced = req.inject?.(result.tokens) ?? [];
    const end = endReason(
      result.tokens.length + forced.length,
      maxTokens,
      pos,
      cache.capacity,
      1 + forced.length,
      req,
    );
    if (end) {
      discard();
      result.finishReason = end;
      return result;
    }
    if (next && !forced.length) {
      cache.tokens[pos] = id!; // the speculative step fed exactly id: it stands, and now has its id
      cur = next;
      continue;
    }
    discard();
    for (const f of forced) {
      result.tokens.push(f);
      await req.onToken(f, true);
    }
    cur = sampleAndRead(k, model.step(k, [id!, ...forced], cache), req, step + 1); // [1, V] → id
  }
}
