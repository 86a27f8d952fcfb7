// The Kernels facade: the only thing model code (src/model/) talks to. Two implementations exist:
//   - RefKernels (src/kernels/ref_kernels.ts): plain TypeScript over *.ref.ts, f64 accumulation.
//     It is the oracle on every machine and runs the whole model in Node against the goldens.
//   - GpuKernels (src/kernels/gpu_kernels.ts): WGSL on WebGPU. Ops are *recorded*, not run: nothing
//     is read back until `read()` is awaited, so a forward pass never stalls on the GPU.
//
// Tensors are opaque handles. Activations are f32 row-major; ids are u32. Weights keep their storage
// dtype (bf16/f16/f32 or the engine's block-quantised q8/q4, see src/tensor/quant_format.ts) and are
// only ever the right-hand operand of a matmul-like op or the table of an embedding gather.
//
// Legend used in shape comments: T tokens, D width, M rows, K reduction, N outputs, E experts,
// A active experts per token, H heads, L patches, V vocab.

import type { StepValues } from '../gpu/replay/tape.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';

export type GeluForm = 'erf' | 'tanh';

/** Ops every model part needs. */
/** An rms-norm's weight and eps, as the fused ops take it (W: the backend's tensor, or host values). */
export interface RmsNormWeight<W = Tensor> {
  weight: W;
  eps: number;
}

export interface CoreOps {
  readonly backend: 'ref' | 'gpu';

  /** f32 activations or u32 ids from the host. */
  upload(data: Float32Array | Uint32Array, shape: readonly number[]): Tensor;
  /**
   * Rank ≥ 2 weights keep their storage form (matmul/embedding operands). Rank-1 weights (norm scales,
   * biases, router bias) are widened to f32, which is how every kernel reads them.
   */
  uploadWeight(w: HostWeight): Tensor;
  /** Zero-filled f32 tensor (e.g. a KV cache). */
  zeros(shape: readonly number[]): Tensor;
  read(t: Tensor): Promise<Float32Array>;
  readU32(t: Tensor): Promise<Uint32Array>;
  /** Returns the tensor's storage to the backend's pool; the handle must not be used again. */
  release(...ts: Tensor[]): void;
  /** Submits recorded work (GPU); a no-op on the reference backend. */
  flush(): void;
  /**
   * GPU (src/gpu/replay/): the step `walk` records, replayed from its tape for `slot` and `key` at the
   * step values `at` without calling `walk` once a walk at other values verified the tape. `key` names
   * every input besides those values (tensors by their buffer). Absent: the caller walks.
   */
  replayable?(
    slot: string,
    key: readonly unknown[],
    at: StepValues,
    walk: () => Tensor,
  ): { out: Tensor; replayed: boolean };

  /** y[M,N] = x[M,K] · w[N,K]ᵀ (+ bias[N]). w may be any WeightDType. */
  matmul(x: Tensor, w: Tensor, bias?: Tensor): Tensor;
  /** rmsNorm(x, nw, eps) · wᵀ: at M = 1 on the GPU one GEMV with the norm in its prologue. */
  normMatmul(x: Tensor, nw: Tensor, eps: number, w: Tensor): Tensor;
  /**
   * [rmsNorm(x)·waᵀ, rmsNorm(x)·wbᵀ] ([M, Na], [M, Nb]): at M = 1 on the GPU one GEMV over the rows of
   * both weights, the norm in its prologue.
   */
  normMatmulPair(x: Tensor, nw: Tensor, eps: number, wa: Tensor, wb: Tensor): [Tensor, Tensor];
  /**
   * SwiGLU's first half silu(x'·gateᵀ) · (x'·upᵀ) [M, I], x' = x or rmsNorm(x, norm.weight, norm.eps): at
   * M = 1 on the GPU one GEMV reading gate and up rows side by side, the product in its epilogue.
   */
  gateUpSilu(x: Tensor, gate: Tensor, up: Tensor, norm?: RmsNormWeight): Tensor;
  /** x · wᵀ + residual ([M, N]): at M = 1 on the GPU one GEMV with the add in its epilogue. */
  matmulAdd(x: Tensor, w: Tensor, residual: Tensor): Tensor;
  /** Elementwise a + b, same shape. */
  add(a: Tensor, b: Tensor): Tensor;
  /** Row-wise w · x / sqrt(mean(x²) + eps). x [M,D], w [D]. */
  rmsNorm(x: Tensor, w: Tensor, eps: number): Tensor;
  /** Row-wise (x − mean) / sqrt(var + eps) · w + b. x [M,D], w,b [D]. */
  layerNorm(x: Tensor, w: Tensor, b: Tensor, eps: number): Tensor;
  /** silu(gate) · up, same shape. */
  siluMul(gate: Tensor, up: Tensor): Tensor;
  gelu(x: Tensor, form: GeluForm): Tensor;
  /** out[t] = table[ids[t]]. ids u32 [T], table [V,D] any WeightDType → f32 [T,D]. */
  embedding(ids: Tensor, table: Tensor): Tensor;
  /** Columns [start, start+width) of x [M,N] → [M,width]. */
  sliceCols(x: Tensor, start: number, width: number): Tensor;
  /** Rows [start, start+count) of x [M,N] → [count,N]. */
  sliceRows(x: Tensor, start: number, count: number): Tensor;
  /** Copy of x whose rows `rows[i]` are replaced by src[i]. x [T,D], src [rows.length, D]. */
  spliceRows(x: Tensor, rows: readonly number[], src: Tensor): Tensor;
}

