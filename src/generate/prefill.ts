// Chunked prefill: a long prompt runs as slices of at most `chunk` rows, each one forward pass over the
// KV cache (positions continue where the last slice ended), so a cancel or an unload lands within one
// slice instead of after the whole prompt. Between slices the last row's logits are read back: that
// waits for the GPU to finish the slice (otherwise every slice would be queued at once and the abort
// would still wait for all of them) and yields the thread so a cancel message can arrive.
//
// Causal attention makes the slices exact: rows of a slice attend to the cache rows before it and to
// themselves, which is what one pass over the whole prompt computes (generate tests compare both).

import type { Kernels } from '../kernels/types.ts';
import type { KimiVLModel } from '../model/kimi_vl.ts';
import type { KvCache } from '../model/kv_cache.ts';
import type { Tensor } from '../tensor/types.ts';

/** Rows per slice: small enough that an abort lands soon, large enough to keep prefill matmuls efficient. */
export const DEFAULT_PREFILL_CHUNK = 256;

/** Gives the event loop a turn (a macrotask: comlink's message events run in between). */
export const yieldToEventLoop = () => new Promise<void>((r) => setTimeout(r, 0));

export interface PrefillRequest {
  /** Prompt rows still to compute (after the reused prefix), placeholders expanded. */
  ids: readonly number[];
  /** [F, D] features for every image row of `ids`, in order, or null. */
  features: Tensor | null;
  isCancelled(): boolean;
  /** Rows per slice (default DEFAULT_PREFILL_CHUNK). */
  chunk?: number;
}

/**
 * Prefills `ids` at cache.pos.. slice by slice and returns the last row's logits [1, V], or null when
 * cancelled between slices (the cache then holds the slices computed so far, with their ids, so a
 * following turn reuses them).
 */
export async function prefillChunked(
  k: Kernels,
  model: Pick<KimiVLModel, 'cacheKey' | 'prefill'>,
  cache: KvCache,
  req: PrefillRequest,
): Promise<Tensor | null> {
  const chunk = Math.max(1, Math.floor(req.chunk ?? DEFAULT_PREFILL_CHUNK));
  const keys = model.cacheKey(req.ids);
  let featureRow = 0;
  for (let start = 0; ; start += chunk) {
    const end = Math.min(start + chunk, req.ids.length);
    const imageRows = keys.slice(start, end).filter((key) => key === null).length;
    // One slice (the usual short prompt) passes the features as they are; a missing tensor lets the
    // model report the placeholder mismatch (ShapeError).
    const whole = start === 0 && end === req.ids.length;
    const slice =
      !whole && req.features && imageRows > 0 ? k.sliceRows(req.features, featureRow, imageRows) : null; // [f, D]
    featureRow += imageRows;
    let logits: Tensor;
    try {
      logits = model.prefill(k, req.ids.slice(start, end), whole ? req.features : slice, cache, true); // [1, V]
    } finally {
      if (slice) k.release(slice);
    }
    if (end === req.ids.length) return logits;
    try {
      await k.read(logits); // the slice has run on the device
    } finally {
      k.release(logits);
    }
    await yieldToEventLoop();
    if (req.isCancelled()) return null;
  }
}
