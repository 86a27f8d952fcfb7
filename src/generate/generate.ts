// The generation loop (spec §11): prefill the prompt (only what the KV cache does not already hold) in
// slices (prefill.ts: a cancel lands between them), then one token at a time: sample on the device, read
// back the 4-byte id, feed it. Stops on a stop id, the token budget, the context budget, or cancellation,
// each checked between tokens so a cancel lands within one token.
//
// Two decode loops give the same tokens: the plain one below (read the id, then record the next step),
// and the pipelined one (generate_pipelined.ts: the id stays on the GPU, the next step is recorded and
// submitted before the id is read). The plain loop is the reference mode and runs where the pipelined one
// cannot (reference backend, a logits observer, the repetition penalty, whose history is host-side).

import type { Kernels } from '../kernels/types.ts';
import type { KvCache } from '../model/kv_cache.ts';
import type { Tensor } from '../tensor/types.ts';
import { canPipeline, decodePipelined } from './generate_pipelined.ts';
import {
  endReason,
  type GenerateRequest,
  type GenerateResult,
  type GenerationModel,
} from './generate_types.ts';
import { prefillChunked } from './prefill.ts';

export type {
  FinishReason,
  GenerateProgress,
  GenerateRequest,
  GenerateResult,
  GenerationModel,
} from './generate_types.ts';

/**
 * Runs one request against `cache`, which keeps whatever prefix of `ids` it already holds (a
 * follow-up turn computes only its new tokens). Throws ContextOverflowError (from the cache) when
 * the prompt does not fit.
 */
export async function generate(
  k: Kernels,
  model: GenerationModel,
  cache: KvCache,
  req: GenerateRequest,
): Promise<GenerateResult> {
  const keys = model.cacheKey(req.ids); // null: image rows
  const cached = cache.reusablePrefix(keys);
  const resumed = req.resume?.tokens ?? [];
  const result: GenerateResult = {
    tokens: [...resumed],
    finishReason: 'abort',
    promptTokens: req.ids.length,
    cachedPromptTokens: cached,
  };
  if (req.progress) {
    req.progress.tokens = result.tokens;
    req.progress.steps = req.resume?.steps ?? 0;
  }
  if (req.isCancelled()) return result;
  cache.checkFits(cached, req.ids.length - cached + resumed.length);
  cache.commit(cached, []); // forget rows after the shared prefix

  // the repetition penalty sees text rows only
  const history = [...keys.filter((id): id is number => id !== null), ...resumed];
  const { sampling, maxTokens } = req.options;
  req.timings.prefillStarted();
  let logits = await prefillChunked(k, model, cache, {
    ids: req.ids.slice(cached),
    features: req.features,
    isCancelled: req.isCancelled,
    chunk: req.prefillChunk,
  }); // [1, V]
  if (!logits) return result; // cancelled between slices
  if (resumed.length) {
    k.release(logits);
    logits = model.step(k, resumed, cache); // [1, V]
  }
  const step0 = req.resume?.steps ?? 0;
  const computed = req.ids.length - cached;
  if (canPipeline(k, model, req))
    return decodePipelined(k, model, cache, req, { logits, step0, result, computed });
  for (let step = step0; ; step++) {
    await req.onLogits?.(logits, step);
    const id = await sampleOne(k, logits, sampling.repetitionPenalty === 1 ? null : history, req, step);
    // A cancel that arrived while this token was computed drops it: nothing more reaches the caller.
    if (req.isCancelled()) return result;
    if (step === 0) req.timings.prefillDone(computed);
    req.timings.tokenGenerated();
    if (req.progress) req.progress.steps = step + 1;
    if (req.stopIds.includes(id)) {
      result.finishReason = 'stop';
      return result;
    }
    result.tokens.push(id);
    history.push(id);
    await req.onToken(id, false);
    const forced = req.inject?.(result.tokens) ?? [];
    const toFeed = 1 + forced.length;
    const end = endReason(
      result.tokens.length + forced.length,
      maxTokens,
      cache.pos,
      cache.capacity,
      toFeed,
      req,
    );
    if (end) {
      result.finishReason = end;
      return result;
    }
    for (const f of forced) {
      result.tokens.push(f);
      history.push(f);
      await req.onToken(f, true);
    }
    logits = model.step(k, [id, ...forced], cache); // [1, V]
  }
}

/** Samples from logits [1, V] on the device and reads back the id (releases logits). */
async function sampleOne(
  k: Kernels,
  logits: Tensor,
  history: number[] | null,
  req: GenerateRequest,
  step: number,
): Promise<number> {
  const hist = history?.length ? k.upload(Uint32Array.from(history), [history.length]) : null; // [n]
  const idT = k.sample(logits, hist, req.options.sampling, step); // [1] u32
  k.release(logits);
  if (hist) k.release(hist);
  k.flush();
  const [id] = await k.readU32(idT);
  k.release(idT);
  return id!;
}
