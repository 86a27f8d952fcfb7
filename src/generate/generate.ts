// The generation loop (spec §11): prefill the prompt (only what the KV cache does not already hold) in
// slices (prefill.ts: a cancel lands between them), then one token at a time: sample on the device, read
// back the 4-byte id (the only readback of a step), feed it. Stops on a stop id, the token budget, the context budget, or cancellation, each
// checked between tokens so a cancel lands within one token.

import type { Kernels } from '../kernels/types.ts';
import type { KimiVLModel } from '../model/kimi_vl.ts';
import type { KvCache } from '../model/kv_cache.ts';
import type { Tensor } from '../tensor/types.ts';
import type { ResolvedGenerateOptions } from './params.ts';
import { prefillChunked } from './prefill.ts';
import type { TimingRecorder } from './timings.ts';

export type FinishReason = 'stop' | 'length' | 'abort';

/** What the loop needs from a model (KimiVLModel satisfies it; tests may fake it). */
export type GenerationModel = Pick<KimiVLModel, 'cacheKey' | 'prefill' | 'step'>;

export interface GenerateRequest {
  /** The whole prompt, image placeholders already expanded. */
  ids: readonly number[];
  /** [F, D] features for every placeholder of `ids`, in order (the caller releases it). */
  features: Tensor | null;
  options: ResolvedGenerateOptions;
  /** Ids that end the answer (not emitted). Empty: run to maxTokens. */
  stopIds: readonly number[];
  isCancelled(): boolean;
  /** Each generated id as soon as it is known; awaited, so the consumer sees ids in order. */
  onToken(id: number, forced: boolean): Promise<void> | void;
  /**
   * Ids to feed next instead of sampling (e.g. the end-of-reasoning marker when a thinking budget is
   * spent), or null. Called after every generated token.
   */
  inject?: (generated: readonly number[]) => readonly number[] | null;
  timings: TimingRecorder;
  /**
   * Sees the logits [1, V] each token is sampled from, before sampling (step 0: the prompt's last row;
   * step i: after feeding the i-th generated id and any forced ids). Tests read them back; without an
   * observer nothing is read.
   */
  onLogits?: (logits: Tensor, step: number) => Promise<void> | void;
  /** Prompt rows per prefill slice (a cancel lands between slices); default DEFAULT_PREFILL_CHUNK. */
  prefillChunk?: number;
  /**
   * Continue an interrupted run (device loss): these ids were already generated and streamed and
   * `steps` tokens sampled. They are fed after the prompt without being streamed again, and sampling
   * resumes at step `steps`, so a seeded or greedy run goes on as if nothing happened.
   */
  resume?: GenerateProgress;
  /** Kept up to date while running: what a resume needs if this run is interrupted. */
  progress?: GenerateProgress;
}

export interface GenerateProgress {
  /** Ids generated so far (sampled and forced), in order. */
  tokens: number[];
  /** Sampling steps done (forced ids are not sampled). */
  steps: number;
}

export interface GenerateResult {
  /** Generated ids, stop id excluded. */
  tokens: number[];
  finishReason: FinishReason;
  promptTokens: number;
  cachedPromptTokens: number;
}

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
  for (let step = req.resume?.steps ?? 0; ; step++) {
    await req.onLogits?.(logits, step);
    const id = await sampleOne(k, logits, sampling.repetitionPenalty === 1 ? null : history, req, step);
    // A cancel that arrived while this token was computed drops it: nothing more reaches the caller.
    if (req.isCancelled()) return result;
    if (step === 0) req.timings.prefillDone(req.ids.length - cached);
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
    const end = endReason(result.tokens.length + forced.length, maxTokens, cache, 1 + forced.length, req);
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

function endReason(
  generated: number,
  maxTokens: number,
  cache: KvCache,
  toFeed: number,
  req: GenerateRequest,
): FinishReason | null {
  if (req.isCancelled()) return 'abort';
  if (generated >= maxTokens) return 'length';
  if (cache.pos + toFeed > cache.capacity) return 'length';
  return null;
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
