// Image requests through the engine's own request path (src/worker/recover.ts generateOnDevice: images
// keyed by pixel hash and reused across turns, the prompt prefilled in 256-row slices, the first token
// sampled and read back), on a model built in the page (browser side):
//   - time to first token per image size, with the kernels #14 replaced ("before") and the runtime's own
//     choice ("after") in one run, plus the vision attention alone on the same patches;
//   - a follow-up turn about the same image: MoonViT passes run, image encode time and prefilled rows.

import type { KimiVLConfig } from '../src/config/config.ts';
import { resolveGenerateOptions } from '../src/generate/params.ts';
import { TimingRecorder } from '../src/generate/timings.ts';
import type { GpuRuntime } from '../src/gpu/runtime.ts';
import type { Kernels } from '../src/kernels/types.ts';
import type { KimiVLModel, PixelRows } from '../src/model/kimi_vl.ts';
import { USER_KV_CACHE_DTYPE } from '../src/model/kv_cache.ts';
import type { LoadedEngineState } from '../src/worker/engine_state.ts';
import { featureCacheFor } from '../src/worker/image_features_cache.ts';
import { generateOnDevice } from '../src/worker/recover.ts';
import { syntheticActivations } from './synthetic.ts';
import { median } from './timing.ts';
import type { FollowUpTurn } from './types.ts';
import { describeVariant, type Variant } from './variants.ts';

/** The kernels #14 replaced. On a CPU adapter the GEMM was matmul_direct then and is now. */
export function beforeKernels(cpu: boolean): Variant {
  return {
    label: 'the kernels #14 replaced',
    tuning: {
      visionAttention: 'varlen',
      mlaPrefill: 'absorbed',
      moePrefill: 'rows',
      matmul: cpu ? 'direct' : 'classic',
    },
  };
}

/** The runtime's own choice on this adapter for the same knobs (what users run). */
export function afterKernels(rt: GpuRuntime): Variant {
  rt.tuning.mlaPrefill ??= 'flash'; // its documented default, made explicit so it can be forced back
  const t = rt.tuning;
  return {
    label: "the runtime's choice on this adapter",
    tuning: {
      visionAttention: t.visionAttention,
      mlaPrefill: t.mlaPrefill,
      moePrefill: t.moePrefill,
      matmul: t.matmul,
    },
  };
}

export const kernelsLabel = (rt: GpuRuntime, v: Variant) => describeVariant(rt, v);

/** Text ids that are never the media placeholder. */
export function textIds(cfg: KimiVLConfig, n: number, seed: number): number[] {
  const V = cfg.text.vocabSize;
  return Array.from({ length: n }, (_, i) => {
    const id = (seed * 7919 + i * 104729) % V;
    return id === cfg.mediaPlaceholderTokenId ? (id + 1) % V : id;
  });
}

/** One synthetic side×side-patch image as the preprocessor would hand it over. */
export function syntheticImage(cfg: KimiVLConfig, side: number, seed: number): PixelRows {
  const p = cfg.vision.patchSize;
  const L = side * side;
  return {
    pixelValues: syntheticActivations(L * 3 * p * p, seed),
    shape: [L, 3 * p * p],
    grids: [{ h: side, w: side }],
  };
}

/** A prompt around one image: 4 text ids, the image's F placeholder rows, then `text` more ids. */
export function imagePrompt(cfg: KimiVLConfig, side: number, text: number): number[] {
  const F = (side * side) / 4;
  return [
    ...textIds(cfg, 4, 1),
    ...new Array<number>(F).fill(cfg.mediaPlaceholderTokenId),
    ...textIds(cfg, text, 2),
  ];
}

export interface Turn {
  tokens: number[];
  promptTokens: number;
  cachedPromptTokens: number;
  /** MoonViT passes run for this turn. */
  imagesEncoded: number;
  /** Wall time of the image step (encode and wait for the GPU; hashing only when nothing ran). */
  imageStepMs: number;
  ttftMs: number;
}

/**
 * The engine's state for `model` with `cache`, so a request runs exactly as Engine.chat runs it (ids
 * already built, no tokenizer). imageFeatures is counted: the number of MoonViT passes a turn runs.
 */
