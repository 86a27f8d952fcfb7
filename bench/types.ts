// The benchmark's JSON shape: what the page returns and what the report (Markdown, JSON, SVG) renders.
import type { Timing } from './timing.ts';

export interface BenchConfig {
  quick: boolean;
  /** Only prove the pipeline writes every section (CI): tiny repetitions, smallest shapes. */
  smoke: boolean;
  /** Weights larger than this are skipped with a reason (CPU adapters); null = no limit. */
  maxWeightBytes: number | null;
  /** Image sizes with more patches than this are skipped in the image-TTFT section; null = no limit. */
  maxImagePatches: number | null;
  warmup: number;
  reps: number;
}

export interface KernelRow {
  op: string;
  shape: string;
  quant: string;
  timing?: Timing;
  /** Bytes the op must read at least (weights + activations + caches). */
  bytes: number;
  flops: number;
  gbps?: number;
  gflops?: number;
  skipped?: string;
}

export interface PeerRow {
  op: string;
  shape: string;
  quant: string;
  oursMs?: number;
  peerMs?: number;
  /** ours / theirs: < 1 means we are faster. */
  ratio?: number;
  /** max |ours − theirs| / max |theirs| on the same inputs (both computed the same thing). */
  agreement?: number;
  peerOp: string;
  /** Our kernel path as forced through rt.tuning (bench/variants.ts). */
  variant?: string;
  /** Every way the peer was run (the fastest is reported as peerMs/peerOp). */
  /** Every peer form tried: its time and agreement with ours, or why it failed. */
  peerOptions?: { label: string; ms?: number; agreement?: number; failed?: string }[];
  /** The goal for ours/ORT on this row (≤ target passes). */
  target?: number;
  /** Bytes the op must read at least (GEMV rows: for GB/s against the copy kernel). */
  bytes?: number;
  oursGBps?: number;
  peerGBps?: number;
  skipped?: string;
  note?: string;
}

export interface EndToEndRow {
  model: string;
  quant: string;
  /** Image side in pixels → encode ms (vision tower + projector). */
  imageEncode: { pixels: string; patches: number; ms: number }[];
  promptTokens: number;
  prefillTokPerS: number;
  decodeTokPerS: number;
  decodeSteps: number;
  ttftMs: number;
  /** Per decoded token, from rt.stats. */
  perToken: {
    submits: number;
    readbacks: number;
    dispatches: number;
    /** rt.stats.weightBytes (what the kernels report reading) + the latent cache rows the attention reads. */
    bytesRead: number;
    kvBytesRead: number;
    /** Active parameters at this quantisation + the latent cache once, from the config alone. */
    minBytes: number;
    ratio: number;
    context: number;
    /** bytesRead × tokens/s. */
    achievedGBps: number;
    /** Wall time per token minus GPU busy time per token (timestamp queries around every pass). */
    gpuIdleMs?: number;
    gpuBusyMs?: number;
  };
  /** Decode through the engine's own loop, generate() (bench/engine_decode.ts): the "after" of the host
   *  work; perToken's figures come from the plain step → sample → read loop (the "before"). */
  engineDecode?: EngineDecode;
  /** A second turn about the first image (bench/image_turns.ts followUpTurns). */
  followUp?: FollowUpTurn;
  note?: string;
  skipped?: string;
}

export interface EngineDecodeFigures {
  tokPerS: number;
  /** Per token, from timestamp queries where the adapter has them. */
  gpuBusyMs?: number;
  gpuIdleMs?: number;
  /** Dispatches encoded from a recorded tape / all dispatches of the request. */
  replayedShare: number;
}

/** The engine loop with replay (the default; these figures) and walking the model every step. */
export interface EngineDecode extends EngineDecodeFigures {
  walked: EngineDecodeFigures;
  /** Whether generate() ran its pipelined loop (the GPU backend without a logits observer). */
  pipelined: boolean;
}

/**
 * The same image asked about twice through the engine's request path. The follow-up's figures come first;
 * `firstTurn` is the turn it follows. newTokens: prompt rows the first turn never put in the cache.
 */
