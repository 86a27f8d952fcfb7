// DeepSeek-V3 language model of Kimi-VL (spec §9): embed → N × (x += MLA(rmsnorm x); x += FFN(rmsnorm x))
// → final rmsnorm → lm_head. Pure math over the Kernels facade.
//
// Legend: T tokens, D hidden, V vocab, H heads, N qk_nope, P qk_rope, Vd v_head, R kv_lora_rank.

import type { KimiVLConfig, TextConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import { ropeYarnFromConfig } from '../kernels/language/rope.ref.ts';
import type { Kernels, RouterConfig } from '../kernels/types.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import type { KvCache } from './kv_cache.ts';
import { type MlaSettings, type MlaWeights, mlaForward } from './mla.ts';
import { type MoeWeights, moeForward, type SwiGluWeights, swiGlu } from './moe.ts';

export interface LayerWeights {
  attnNorm: Tensor;
  ffnNorm: Tensor;
  attn: MlaWeights;
  /** Exactly one of mlp (dense) / moe is set. */
  mlp?: SwiGluWeights;
  moe?: MoeWeights;
}

export interface LanguageWeights {
  /** embed [V, D], norm [D], head [V, D]. */
  embed: Tensor;
  norm: Tensor;
  head: Tensor;
  layers: LayerWeights[];
}

type WeightKernels = Pick<Kernels, 'uploadWeight'>;

/** Uploads the `lm.*` engine-named weights (weights contract) for cfg. */
export function loadLanguageWeights(
  k: WeightKernels,
  host: ReadonlyMap<string, HostWeight>,
  cfg: KimiVLConfig,
): LanguageWeights {
  const get = (name: string): Tensor => {
    const w = host.get(name);
    if (!w) throw new KimiVLError('CheckpointError', `weight ${name} is missing from the checkpoint`);
    return k.uploadWeight(w);
  };
  const t = cfg.text;
  const layers: LayerWeights[] = [];
  for (let i = 0; i < t.numLayers; i++) {
    const p = `lm.layers.${i}.`;
    const attn: MlaWeights =
      t.qLoraRank === null
        ? {
            q: get(`${p}attn.q`),
            kvA: get(`${p}attn.kv_a`),
            kvANorm: get(`${p}attn.kv_a_norm`),
            kvB: get(`${p}attn.kv_b`),
            o: get(`${p}attn.o`),
          }
        : {
            qA: get(`${p}attn.q_a`),
            qANorm: get(`${p}attn.q_a_norm`),
            qB: get(`${p}attn.q_b`),
            kvA: get(`${p}attn.kv_a`),
            kvANorm: get(`${p}attn.kv_a_norm`),
            kvB: get(`${p}attn.kv_b`),
            o: get(`${p}attn.o`),
          };
    const layer: LayerWeights = { attnNorm: get(`${p}attn_norm`), ffnNorm: get(`${p}ffn_norm`), attn };
    if (cfg.isMoeLayer(i)) {
      layer.moe = {
        router: get(`${p}moe.router`),
        routerBias: get(`${p}moe.router_bias`),
        expertsGate: get(`${p}moe.experts_gate`),
        expertsUp: get(`${p}moe.experts_up`),
        expertsDown: get(`${p}moe.experts_down`),
        shared: {
          gate: get(`${p}moe.shared_gate`),
          up: get(`${p}moe.shared_up`),
          down: get(`${p}moe.shared_down`),
        },
      };
    } else {
      layer.mlp = { gate: get(`${p}mlp.gate`), up: get(`${p}mlp.up`), down: get(`${p}mlp.down`) };
    }
    layers.push(layer);
  }
  return { embed: get('lm.embed'), norm: get('lm.norm'), head: get('lm.head'), layers };
}

export function routerConfig(t: TextConfig): RouterConfig {
  return {
    topK: t.numExpertsPerTok,
    nGroup: t.nGroup,
    topkGroup: t.topkGroup,
    normTopkProb: t.normTopkProb,
    routedScalingFactor: t.routedScalingFactor,
  };
}

export interface ForwardOptions {
  /** Compute logits for the last row only (generation): returns [1, V]. */
  lastRowOnly?: boolean;
  /** Ids behind the T rows, remembered by the cache for prefix reuse (null: image rows / unknown). */
  tokens?: readonly (number | null)[];
}

export class LanguageModel {
  private readonly mla: MlaSettings;
  private readonly router: RouterConfig;

  constructor(
    readonly cfg: KimiVLConfig,
    readonly weights: LanguageWeights,
  ) {
    const t = cfg.text;
    this.mla = {
      dims: {
        heads: t.numHeads,
        qkNope: t.qkNopeHeadDim,
        qkRope: t.qkRopeHeadDim,
        v: t.vHeadDim,
        kvRank: t.kvLoraRank,
        scale: cfg.softmaxScale,
      },
      theta: t.ropeTheta,
      ...(t.ropeScaling ? { yarn: ropeYarnFromConfig(t.ropeScaling, t.qkRopeHeadDim, t.ropeTheta) } : {}),
    };
    this.router = routerConfig(t);
  }

  /** Token embeddings: ids [T] → [T, D]. */
  embed(k: Kernels, ids: readonly number[] | Uint32Array): Tensor {
    const idT = k.upload(Uint32Array.from(ids), [ids.length]); // [T] u32
    const x = k.embedding(idT, this.weights.embed); // [T, D]
    k.release(idT);
    return x;
  }

  /**
   * Embeddings with image features [F, D] replacing the media placeholder rows in order (spec §8.3).
   * Throws ShapeError when the number of placeholders differs from F.
   */
  embedWithImages(k: Kernels, ids: readonly number[] | Uint32Array, imageFeatures: Tensor | null): Tensor {
    const x = this.embed(k, ids); // [T, D]
    const rows: number[] = [];
    ids.forEach((id, i) => {
      if (id === this.cfg.mediaPlaceholderTokenId) rows.push(i);
    });
    const have = imageFeatures ? imageFeatures.shape[0]! : 0;
    if (rows.length !== have)
      throw new KimiVLError(
        'ShapeError',
        `the prompt has ${rows.length} media placeholders but ${have} image feature rows`,
      );
    if (!imageFeatures || rows.length === 0) return x;
    const y = k.spliceRows(x, rows, imageFeatures); // [T, D]
    k.release(x);
    return y;
  }

  /**
   * Runs inputEmbeds [T, D] at positions pos0..pos0+T−1, reading and extending the cache (rows ≥ pos0
   * are overwritten). Returns logits [T, V] (or [1, V] with lastRowOnly). Does not release inputEmbeds.
   */
  forward(k: Kernels, inputEmbeds: Tensor, pos0: number, cache: KvCache, opts: ForwardOptions = {}): Tensor {
    const T = inputEmbeds.shape[0]!;
    cache.checkFits(pos0, T);
    const eps = this.cfg.text.rmsNormEps;
    let x = inputEmbeds; // [T, D]
    this.weights.layers.forEach((w, i) => {
      const h = k.rmsNorm(x, w.attnNorm, eps); // [T, D]
      const a = mlaForward(k, w.attn, this.mla, h, cache.layers[i]!, pos0); // [T, D]
      const x1 = k.add(x, a); // [T, D]
      if (x !== inputEmbeds) k.release(x);
      k.release(h, a);
      const h2 = k.rmsNorm(x1, w.ffnNorm, eps); // [T, D]
      const f = w.moe ? moeForward(k, w.moe, this.router, h2) : swiGlu(k, w.mlp!, h2); // [T, D]
      x = k.add(x1, f); // [T, D]
      k.release(x1, h2, f);
    });
    cache.commit(pos0, opts.tokens ?? new Array<null>(T).fill(null));
    const last = opts.lastRowOnly ? k.sliceRows(x, T - 1, 1) : x; // [T', D]
    const hn = k.rmsNorm(last, this.weights.norm, eps); // [T', D]
    const logits = k.matmul(hn, this.weights.head); // [T', V]
    if (last !== x) k.release(last);
    if (x !== inputEmbeds) k.release(x);
    k.release(hn);
    return logits;
  }
}
