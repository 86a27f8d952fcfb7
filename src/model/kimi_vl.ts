// Kimi-VL end to end as pure math over the Kernels facade (spec §3):
//   pixels → MoonViT → 2×2 merge + projector → features spliced at <|media_pad|> → MoE LM → logits.
// Legend: T tokens, D text width, L patches (all images), F image features (L/4), V vocab.

import type { KimiVLConfig } from '../config/config.ts';
import type { Grid, Kernels } from '../kernels/types.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { KvCache } from './kv_cache.ts';
import { LanguageModel, loadLanguageWeights } from './language.ts';
import {
  loadProjectorWeights,
  type ProjectorWeights,
  project,
  releaseProjectorWeights,
} from './projector.ts';
import { releaseTree } from './release.ts';
import {
  encodeImages,
  loadVisionWeights,
  PosEmbCache,
  releaseVisionWeights,
  type VisionWeights,
} from './vision.ts';

export interface EncodedImages {
  /** [L, D_vision], MoonViT output before the merge (kept for golden checks; release when done). */
  visionOut: Tensor;
  /** [F, D], one row per media placeholder token. */
  features: Tensor;
}

export class KimiVLModel {
  private readonly posCache = new PosEmbCache();

  private constructor(
    readonly cfg: KimiVLConfig,
    private readonly vision: VisionWeights,
    private readonly projector: ProjectorWeights,
    readonly language: LanguageModel,
  ) {}

  /** Uploads every weight (engine names) through the kernels. */
  static load(k: Kernels, cfg: KimiVLConfig, host: ReadonlyMap<string, HostWeight>): KimiVLModel {
    const vision = loadVisionWeights(k, host, cfg.vision);
    const projector = loadProjectorWeights(k, host, cfg);
    const language = new LanguageModel(cfg, loadLanguageWeights(k, host, cfg));
    return new KimiVLModel(cfg, vision, projector, language);
  }

  /** pixelValues [L, 3·p·p] of all images in prompt order → vision output and projected features. */
  encodeImages(k: Kernels, pixelValues: Tensor, grids: readonly Grid[]): EncodedImages {
    const visionOut = encodeImages(k, this.vision, this.cfg.vision, pixelValues, grids, this.posCache); // [L, Dv]
    const features = project(k, this.projector, this.cfg, visionOut, grids); // [F, D]
    return { visionOut, features };
  }

  newCache(k: Kernels, contextBudget: number): KvCache {
    return KvCache.create(k, this.cfg.text, contextBudget);
  }

  /**
   * Runs `ids` (image placeholders already expanded) at positions cache.pos.. and returns logits:
   * [T, V] for every position, or [1, V] for the last when `lastOnly`.
   */
  prefill(
    k: Kernels,
    ids: readonly number[],
    features: Tensor | null,
    cache: KvCache,
    lastOnly: boolean,
  ): Tensor {
    const x = this.language.embedWithImages(k, ids, features); // [T, D]
    const placeholder = this.cfg.mediaPlaceholderTokenId;
    const tokens = ids.map((id) => (id === placeholder ? null : id));
    const logits = this.language.forward(k, x, cache.pos, cache, { lastRowOnly: lastOnly, tokens }); // [T|1, V]
    k.release(x);
    return logits;
  }

  /**
   * One decode step: the token at position cache.pos → logits [1, V]. A generated id is text even when it
   * equals the media placeholder id, so it is embedded plainly (never spliced).
   */
  step(k: Kernels, id: number, cache: KvCache): Tensor {
    const x = this.language.embed(k, [id]); // [1, D]
    const logits = this.language.forward(k, x, cache.pos, cache, { lastRowOnly: true, tokens: [id] }); // [1, V]
    k.release(x);
    return logits;
  }

  release(k: Kernels): void {
    this.posCache.clear(k);
    k.clearVisionTables?.();
    releaseVisionWeights(k, this.vision);
    releaseProjectorWeights(k, this.projector);
    releaseTree(k, this.language.weights);
  }
}