/** One image's patch grid, height first (as image_grid_hws). */
export interface Grid {
  h: number;
  w: number;
}

/** Grid rows [start, start + count) of one image. */
export interface GridRows {
  start: number;
  count: number;
}

/** MoonViT / projector ops (src/kernels/vision/*). */
export interface VisionOps {
  /**
   * Learned table [H0,W0,D] bicubic-resized (align_corners=False, A=−0.75) to each grid, concatenated → [Σhw, D].
   * With `gridRows` (one grid only): just its grid rows [start, start+count) → [count·w, D], the rows a
   * chunk of an image needs when the whole table would pass the buffer limit.
   */
  posEmbInterp(table: Tensor, grids: readonly Grid[], gridRows?: GridRows): Tensor;
  /**
   * 2D RoPE on the q and k thirds of a packed qkv [L, 3·H·d] (v untouched). Token at (r, c) of its image:
   * pair j=2i rotates by c·freq_i, pair j=2i+1 by r·freq_i, freq_i = 1/θ^(4i/d). Positions restart per image.
   */
  rope2d(qkv: Tensor, grids: readonly Grid[], heads: number, headDim: number, theta: number): Tensor;
  /** Block-diagonal attention per image over packed qkv [L, 3·H·d] → [L, H·d], scale 1/√d. */
  varlenAttention(qkv: Tensor, grids: readonly Grid[], heads: number, headDim: number): Tensor;
  /**
   * 2×2 merge in the official slot order (TL, TR, BL, BR) with LayerNorm on each slot:
   * x [Σhw, D] → [Σhw/4, 4D].
   */
  patchMergeLayerNorm(x: Tensor, grids: readonly Grid[], w: Tensor, b: Tensor, eps: number): Tensor;
  /** Frees per-grid helper tables a backend keeps (RoPE cos/sin, attention tiles); optional. */
  clearVisionTables?(): void;
}

export interface RouterConfig {
  topK: number;
  nGroup: number;
  topkGroup: number;
  normTopkProb: boolean;
  routedScalingFactor: number;
}

export interface MlaDims {
  heads: number;
  qkNope: number;
  qkRope: number;
  v: number;
  kvRank: number;
  /** Softmax scale (includes yarn mscale² when rope_scaling is set). */
  scale: number;
}

/** DeepSeek YaRN knobs already reduced to what the kernel needs (DeepseekV3YarnRotaryEmbedding). */
export interface RopeYarn {
  factor: number;
  /** Ramp bounds in pair index: pairs below `low` keep the original frequency, above `high` are divided by factor. */
  low: number;
  high: number;
  /** cos/sin multiplier: yarn_get_mscale(factor, mscale) / yarn_get_mscale(factor, mscale_all_dim). */
  attnFactor: number;
}

