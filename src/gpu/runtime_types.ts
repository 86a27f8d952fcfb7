// The runtime's public vocabulary (re-exported by runtime.ts): what a kernel hands to dispatch(), the
// per-adapter kernel choices, and the counters the runtime keeps (zeroStats: their starting values).
import type { Access } from './pipelines.ts';
import type { PerStepPatch } from './replay/tape.ts';
import type { GpuTensor } from './tensor.ts';
import type { UniformLayout } from './uniforms.ts';
import type { Defines } from './wgsl_preprocess.ts';

export interface Binding {
  tensor: GpuTensor;
  access: Access;
}

export interface DispatchSpec<P extends Record<string, number> = Record<string, number>> {
  op: string;
  source: string;
  defines?: Defines;
  overrides?: Readonly<Record<string, number>>;
  uniforms: UniformLayout;
  params: P;
  bindings: readonly Binding[];
  workgroups: readonly [number, number?, number?];
  /** Weight bytes this dispatch reads (instrumentation for bytes-per-token). */
  weightBytes?: number;
  /** All bytes this dispatch reads (weights, activations, KV), where the kernel computes it. */
  bytesRead?: number;
  /**
   * Replay (src/gpu/replay/): the uniform fields that follow the step's position or sampler step, as a
   * function of them; null where the dispatch itself would change (workgroups, bindings). Absent: the
   * dispatch is the same at every step (a tape is replayed only after a walk at other values matched it).
   */
  perStep?: PerStepPatch;
}

/** Per-adapter kernel choices (kernels read them; tests override them to cover every variant). */
export interface Tuning {
  /** M > 1 matmul: 'tiled' (the big-tile GEMM, for GPUs), 'direct' (no barriers, for CPU adapters like
   *  SwiftShader), 'auto' (CPU adapters: tiled from a row count per weight form, else direct;
   *  src/kernels/core/matmul_choice.ts) or 'classic' (the 64×64 kernel the tiled GEMM replaced: a bench baseline). */
  matmul: 'auto' | 'tiled' | 'direct' | 'classic';
  /** Tiles of the tiled GEMM (rows × columns per workgroup); 'auto' chooses by shape (matmul_tiling.ts). */
  matmulTile: 'auto' | '64x64' | '128x64' | '128x128' | '32x64' | '32x128';
  /** Lanes per tile of the tiled GEMM: 'many' (GPUs), 'few' (CPU adapters: 16-row blocks per lane, one
   *  tile buffer) or 'auto' (few on a CPU adapter, src/kernels/core/matmul_tiling.ts). */
  matmulLanes: 'auto' | 'many' | 'few';
  /** Staged operand tiles of the tiled GEMM: 'f16' (packed in u32 where the adapter lacks shader-f16) or 'f32'. */
  matmulTiles: 'f16' | 'f32';
  /** Routed experts at T > 1: 'tiled' (the tiled GEMM over each expert's gathered rows) or 'rows' (a thread
   *  per output row, ≤ 16 tokens per tile: cheaper where barriers are expensive, as on CPU adapters at few
   *  tokens an expert) or 'auto' (CPU adapters: tiled from AUTO_TILED_MOE_FROM slots an expert, else rows). */
  moePrefill: 'tiled' | 'rows' | 'auto';
  /** MoonViT attention: 'flash' (FlashAttention-2 tiles) or 'varlen' (one thread per query: the reference mode). */
  visionAttention: 'flash' | 'varlen';
  /** Staged K/V tiles of the flash kernel: 'f16' (packed in u32 where the adapter lacks shader-f16) or 'f32'. */
  attentionTiles: 'f16' | 'f32';
  /** Queries per quad of the flash kernel (its QR); absent: chosen by adapter (chooseFlashVariant).
   *  Tests and the bench force it. */
  flashQueries?: 4 | 8 | 16;
  /** Subgroup reductions where the adapter has them; false forces the workgroup-memory path. */
  subgroups: boolean;
  /** Sampler: 'split' (many workgroups over the vocabulary) or 'single' (one workgroup: the reference mode). */
  sampler: 'split' | 'single';
  /** GEMV output rows per workgroup; absent: chosen by N (chooseGemvVariant). Tests and the bench force it. */
  gemvRows?: 1 | 2 | 4 | 8 | 16;
  /** MLA prefill (T > 1): 'flash' (non-absorbed, mla_prefill.wgsl) or 'absorbed' (the decode kernels);
   *  absent: 'flash'. */
  mlaPrefill?: 'flash' | 'absorbed';
}

export interface RuntimeStats {
  dispatches: number;
  submits: number;
  readbacks: number;
  weightBytes: number;
  bindGroupsCreated: number;
  /** Bytes written into the uniform buffer. */
  uniformBytes: number;
  /** Bytes the kernels say they read (DispatchSpec.bytesRead, else weightBytes). */
  bytesRead: number;
  /** Dispatches encoded from a replay tape (counted in `dispatches` too): no model walk behind them. */
  replayed: number;
}

export const zeroStats = (): RuntimeStats => ({
  dispatches: 0,
  submits: 0,
  readbacks: 0,
  weightBytes: 0,
  bindGroupsCreated: 0,
  uniformBytes: 0,
  bytesRead: 0,
  replayed: 0,
});

export interface RuntimeOptions {
  /** False: a counting device (src/gpu/counting.ts): weights get no bytes and nothing executes. */
  executes?: boolean;
  /** False: never replay a recorded decode step (src/gpu/replay/); every step walks the model. Default true. */
  replay?: boolean;
}
