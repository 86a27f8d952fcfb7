// MoonViT (spec §7): patch embedding + bicubic-resized learned position table, 2D-RoPE encoder blocks with
// block-diagonal attention per image, final LayerNorm. Pure math over the Kernels facade.
//
// Legend: L patches of all images (Σ h·w), D vision width (1152), H heads (16), d head dim (72),
// I MLP width (4304), P = 3·14·14 = 588 pixel values per patch.

import type { VisionConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { CoreOps, Grid, VisionOps } from '../kernels/types.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';

/** The ops the vision tower and projector use. */
export type VisionKernels = CoreOps & VisionOps;

/** MoonViT's LayerNorms (nn.LayerNorm default; config.json has no field for it). */
export const VISION_LN_EPS = 1e-5;
/** Rope2DPosEmb(theta_base=10000) in the official code; not in config.json. */
export const VISION_ROPE_THETA = 10000;

export interface VisionBlockWeights {
  norm0W: Tensor;
  norm0B: Tensor;
  qkvW: Tensor; // [3D, D]
  qkvB: Tensor;
  outW: Tensor; // [D, D]
  outB: Tensor;
  norm1W: Tensor;
  norm1B: Tensor;
  fc0W: Tensor; // [I, D]
  fc0B: Tensor;
  fc1W: Tensor; // [D, I]
  fc1B: Tensor;
}

export interface VisionWeights {
  patchW: Tensor; // [D, P]
  patchB: Tensor;
  posEmb: Tensor; // [H0, W0, D]
  blocks: VisionBlockWeights[];
  finalNormW: Tensor;
  finalNormB: Tensor;
}

function need(host: ReadonlyMap<string, HostWeight>, name: string, shape: readonly number[]): HostWeight {
  const w = host.get(name);
  if (!w) throw new KimiVLError('CheckpointError', `weight ${name} is missing from the checkpoint`);
  if (w.shape.join() !== shape.join()) {
    throw new KimiVLError(
      'CheckpointError',
      `weight ${name} has shape [${w.shape}], config.json implies [${shape}]`,
    );
  }
  return w;
}

/** Uploads the vision tower's weights (engine names, weights contract) through `k.uploadWeight`. */
export function loadVisionWeights(
  k: CoreOps,
  host: ReadonlyMap<string, HostWeight>,
  cfg: VisionConfig,
): VisionWeights {
  const D = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const P = 3 * cfg.patchSize * cfg.patchSize;
  const up = (name: string, shape: readonly number[]) => k.uploadWeight(need(host, name, shape));
  const blocks: VisionBlockWeights[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `vision.blocks.${i}`;
    blocks.push({
      norm0W: up(`${p}.norm0.weight`, [D]),
      norm0B: up(`${p}.norm0.bias`, [D]),
      qkvW: up(`${p}.qkv.weight`, [3 * D, D]),
      qkvB: up(`${p}.qkv.bias`, [3 * D]),
      outW: up(`${p}.out.weight`, [D, D]),
      outB: up(`${p}.out.bias`, [D]),
      norm1W: up(`${p}.norm1.weight`, [D]),
      norm1B: up(`${p}.norm1.bias`, [D]),
      fc0W: up(`${p}.fc0.weight`, [I, D]),
      fc0B: up(`${p}.fc0.bias`, [I]),
      fc1W: up(`${p}.fc1.weight`, [D, I]),
      fc1B: up(`${p}.fc1.bias`, [D]),
    });
  }
  return {
    patchW: up('vision.patch_embed.weight', [D, P]),
    patchB: up('vision.patch_embed.bias', [D]),
    posEmb: up('vision.pos_emb', [cfg.posEmbHeight, cfg.posEmbWidth, D]),
    blocks,
    finalNormW: up('vision.final_norm.weight', [D]),
    finalNormB: up('vision.final_norm.bias', [D]),
  };
}

export function releaseVisionWeights(k: CoreOps, w: VisionWeights): void {
  k.release(w.patchW, w.patchB, w.posEmb, w.finalNormW, w.finalNormB);
  for (const b of w.blocks) k.release(...Object.values(b));
}

/**
 * The position table resized to a list of grids, cached by the grids (the resize is the same for every
 * request with the same image sizes). The cache owns its tensors: eviction and clear() release them;
 * callers must not release what get() returns.
 */
export class PosEmbCache {
  private readonly entries = new Map<string, Tensor>();
  constructor(private readonly capacity = 4) {}

  get(k: VisionKernels, table: Tensor, grids: readonly Grid[]): Tensor {
    const key = grids.map((g) => `${g.h}x${g.w}`).join(',');
    const hit = this.entries.get(key);
    if (hit) return hit;
    const pos = k.posEmbInterp(table, grids); // [L, D]
    this.entries.set(key, pos);
    if (this.entries.size > this.capacity) {
      const [oldKey, old] = this.entries.entries().next().value as [string, Tensor];
      this.entries.delete(oldKey);
      k.release(old);
    }
    return pos;
  }

  clear(k: VisionKernels): void {
    for (const t of this.entries.values()) k.release(t);
    this.entries.clear();
  }
}

function encoderBlock(
  k: VisionKernels,
  b: VisionBlockWeights,
  cfg: VisionConfig,
  x: Tensor,
  grids: readonly Grid[],
): Tensor {
  const H = cfg.numHeads;
  const d = cfg.headDim;
  const y = k.layerNorm(x, b.norm0W, b.norm0B, VISION_LN_EPS); // [L, D]
  const qkv = k.matmul(y, b.qkvW, b.qkvB); // [L, 3D] = q | k | v, each [L, H, d]
  k.release(y);
  const qkvRoped = k.rope2d(qkv, grids, H, d, VISION_ROPE_THETA); // [L, 3D]
  k.release(qkv);
  const attn = k.varlenAttention(qkvRoped, grids, H, d); // [L, D]
  k.release(qkvRoped);
  const o = k.matmul(attn, b.outW, b.outB); // [L, D]
  k.release(attn);
  const x1 = k.add(x, o);
  k.release(o);

  const y1 = k.layerNorm(x1, b.norm1W, b.norm1B, VISION_LN_EPS);
  const h = k.matmul(y1, b.fc0W, b.fc0B); // [L, I]
  k.release(y1);
  const g = k.gelu(h, 'tanh'); // MoonViT's MLP uses the tanh form (spec §7.4)
  k.release(h);
  const m = k.matmul(g, b.fc1W, b.fc1B); // [L, D]
  k.release(g);
  const x2 = k.add(x1, m);
  k.release(x1, m);
  return x2;
}

/**
 * pixelValues [L, P] (patches row-major per image, images in order) → vision_tower_out [L, D].
 * `posCache` keeps the resized position table across calls; without it the table is computed and freed here.
 */
export function encodeImages(
  k: VisionKernels,
  w: VisionWeights,
  cfg: VisionConfig,
  pixelValues: Tensor,
  grids: readonly Grid[],
  posCache?: PosEmbCache,
): Tensor {
  const L = grids.reduce((s, g) => s + g.h * g.w, 0);
  const P = 3 * cfg.patchSize * cfg.patchSize;
  if (pixelValues.shape.length !== 2 || pixelValues.shape[0] !== L || pixelValues.shape[1] !== P) {
    throw new KimiVLError(
      'ShapeError',
      `encodeImages: pixel values [${pixelValues.shape}] must be [${L}, ${P}] for these grids`,
    );
  }
  const patches = k.matmul(pixelValues, w.patchW, w.patchB); // [L, D]
  const pos = posCache ? posCache.get(k, w.posEmb, grids) : k.posEmbInterp(w.posEmb, grids); // [L, D]
  let x = k.add(patches, pos); // [L, D]
  k.release(patches);
  if (!posCache) k.release(pos);
  for (const b of w.blocks) {
    const next = encoderBlock(k, b, cfg, x, grids);
    k.release(x);
    x = next;
  }
  const out = k.layerNorm(x, w.finalNormW, w.finalNormB, VISION_LN_EPS); // [L, D]
  k.release(x);
  return out;
}
