// The generation loop's vocabulary (re-exported by generate.ts), and the end rule both loops share.
import type { KimiVLModel } from '../model/kimi_vl.ts';
import type { Tensor } from '../tensor/types.ts';
import type { ResolvedGenerateOptions } from './params.ts';
import type { TimingRecorder } from './timings.ts';

export type FinishReason = 'stop' | 'length' | 'abort';

/** What the loop needs from a model (KimiVLModel satisfies it; tests may fake it). */
export type GenerationModel = Pick<KimiVLModel, 'cacheKey' | 'prefill' | 'step'> &
  Partial<Pick<KimiVLModel, 'stepOnDevice'>>;

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
  /**
   * Keep the sampled id on the GPU and record token t+1 while t runs, reading ids back one step late
   * (generate_pipelined.ts). Default: on for the GPU backend where nothing needs the id before the next
   * step (no logits observer); false forces the plain loop (the reference mode tests compare against).
   */
  pipelined?: boolean;
  /**
   * Pipelined decode: replay the recorded decode step and sampler (src/gpu/replay/) instead of walking
   * the model each token. Default on (where the backend can); false walks every step.
   */
  replay?: boolean;
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
 * Why the loop ends after `generated` tokens when `toFeed` ids would be fed next at position `pos`
 * (null: it goes on).
 */
export function endReason(
  generated: number,
  maxTokens: number,
  pos: number,
  capacity: number,
  toFeed: number,
  req: Pick<GenerateRequest, 'isCancelled'>,
): FinishReason | null {
  if (req.isCancelled()) return 'abort';
  if (generated >= maxTokens) return 'length';
  if (pos + toFeed > capacity) return 'length';
  return null;
}
