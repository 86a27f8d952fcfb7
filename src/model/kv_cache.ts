// Latent MLA KV cache (spec §9.4): per layer one tensor [ctx, kvRank + rope] of c_norm | roped k_pe, in f32
// or f16. The engine gives users f16 (USER_KV_CACHE_DTYPE: half the bytes each decode step streams); tests
// and the golden runner keep f32, because an f16 cache moves the golden logits by 5.6e-4 .. 7.3e-4 of
// max|expected| (8/8 cases fail the 1e-4 tolerance on the reference backend; f32 passes them), while the
// greedy tokens stay the same.
// `pos` is how many rows hold valid positions; `tokens` remembers the ids behind them so a follow-up turn
// prefills only what is new (prefix reuse). Image rows have no id: they are remembered by an image-row key
// (a hash of the image's pixel values and grid, and the row within the image), which the request names
// before it runs (expectImageRows), so a follow-up turn about the same image reuses those rows too.

import type { TextConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { Kernels } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';

export type CacheKernels = Pick<Kernels, 'latentCache' | 'release'>;
export type KvCacheDType = 'f16' | 'f32';
/** The cache dtype the engine allocates for users (see the header for why tests keep f32). */
export const USER_KV_CACHE_DTYPE: KvCacheDType = 'f16';

export class KvCache {
  /** Number of positions filled (the next token sits at `pos`). */
  pos = 0;
  /** Token ids at positions 0..pos−1 when known (null entries: rows that came from image features). */
  readonly tokens: (number | null)[] = [];
  /** Image-row keys at positions 0..pos−1 (null: a text row, or an image row of unknown identity). */
  private readonly imageRows: (string | null)[] = [];
  /** The running prompt's image-row keys by position (what commit() records for its image rows). */
  private promptImageRows: readonly (string | null)[] = [];

  private constructor(
    readonly layers: Tensor[],
    readonly capacity: number,
  ) {}

  /**
   * Allocates a zeroed cache for `contextBudget` positions (≤ max_position_embeddings), f32 unless told
   * (an f16 cache of an odd row width cannot pack halves in pairs: f32 then).
   */
  static create(
    k: CacheKernels,
    cfg: TextConfig,
    contextBudget: number,
    dtype: KvCacheDType = 'f32',
  ): KvCache {
    if (!Number.isInteger(contextBudget) || contextBudget < 1)
      throw new KimiVLError('ConfigError', `context budget must be a positive integer, got ${contextBudget}`);
    const ctx = Math.min(contextBudget, cfg.maxPositionEmbeddings);
    const width = cfg.kvLoraRank + cfg.qkRopeHeadDim;
    const dt = width % 2 === 0 ? dtype : 'f32';
    const layers = Array.from({ length: cfg.numLayers }, () => k.latentCache([ctx, width], dt)); // [ctx, R+P]
    return new KvCache(layers, ctx);
  }

  /** Throws ContextOverflowError unless positions pos0..pos0+count−1 fit (and pos0 does not skip rows). */
  checkFits(pos0: number, count: number): void {
    if (pos0 < 0 || pos0 > this.pos)
      throw new KimiVLError(
        'EngineStateError',
        `cannot write at position ${pos0}: the cache holds ${this.pos} positions`,
      );
    if (pos0 + count > this.capacity)
      throw new KimiVLError(
        'ContextOverflowError',
        `the conversation needs ${pos0 + count} positions but the context budget is ${this.capacity}; ` +
          'start a new conversation, shorten the prompt or raise the context budget',
      );
  }

  /** Records that positions pos0.. now hold `ids` (rows beyond are forgotten). */
  commit(pos0: number, ids: readonly (number | null)[]): void {
    this.tokens.length = pos0;
    this.tokens.push(...ids);
    this.imageRows.length = Math.min(this.imageRows.length, pos0);
    while (this.imageRows.length < pos0) this.imageRows.push(null);
    ids.forEach((id, j) => {
      this.imageRows.push(id === null ? (this.promptImageRows[pos0 + j] ?? null) : null);
    });
    this.pos = pos0 + ids.length;
  }

  /**
   * Names the image rows of the prompt about to run, by position (null for text rows; [] when it has no
   * images or they are unknown). Stays in force until the next call or reset().
   */
  expectImageRows(keys: readonly (string | null)[]): void {
    this.promptImageRows = keys;
  }

  /** Whether position i already holds prompt row `id` (an image row matches by its named key). */
  private holds(i: number, id: number | null): boolean {
    if (id !== null) return this.tokens[i] === id;
    const key = this.promptImageRows[i];
    return key != null && this.tokens[i] === null && this.imageRows[i] === key;
  }

  /**
   * How many leading positions of `ids` the cache already holds. At least one token is always left to
   * prefill (its logits are needed). Image rows (null) match only where expectImageRows named them and
   * the cache holds the same image-row key there; an unnamed image row never matches.
   */
  reusablePrefix(ids: readonly (number | null)[]): number {
    const n = Math.min(this.pos, ids.length - 1);
    let i = 0;
    while (i < n && this.holds(i, ids[i] ?? null)) i++;
    return i;
  }

  reset(): void {
    this.pos = 0;
    this.tokens.length = 0;
    this.imageRows.length = 0;
    this.promptImageRows = [];
  }

  release(k: CacheKernels): void {
    k.release(...this.layers);
    this.layers.length = 0;
    this.reset();
  }
}
