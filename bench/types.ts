// The benchmark's JSON shape: what the page returns and what the report (Markdown, JSON, SVG) renders.
import type { Timing } from './timing.ts';

export interface BenchConfig {
  quick: boolean;
  /** Only prove the pipeline writes every section (CI): tiny repetitions, smallest shapes. */
  smoke: boolean;
  /** Weights larger than this are skipped with a reason (CPU adapters); null = no limit. */
  maxWeightBytes: number | null;
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
  };
  note?: string;
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

export interface BenchResult {
  config: BenchConfig;
  conditions: BenchConditions;
  kernels: KernelRow[];
  peer: PeerRow[];
  endToEnd: EndToEndRow[];
  /** Sections that threw (the run still writes everything else). */
  failures: { section: string; message: string }[];
  seconds: number;
}
