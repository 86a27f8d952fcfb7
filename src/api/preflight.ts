// KimiVL.check and KimiVL.preload: the two calls a page makes before (or instead of) a load. Both run
// on the calling thread, need no worker and build no model.
//   check:   will this model run here, and what will it cost? (kilobytes fetched; see weights/preflight.ts)
//   preload: download (and convert, for q8/q4 of a bf16 original) into the browser cache, so a later
//            load makes no network request. Resumes an interrupted download like load does.
import { type LoadProgress, loadModel, type ModelSource } from '../weights/load.ts';
import { type CheckOptions, type CheckReport, checkModel } from '../weights/preflight.ts';
import type { Quantization } from '../weights/preflight_fit.ts';

export type { CheckOptions, CheckReport } from '../weights/preflight.ts';

export interface PreloadOptions {
  /** The form to cache: 'none' (the weights as stored, default), 'q8' or 'q4' (converted once). */
  quantization?: Quantization;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  hubUrl?: string;
  fetch?: typeof fetch;
  /** Keep the bf16 original cached beside a q8/q4 converted copy. Default false. */
  keepOriginal?: boolean;
}

export interface PreloadResult {
  /** Cache id of what a load will read ("…#q4" for a converted copy). */
  id: string;
  /** Cache id of the source (what deleteCachedModel takes). */
  sourceId: string;
  /** Bytes received over the network by this call (0 when everything was cached). */
  networkBytes: number;
  format: 'hf' | 'kimi-vl-web';
}

export function checkModelSource(source: ModelSource, opts: CheckOptions = {}): Promise<CheckReport> {
  return checkModel(source, opts);
}

export async function preloadModelSource(
  source: ModelSource,
  opts: PreloadOptions = {},
): Promise<PreloadResult> {
  const m = await loadModel(source, {
    quant: opts.quantization ?? 'none',
    onProgress: opts.onProgress,
    signal: opts.signal,
    hubUrl: opts.hubUrl,
    fetch: opts.fetch,
    keepOriginal: opts.keepOriginal,
  });
  return { id: m.id, sourceId: m.sourceId, networkBytes: m.networkBytes, format: m.format };
}
