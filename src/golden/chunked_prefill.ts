// The golden runner under a buffer limit (kimi-vl golden --max-binding-bytes N): the prompt runs in row
// chunks small enough that no per-row activation (logits [rows, V], q [rows, H·(R+P)], the dense MLP
// [rows, I], the MoE slots [rows·A, ·]) passes N, each chunk with its own image rows, at consecutive
// positions of one KV cache. Weights and the KV cache split themselves (kernels/parts_upload.ts).
import type { KimiVLConfig } from '../config/config.ts';
import type { Kernels } from '../kernels/types.ts';
import type { KimiVLModel } from '../model/kimi_vl.ts';
import type { KvCache } from '../model/kv_cache.ts';

/** Prompt rows per chunk so that the widest per-row activation stays within `maxBytes` (at least 1). */
export function prefillChunkRows(cfg: KimiVLConfig, maxBytes: number): number {
  const t = cfg.text;
  const row = 4 * Math.max(t.vocabSize, t.numHeads * (t.kvLoraRank + t.qkRopeHeadDim), t.intermediateSize);
  const moe = 4 * t.numExpertsPerTok * Math.max(t.moeIntermediateSize, t.hiddenSize);
  return Math.max(1, Math.floor(maxBytes / Math.max(row, moe)));
}

/**
 * Prompt logits [T, V] on the host, computed `rows` prompt rows at a time; `features` [F, D] (host, image
 * rows in prompt order) are uploaded chunk by chunk.
 */
export async function chunkedPrefillLogits(
  k: Kernels,
  model: KimiVLModel,
  ids: readonly number[],
  features: Float32Array | null,
  cache: KvCache,
  rows: number,
): Promise<Float32Array> {
  const D = model.cfg.text.hiddenSize;
  const keys = model.cacheKey(ids);
  const out: Float32Array[] = [];
  let f0 = 0;
  for (let t0 = 0; t0 < ids.length; t0 += rows) {
    const nImg = keys.slice(t0, t0 + rows).filter((x) => x === null).length;
    const f = features && nImg ? k.upload(features.subarray(f0 * D, (f0 + nImg) * D), [nImg, D]) : null;
    f0 += nImg;
    const logits = model.prefill(k, ids.slice(t0, t0 + rows), f, cache, false); // [rows, V]
    if (f) k.release(f);
    out.push(await k.read(logits));
    k.release(logits);
  }
  const all = new Float32Array(out.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of out) {
    all.set(a, o);
    o += a.length;
  }
  return all;
}
