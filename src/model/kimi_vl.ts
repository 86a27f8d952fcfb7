// Kimi-VL end to end as pure math over the Kernels facade (spec §3):
//   pixels → MoonViT → 2×2 merge + projector → features spliced at <|media_pad|> → MoE LM → logits.
// Legend: T tokens, D text width, L patches (all images), F image features (L/4), V vocab.

import type { KimiVLConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { Grid, Kernels } from '../kernels/types.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { KvCache, type KvCacheDType } from './kv_cache.ts';
import { LanguageModel, loadLanguageWeights } from './language.ts';
import {
  loadProjectorWeights,
  type ProjectorWeights,
  project,
  releaseProjectorWeights,
} from './projector.ts';
import { scope } from './scope.ts';
import {
  encodeImages,
  loadVisionWeights,
  PosEmbCache,
  releaseVisionWeights,
  type VisionWeights,
} from './vision.ts';
import { type ChunkedImages, encodeImagesChunked } from './vision_chunked.ts';

export interface EncodedImages {
  /** [L, D_vision], MoonViT output before the merge (kept for golden checks; release when done). */
  visionOut: Tensor;
  /** [F, D], one row per media placeholder token. */
  features: Tensor;
}

/** Images as the preprocessor hands them over: pixelValues is [L, 3·p·p] (`shape`), patches of `grids`. */
export interface PixelRows {
  pixelValues: Float32Array;
  shape: readonly [number, number];
  grids: readonly Grid[];
}

export class KimiVLModel {
  private readonly posCache = new PosEmbCache();

  private constructor(
    readonly cfg: KimiVLConfig,
    private readonly vision: VisionWeights,
    private readonly projector: ProjectorWeights,
    private readonly language: LanguageModel,
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

  /**
   * encodeImages for a buffer limit of `maxBytes`: one image at a time in row chunks (vision_chunked.ts),
   * the vision output and features as chunks in order; host pixel rows are uploaded chunk by chunk.
   */
  encodeImagesChunked(k: Kernels, images: PixelRows, maxBytes: number): ChunkedImages {
    const { pixelValues, grids } = images;
    return encodeImagesChunked(k, this.vision, this.projector, this.cfg, pixelValues, grids, maxBytes);
  }

  /**
   * The image features [F, D] of preprocessed images (host pixel rows in prompt order, as the
   * preprocessor's batch carries them); the vision output is not kept.
   */
  imageFeatures(k: Kernels, images: PixelRows): Tensor {
    return scope(k, (tmp) => {
      const enc = this.encodeImages(k, tmp(k.upload(images.pixelValues, images.shape)), images.grids);
      tmp(enc.visionOut);
      return enc.features; // [F, D]
    });
  }

  newCache(k: Kernels, contextBudget: number, dtype?: KvCacheDType): KvCache {
    return KvCache.create(k, this.cfg.text, contextBudget, dtype);
  }

  /**
   * Which rows of a prompt are image rows, as the KV cache remembers them: the id of each text row, null
   * for each image row (LanguageModel.promptKeys holds the rule). Prefix reuse and the repetition
   * penalty's history read it; prefill splices image features into exactly these rows.
   */
  cacheKey(ids: readonly number[]): (number | null)[] {
    return this.language.promptKeys(ids);
  }

  /**
   * Runs the prompt `ids` (image placeholders already expanded; `features` [F, D] fill its F image rows)
   * at positions cache.pos.. and returns logits: [T, V] for every position, or [1, V] for the last when
   * `lastOnly`.
   */
  prefill(
    k: Kernels,
    ids: readonly number[],
    features: Tensor | null,
    cache: KvCache,
    lastOnly: boolean,
  ): Tensor {
    const tokens = this.cacheKey(ids);
    return scope(k, (tmp) => {
      const x = tmp(this.language.embedWithImages(k, ids, features)); // [T, D]
      return this.language.forward(k, x, cache.pos, cache, { lastRowOnly: lastOnly, tokens }); // [T|1, V]
    });
  }

  /**
   * The decode step: feeds `ids` (one or more generated or forced ids) at positions cache.pos.. and
   * returns the logits of the last, [1, V]. Every decoder (generate(), the golden runner, the bench) goes
   * through here. Generated ids are text even when one equals the media placeholder id, so they are
   * embedded plainly (never spliced).
   */
  step(k: Kernels, ids: readonly number[], cache: KvCache): Tensor {
    if (!ids.length) throw new KimiVLError('ShapeError', 'a decode step needs at least one id');
    return scope(k, (tmp) => {
      const x = tmp(this.language.embed(k, ids)); // [T, D]
      return this.language.forward(k, x, cache.pos, cache, { lastRowOnly: true, tokens: ids }); // [1, V]
    });
  }

  /**
   * The decode step for an id the GPU holds (the sampler's u32 [1] output, never read back): embeds it by
   * a gather from that buffer (generate_pipelined.ts). The cache remembers the row's id as unknown (null)
   * until the caller learns it. Replayed from a recorded tape where the backend can (`replay: false`: never).
   */
  stepOnDevice(k: Kernels, id: Tensor, cache: KvCache, opts: { replay?: boolean } = {}): Tensor {
    const walk = () =>
      scope(k, (tmp) => {
        const x = tmp(k.embedding(id, this.language.weights.embed)); // [1, D]
        return this.language.forward(k, x, cache.pos, cache, { lastRowOnly: true, tokens: [null] }); // [1, V]
      });
    if (opts.replay === false || !k.replayable) return walk();
    // Replay (src/gpu/replay/): the same walk at another position, the cache's host side kept as the walk keeps it.
    const pos = cache.pos;
    cache.checkFits(pos, 1);
    const r = k.replayable('decode-step', [this, cache, ...cache.layers, id], { pos }, walk);
    if (r.replayed) cache.commit(pos, [null]);
    return r.out; // [1, V]
  }

  release(k: Kernels): void {
    this.posCache.clear(k);
    k.clearVisionTables?.();
    releaseVisionWeights(k, this.vision);
    releaseProjectorWeights(k, this.projector);
    this.language.release(k);
  }
}
