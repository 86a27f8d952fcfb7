// Running a request so that a lost GPU device does not end it: on DeviceLostError (whatever shape the
// browser gave it, device_loss.ts) the engine recovers (a new device, the weights uploaded again from the
// local cache or the source, the conversation's KV cache rebuilt from its token history) and the request
// resumes where it stopped: the ids already streamed are fed again without being streamed, and sampling
// goes on at the same step, so greedy (and seeded) answers equal an uninterrupted run's.
import type { KimiVLError } from '../errors.ts';
import {
  type GenerateProgress,
  type GenerateRequest,
  type GenerateResult,
  generate,
} from '../generate/generate.ts';
import { prefillChunked } from '../generate/prefill.ts';
import type { PixelRows } from '../model/kimi_vl.ts';
import type { Tensor } from '../tensor/types.ts';
import { asDeviceLoss } from './device_loss.ts';
import type { LoadedEngineState } from './engine_state.ts';
import { encodeImagesReusing } from './image_features_cache.ts';

/** Replaces a state whose device was lost with a working one (or throws DeviceLostError). */
export type Recover = (lost: KimiVLError) => Promise<LoadedEngineState>;

/** A device lost again and again is not worth chasing: give up after this many recoveries. */
const MAX_RECOVERIES_PER_REQUEST = 2;

export type DeviceRequest = Omit<GenerateRequest, 'features' | 'progress' | 'resume'>;

/**
 * Encodes the request's images (one at a time) and generates, recovering from device loss when
 * `recover` is given. `onImagesEncoded` receives the time of each attempt's image step and the MoonViT
 * passes it ran (0 when the KV cache or the feature cache held every image).
 */
export async function generateOnDevice(
  first: LoadedEngineState,
  images: PixelRows | null,
  req: DeviceRequest,
  recover: Recover | null,
  onImagesEncoded?: (ms: number, encoded: number) => void,
): Promise<GenerateResult> {
  let s = first;
  let resume: GenerateProgress | undefined;
  const progress: GenerateProgress = { tokens: [], steps: 0 };
  for (let attempt = 0; ; attempt++) {
    const k = s.k;
    let features: Tensor | null = null;
    try {
      {
        // Images the KV cache or the feature cache already holds are not encoded again.
        const t0 = performance.now();
        const reused = await encodeImagesReusing(k, s.model, s.cache, req.ids, images, req.isCancelled);
        if (images && reused) onImagesEncoded?.(performance.now() - t0, reused.encoded);
        features = reused?.features ?? null;
        if (!reused)
          return {
            tokens: resume?.tokens ?? [],
            finishReason: 'abort',
            promptTokens: req.ids.length,
            cachedPromptTokens: 0,
          };
      }
      return await generate(k, s.model, s.cache, { ...req, features, progress, resume });
    } catch (e) {
      const lost = await asDeviceLoss(s, e);
      if (!lost) throw e;
      if (!recover || attempt >= MAX_RECOVERIES_PER_REQUEST) throw lost;
      resume = { tokens: [...progress.tokens], steps: progress.steps };
      s = await recover(lost);
    } finally {
      if (features) k.release(features);
    }
  }
}

/**
 * The rows of a cache worth rebuilding after a loss: its text prefix (image rows, null, can never be
 * reused by a later turn anyway: a new turn always recomputes them, and their features died with the
 * device). Ids equal to the media placeholder stop it too: only prompt rows may stand for images.
 */
export function rebuildableHistory(s: LoadedEngineState): number[] {
  const keys = s.model.cacheKey(s.cache.tokens.map((t) => t ?? s.model.cfg.mediaPlaceholderTokenId));
  const end = keys.indexOf(null);
  return (end < 0 ? keys : keys.slice(0, end)) as number[];
}

/** Prefills `history` into a fresh state's empty cache, so the next turn reuses it (prefix reuse). */
export async function rebuildCache(s: LoadedEngineState, history: readonly number[]): Promise<void> {
  if (!history.length) return;
  s.cache.reset();
  const logits = await prefillChunked(s.k, s.model, s.cache, {
    ids: history,
    features: null,
    isCancelled: () => false,
  });
  if (logits) s.k.release(logits);
  s.k.flush();
}

/** What the engine tells the page besides request events. */
export interface EngineEvent {
  type: 'recovered';
  /** Whether the loss struck during a request (which then went on) or while idle. */
  during: 'request' | 'idle';
  /** The DeviceLostError's message (the browser's reason). */
  reason: string;
  /** Conversation positions rebuilt into the new KV cache. */
  rebuiltTokens: number;
  ms: number;
}
