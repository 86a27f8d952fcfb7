// The theoretical minimum a decode step must read, from config.json and the weights' storage dtypes
// alone (independent of what the kernels report): every active parameter once — attention, norms, one
// embedding row, the dense FFN or the router + the selected and shared experts, the final norm and the
// lm_head — plus the latent KV cache once (the rows 0..pos of every layer).

import type { KimiVLConfig } from '../src/config/config.ts';
import type { WeightDType } from '../src/tensor/types.ts';

/** Bytes of `rows` rows of K values in a storage form (kvq1 q8: 34 B per 32, q4: 18 B per 32). */
export function rowBytes(dtype: WeightDType, rows: number, k: number): number {
  const nb = Math.ceil(k / 32);
  if (dtype === 'q8') return rows * nb * 34;
  if (dtype === 'q4') return rows * nb * 18;
  return rows * k * (dtype === 'f32' ? 4 : 2);
}

/** Active weight bytes per decoded token; `dtypeOf` gives each engine-named weight's storage dtype. */
export function activeWeightBytes(cfg: KimiVLConfig, dtypeOf: (name: string) => WeightDType): number {
  const t = cfg.text;
  const D = t.hiddenSize;
  const H = t.numHeads;
  const lin = (name: string, n: number, k: number) => rowBytes(dtypeOf(name), n, k);
  const norm = (n: number) => n * 4; // rank-1 weights live as f32 on the GPU
  let total = lin('lm.embed', 1, D) + norm(D) + lin('lm.head', t.vocabSize, D);
  for (let i = 0; i < t.numLayers; i++) {
    const p = `lm.layers.${i}.`;
    total += 2 * norm(D);
    const qk = t.qkNopeHeadDim + t.qkRopeHeadDim;
    total +=
      t.qLoraRank === null
        ? lin(`${p}attn.q`, H * qk, D)
        : lin(`${p}attn.q_a`, t.qLoraRank, D) + norm(t.qLoraRank) + lin(`${p}attn.q_b`, H * qk, t.qLoraRank);
    total += lin(`${p}attn.kv_a`, t.kvLoraRank + t.qkRopeHeadDim, D) + norm(t.kvLoraRank);
    total += lin(`${p}attn.kv_b`, H * (t.qkNopeHeadDim + t.vHeadDim), t.kvLoraRank);
    total += lin(`${p}attn.o`, D, H * t.vHeadDim);
    if (!cfg.isMoeLayer(i)) {
      const I = t.intermediateSize;
      total += lin(`${p}mlp.gate`, I, D) + lin(`${p}mlp.up`, I, D) + lin(`${p}mlp.down`, D, I);
    } else {
      const I = t.moeIntermediateSize;
      const S = I * t.nSharedExperts;
      total += lin(`${p}moe.router`, t.nRoutedExperts, D) + t.nRoutedExperts * 4;
      total +=
        t.numExpertsPerTok *
        (lin(`${p}moe.experts_gate`, I, D) +
          lin(`${p}moe.experts_up`, I, D) +
          lin(`${p}moe.experts_down`, D, I));
      total +=
        lin(`${p}moe.shared_gate`, S, D) + lin(`${p}moe.shared_up`, S, D) + lin(`${p}moe.shared_down`, D, S);
    }
  }
  return total;
}

/** The latent cache read once for a token at position `pos` (rows 0..pos, f32 [R + P] per row per layer). */
export function minKvBytes(cfg: KimiVLConfig, pos: number): number {
  const t = cfg.text;
  return t.numLayers * (pos + 1) * (t.kvLoraRank + t.qkRopeHeadDim) * 4;
}

/**
 * What shaders/mla_attention_attend.wgsl reads of the cache: one workgroup per head, each streaming every row, so
 * H times the minimum (until the kernel shares rows across heads).
 */
export function attendKvBytes(cfg: KimiVLConfig, pos: number): number {
  return cfg.text.numHeads * minKvBytes(cfg, pos);
}