export interface FollowUpTurn {
  /** MoonViT time of the follow-up (0 when no pass ran). */
  imageEncodeMs: number;
  /** MoonViT passes the follow-up ran. */
  imagesEncoded: number;
  prefillTokens: number;
  newTokens: number;
  promptTokens: number;
  cachedPromptTokens: number;
  ttftMs: number;
  /** The follow-up's image step when nothing was encoded (hashing the pixels, finding the rows). */
  reuseMs: number;
  firstTurn: { imageEncodeMs: number; imagesEncoded: number; prefillTokens: number; ttftMs: number };
}

export interface ImageTtftFigures {
  /** MoonViT attention alone on this image's patches at the real 16 heads × 72. */
  attentionMs: number;
  /** The request's image step: MoonViT + projector, waited for. */
  encodeMs: number;
  /** Request start → first token read back (encode + sliced prefill + sample). */
  ttftMs: number;
}

/** Time to first token for one image size, before and after #14's kernels, in one run. */
export interface ImageTtftRow {
  model: string;
  quant: string;
  pixels: string;
  patches: number;
  imageTokens: number;
  promptTokens: number;
  /** The forced tuning knobs of each kernel set (bench/image_turns.ts). */
  beforeKernels: string;
  afterKernels: string;
  before?: ImageTtftFigures;
  after?: ImageTtftFigures;
  /** before / after: > 1 means the new kernels are faster. */
  attentionSpeedup?: number;
  ttftSpeedup?: number;
  skipped?: string;
}

/** A plain copy kernel's GB/s on the adapter: the bandwidth GEMV rows are measured against. */
export interface BandwidthRow {
  op: string;
  /** Bytes moved per run (read + written). */
  bytes: number;
  timing?: Timing;
  gbps?: number;
  skipped?: string;
}

/** MLA decode for one token over `context` cached positions: the new kernel against the old one. */
export interface MlaDecodeRow {
  context: number;
  /** What ran as "old" and "new" (kernel names, forced variants). */
  oldKernel: string;
  newKernel: string;
  oldMs?: number;
  newMs?: number;
  /** old / new: > 1 means the new kernel is faster. */
  speedup?: number;
  /** Bytes the new kernel reads per token (cache rows × heads that stream them + q/o + kv_b). */
  bytesRead: number;
  oldBytesRead: number;
  /** The f16 latent cache once + q/o + kv_b. */
  minBytes: number;
  skipped?: string;
}

/** One decoded token of the real 27-layer config, counted by recording without executing. */
export interface PerTokenRow {
  model: string;
  quant: string;
  context: number;
  /** What recorded the step (bench/counting_runtime.ts, or the engine's counting backend). */
  counter: string;
  dispatches: number;
  /** The dispatches of the step by kernel (DispatchSpec.op), most first. */
  dispatchesByOp?: Record<string, number>;
  submits: number;
  readbacks: number;
  uniformBytes: number;
  /** Weight bytes the kernels report + the latent-cache bytes the MLA kernel reads. */
  bytesRead: number;
  kvBytesRead: number;
  /** Active parameters at this quantisation + the f16 latent cache once. */
  minBytes: number;
  ratio: number;
  skipped?: string;
}

export interface BenchConditions {
  date: string;
  /** Commit of the engine the figures belong to (+dirty when the working tree differed). */
  engine: string;
  userAgent: string;
  browser: string;
  adapter: { vendor: string; architecture: string; device: string; description: string; fallback: boolean };
  features: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  hardware: boolean;
  /** Host CPU count and 1-minute load average at the start and end (SwiftShader figures depend on it). */
  host?: string;
  timing: string;
  peer: string;
}

/** Agreement (max |ours − theirs| / max |theirs|) under which a peer computed the same thing as ours. */
export const PEER_AGREEMENT = 1e-2;

export interface BenchResult {
  config: BenchConfig;
  conditions: BenchConditions;
  kernels: KernelRow[];
  peer: PeerRow[];
  endToEnd: EndToEndRow[];
  bandwidth?: BandwidthRow[];
  mlaDecode?: MlaDecodeRow[];
  perToken?: PerTokenRow[];
  imageTtft?: ImageTtftRow[];
  /** Sections not run yet (a file written while the run is under way). */
  pending?: string[];
  /** Sections that threw (the run still writes everything else). */
  failures: { section: string; message: string }[];
  seconds: number;
}