export interface RopeOptions {
  heads: number;
  headStride: number;
  offset: number;
  ropeDim: number;
  theta: number;
  pos0: number;
  /** DeepSeek YaRN frequency blend (only when config.json sets rope_scaling; absent in every released Kimi-VL). */
  yarn?: RopeYarn;
}

/** q's rope when mlaAttention applies it: the frequencies (heads, stride, offset, dim and pos0 follow from the call). */
export type QRope = Pick<RopeOptions, 'theta' | 'yarn'>;

/** DeepSeek-V3 language-model ops (src/kernels/language/*). */
export interface LanguageOps {
  /**
   * Interleaved RoPE in place on a copy of x [T, C]: for each of `heads` heads of stride `headStride`,
   * pairs (x[o+2i], x[o+2i+1]) with o = head·headStride + offset rotate by (pos0 + t)·θ^(−2i/ropeDim).
   */
  rope(x: Tensor, o: RopeOptions): Tensor;
  /** Writes c_norm [T,R] and roped k_pe [T,P] into the latent cache [ctx, R+P] at rows pos0..pos0+T−1. */
  kvCacheWrite(cache: Tensor, cNorm: Tensor, kPe: Tensor, pos0: number): void;
  /**
   * A zeroed latent cache [ctx, R+P] in f32 or f16 (GPU: halves two per u32, in position parts over the
   * buffer limit; the reference backend holds f16 rows rounded to half precision and widened).
   */
  latentCache(shape: readonly number[], dtype: 'f32' | 'f16'): Tensor;
  /**
   * kv_a's output kva [T, R+P] into the cache rows rope.pos0.. in one pass: [RMSNorm(c)·norm | RoPE(k_pe)]
   * (norm [R], eps; rope: one head of the P k_pe columns) — slice, rmsNorm, rope and kvCacheWrite fused.
   */
  latentRowWrite(cache: Tensor, kva: Tensor, norm: Tensor, eps: number, rope: RopeOptions): void;
  /**
   * Weight-absorbed MLA over the latent cache. q [T, H·(nope+rope)] with roped pe, kvB [H·(nope+v), R].
   * Query t sits at position pos0+t and sees cache rows 0..pos0+t. Returns [T, H·v].
   * With `qRope`, q's pe arrives un-roped and is roped here exactly as `rope` would (every head, offset
   * nope, ropeDim = rope, positions pos0..): on the GPU where the absorb pass first reads it (no dispatch).
   */
  mlaAttention(q: Tensor, kvB: Tensor, cache: Tensor, pos0: number, dims: MlaDims, qRope?: QRope): Tensor;
  /**
   * noaux_tc sigmoid router. x [T,D], gate [E,D], bias [E] (selection only); with `norm` of rmsNorm(x).
   * Returns ids u32 [T,A] and weights f32 [T,A] (unbiased, normalised, scaled).
   */
  moeRoute(
    x: Tensor,
    gate: Tensor,
    bias: Tensor,
    cfg: RouterConfig,
    norm?: RmsNormWeight,
  ): { ids: Tensor; weights: Tensor };
  /**
   * Σ_a weights[t,a] · down_e(silu(gate_e(x_t)) · up_e(x_t)), e = ids[t,a], run only for the selected experts,
   * plus `addend` [T,D] when given (the shared experts' output: added in the combine, no separate add);
   * with `norm` the experts read rmsNorm(x) (fused into the first projection at T = 1).
   * gate, up [E,I,D]; down [E,D,I]. Returns [T,D].
   */
  moeExperts(
    x: Tensor,
    ids: Tensor,
    weights: Tensor,
    gate: Tensor,
    up: Tensor,
    down: Tensor,
    addend?: Tensor,
    norm?: RmsNormWeight,
  ): Tensor;
}

export interface SamplingParams {
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
}

export interface SamplingOps {
  /**
   * Picks the next token from logits [1,V] on the device. `history` u32 [n] holds the ids the repetition
   * penalty applies to; `step` varies the random stream. temperature 0 = greedy (ties → lowest id).
   * Returns a u32 [1] tensor (read it with readU32: the only readback of a decode step).
   */
  sample(logits: Tensor, history: Tensor | null, params: SamplingParams, step: number): Tensor;
}

export type Kernels = CoreOps & VisionOps & LanguageOps & SamplingOps;
