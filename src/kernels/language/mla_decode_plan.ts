// How mla_decode splits the keys, and the bytes it reads per token (pure arithmetic: the bench and the
// unit tests use it without a GPU).
//
// Split count: enough workgroups to fill the adapter (WebGPU does not say how many compute units it has:
// ~128 workgroups for a discrete GPU, the CPU's threads for a fallback adapter such as SwiftShader), but
// never so many that what each split costs beyond its cache rows (its heads' q rows loaded, H·(R+2) f32
// partials written and read back by the merge) exceeds SPLIT_OVERHEAD of the cache bytes the split reads,
// so the kernel's reads stay within 1.1 × the f16 cache once plus q and o.
import type { TensorPart } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { MlaDims } from '../types.ts';

/** Lanes per head (mla_decode.wgsl) or per head quad (mla_decode_hq.wgsl); a workgroup serves ≤ 16 heads. */
const LPH = 16;
const MAX_HEADS_PER_WG = 16;
const TK_CHOICES = [16, 8, 4, 2, 1];
/** A split's q loads and partials may cost at most this share of the cache bytes it reads. */
export const SPLIT_OVERHEAD = 0.08;

/**
 * Heads each lane serves: 1 (mla_decode.wgsl: a staged tile read by 16 lanes per head) or 4
 * (mla_decode_hq.wgsl: each cache value read once per head quad, straight from the buffer).
 */
export type HeadsPerLane = 1 | 4;

/**
 * 4 heads per lane on a CPU adapter, where instructions per cache byte and barriers are the cost; 1 on a
 * GPU, where the staged tile is cheap and 4× the registers per lane would cost occupancy.
 */
export function defaultHeadsPerLane(rt: GpuRuntime): HeadsPerLane {
  return rt.info.isFallbackAdapter ? 4 : 1;
}

export interface MlaDecodeGeometry {
  /** Lanes per workgroup (heads per workgroup × 16 / heads per lane). */
  wg: number;
  /** Keys per staged tile. */
  tk: number;
  headGroups: number;
  /** Keys per split (a multiple of tk). */
  chunk: number;
}

export interface MlaDecodePart {
  tensor: GpuTensor;
  split0: number;
  splits: number;
  key0: number;
  keyEnd: number;
}

export interface MlaDecodePlan extends MlaDecodeGeometry {
  splits: number;
  parts: MlaDecodePart[];
}

/** Workgroup size, key tile and head groups for these dims under a workgroup-memory limit. */
export function decodeTiles(
  d: MlaDims,
  workgroupBytes: number,
  hpl: HeadsPerLane = 1,
): Omit<MlaDecodeGeometry, 'chunk'> {
  const W = d.kvRank + d.qkRope;
  const hb = Math.min(d.heads, MAX_HEADS_PER_WG);
  const headGroups = Math.ceil(d.heads / hb);
  if (hpl === 4) {
    // no staged tile: workgroup memory holds the [WG, TK] vec4 partial scores and the [quads, TK] vec4
    // scores and probabilities; TK ≤ 16, one key per lane of a quad in the shared-out softmax
    const wg = Math.ceil(hb / 4) * LPH;
    const bytes = (t: number) => (wg * t + 2 * (wg / LPH) * t) * 16;
    return { wg, tk: TK_CHOICES.find((t) => t <= LPH && bytes(t) <= workgroupBytes) ?? 1, headGroups };
  }
  const wg = hb * LPH;
  const tk = TK_CHOICES.find((t) => t * W * 4 + wg * t * 4 <= workgroupBytes) ?? 1;
  return { wg, tk, headGroups };
}

/** Keys per split for `keys` visible keys, given the workgroups the adapter runs at once. */
export function decodeChunk(
  d: MlaDims,
  keys: number,
  tk: number,
  headGroups: number,
  cacheElemBytes: number,
  adapterWorkgroups: number,
): number {
  const W = d.kvRank + d.qkRope;
  const perSplit = d.heads * (d.kvRank + 2) * 4 + d.heads * W * 4; // partials + q rows
  const minKeys = Math.ceil(perSplit / (SPLIT_OVERHEAD * W * cacheElemBytes));
  const target = Math.max(1, Math.floor(adapterWorkgroups / headGroups));
  const splits = Math.max(1, Math.min(target, Math.floor(keys / minKeys)));
  return Math.ceil(Math.ceil(keys / splits) / tk) * tk;
}

/** Workgroups the adapter is assumed to run at once (see the header). */
export function adapterWorkgroups(rt: GpuRuntime): number {
  if (!rt.info.isFallbackAdapter) return 128;
  const threads = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return Math.max(2, threads ?? 4);
}

/** Splits per cache part: each part's visible keys cut into chunks (splits never straddle parts). */
export function splitParts(
  parts: readonly TensorPart[],
  keys: number,
  chunk: number,
): { splits: number; parts: MlaDecodePart[] } {
  const out: MlaDecodePart[] = [];
  let split0 = 0;
  for (const p of parts) {
    const keyEnd = Math.min(p.start + p.count, keys);
    if (keyEnd <= p.start) continue;
    const splits = Math.ceil((keyEnd - p.start) / chunk);
    out.push({ tensor: p.tensor, split0, splits, key0: p.start, keyEnd });
    split0 += splits;
  }
  return { splits: split0, parts: out };
}

export function planMlaDecode(
  rt: GpuRuntime,
  d: MlaDims,
  keys: number,
  parts: readonly TensorPart[],
  f16: boolean,
  chunk?: number,
  hpl: HeadsPerLane = defaultHeadsPerLane(rt),
): MlaDecodePlan {
  const tiles = decodeTiles(d, rt.device.limits.maxComputeWorkgroupStorageSize, hpl);
  const c = chunk ?? decodeChunk(d, keys, tiles.tk, tiles.headGroups, f16 ? 2 : 4, adapterWorkgroups(rt));
  return { ...tiles, chunk: c, ...splitParts(parts, keys, c) };
}

export interface DecodeBytes {
  /** The cache rows, read once (as the kernel's tile loads do). */
  cache: number;
  /** qcat [H, W] read by every head group's workgroups, o [H, V] written, partials read by the merge. */
  qo: number;
  partials: number;
  total: number;
  /** f16 latent cache once + qcat + o: the floor the kernel is held to (×1.1). */
  minimum: number;
}

/**
 * Bytes of activations and cache that mla_decode + mla_decode_out read or write for one token, from the
 * kernels' access pattern (kv_b is a weight: counted with the weights, as for every matvec).
 */
export function mlaDecodeBytes(
  d: MlaDims,
  keys: number,
  cacheElemBytes: number,
  adapterWg: number,
  workgroupBytes = 16384,
  hpl: HeadsPerLane = 1,
): DecodeBytes {
  const W = d.kvRank + d.qkRope;
  const t = decodeTiles(d, workgroupBytes, hpl);
  const chunk = decodeChunk(d, keys, t.tk, t.headGroups, cacheElemBytes, adapterWg);
  const splits = Math.ceil(keys / chunk);
  const cache = t.headGroups * keys * W * cacheElemBytes;
  const qcat = d.heads * W * 4;
  const o = d.heads * d.v * 4;
  // each split's workgroups load their heads' q rows once; the merge reads o and (m, l) per split and head
  const qo = splits * qcat + o;
  const partials = splits * d.heads * (d.kvRank + 2) * 4;
  const minimum = keys * W * 2 + qcat + o;
  return { cache, qo, partials, total: cache + qo + partials, minimum };
}