function engineState(
  k: Kernels,
  rt: GpuRuntime,
  model: KimiVLModel,
  cache: ReturnType<KimiVLModel['newCache']>,
  passes: { n: number },
): LoadedEngineState {
  const counted = Object.create(model) as KimiVLModel;
  counted.imageFeatures = (kk, images) => {
    passes.n++;
    return model.imageFeatures(kk, images);
  };
  const t = model.cfg.text;
  return {
    info: {
      id: 'bench',
      thinking: false,
      backend: 'gpu',
      contextBudget: cache.capacity,
      hasTokenizer: false,
      acceptsImages: true,
      layers: t.numLayers,
      hiddenSize: t.hiddenSize,
      experts: t.nRoutedExperts,
      vocabSize: t.vocabSize,
      loadMs: 0,
      networkBytes: 0,
    },
    k,
    rt,
    model: counted,
    cache,
    tokenizer: null,
    preprocessor: null,
    stopIds: [],
  };
}

/** One greedy request of `maxTokens` on `s` (its cache holds what earlier turns left). */
export async function runTurn(
  s: LoadedEngineState,
  ids: readonly number[],
  images: PixelRows | null,
  maxTokens: number,
  passes: { n: number },
): Promise<Turn> {
  const before = passes.n;
  let imageStepMs = 0;
  const timings = new TimingRecorder();
  const result = await generateOnDevice(
    s,
    images,
    {
      ids,
      options: resolveGenerateOptions({ maxTokens, temperature: 0, seed: 0 }, false),
      stopIds: [],
      isCancelled: () => false,
      onToken: () => {},
      timings,
    },
    null,
    (ms) => {
      imageStepMs += ms; // with hashing and row lookup even when nothing is encoded (reuseMs)
    },
  );
  return {
    tokens: result.tokens,
    promptTokens: result.promptTokens,
    cachedPromptTokens: result.cachedPromptTokens,
    imagesEncoded: passes.n - before,
    imageStepMs,
    ttftMs: timings.finish().timeToFirstTokenMs,
  };
}

/** A fresh conversation's state on `model` (its own KV cache, the feature cache emptied). */
export function freshState(k: Kernels, rt: GpuRuntime, model: KimiVLModel, capacity: number) {
  featureCacheFor(k).clear();
  const passes = { n: 0 };
  const cache = model.newCache(k, capacity, USER_KV_CACHE_DTYPE);
  return { s: engineState(k, rt, model, cache, passes), passes, release: () => cache.release(k) };
}

/**
 * Two turns about one side×side image: the first asks, the second follows up with the first answer and
 * `followText` new ids after it. The second turn's new tokens are those the cache never computed (its
 * prompt minus the rows the first turn left in the cache); a follow-up that reuses everything prefills
 * exactly those and runs no MoonViT pass.
 */
export async function followUpTurns(
  k: Kernels,
  rt: GpuRuntime,
  model: KimiVLModel,
  side: number,
  followText = 6,
  answerTokens = 4,
): Promise<FollowUpTurn> {
  const cfg = model.cfg;
  const image = syntheticImage(cfg, side, 31);
  const ask = imagePrompt(cfg, side, 8);
  const capacity = ask.length + 2 * answerTokens + followText + 8;
  const fresh = freshState(k, rt, model, capacity);
  try {
    const first = await runTurn(fresh.s, ask, image, answerTokens, fresh.passes);
    const cachedRows = fresh.s.cache.pos;
    const follow = [...ask, ...first.tokens, ...textIds(cfg, followText, 5)];
    const second = await runTurn(fresh.s, follow, image, answerTokens, fresh.passes);
    const prefillTokens = second.promptTokens - second.cachedPromptTokens;
    return {
      imageEncodeMs: second.imagesEncoded ? second.imageStepMs : 0,
      imagesEncoded: second.imagesEncoded,
      prefillTokens,
      newTokens: follow.length - cachedRows,
      promptTokens: second.promptTokens,
      cachedPromptTokens: second.cachedPromptTokens,
      ttftMs: second.ttftMs,
      reuseMs: second.imagesEncoded ? 0 : second.imageStepMs,
      firstTurn: {
        imageEncodeMs: first.imageStepMs,
        imagesEncoded: first.imagesEncoded,
        prefillTokens: first.promptTokens - first.cachedPromptTokens,
        ttftMs: first.ttftMs,
      },
    };
  } finally {
    fresh.release();
  }
}

/** Median of `reps` (≥ 1) timings of `run`. */
export async function medianOf(reps: number, run: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let r = 0; r < Math.max(1, reps); r++) xs.push(await run());
  return median(xs);
}
