// MoonViT (spec §7): patch embedding + bicubic-resized learned position table, 2D-RoPE encoder blocks with
// block-diagonal attention per image, final LayerNorm. Pure math over the Kernels facade.
//
// Legend: L patches of all images (Σ h·w), D vision width (1152), H heads (16), d head dim (72),
// I MLP width (4304), P = 3·14·14 = 588 pixel values per patch.

import type { VisionConfig } from '../config/config.ts';
import { type VisionBlockSlots, type VisionSlots, visionSlots } from '../config/weight_names.ts';
import type { CoreOps, Grid, VisionOps } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';
import { expectShape } from './expect_shape.ts';
import { scope } from './scope.ts';
import { type HostWeights, releaseTree, uploadSlots } from './weight_slots.ts';

/** The ops the vision tower and projector use. */
export type VisionKernels = CoreOps & VisionOps;

/** MoonViT's LayerNorms (nn.LayerNorm default; config.json has no field for it). */
export const VISION_LN_EPS = 1e-5;
/** Rope2DPosEmb(theta_base=10000) in the official code; not in config.json. */
export const VISION_ROPE_THETA = 10000;

export type VisionBlockWeights = VisionBlockSlots<Tensor>;
export type VisionWeights = VisionSlots<Tensor>;

/** Uploads the vision tower's weights (the weight table's `vision.*` slots) through `k.uploadWeight`. */
export const loadVisionWeights = (k: CoreOps, host: HostWeights, cfg: VisionConfig): VisionWeights =>
  uploadSlots(k, host, visionSlots(cfg));

export function releaseVisionWeights(k: CoreOps, w: VisionWeights): void {
  releaseTree(k, w);
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

/** One MoonViT block on x [L, D]: x += attn(LN x); x += MLP(LN x). Does not release x. */
function encoderBlock(
  k: VisionKernels,
  b: VisionBlockWeights,
  cfg: VisionConfig,
  x: Tensor,
  grids: readonly Grid[],
): Tensor {
  const H = cfg.numHeads;
  const d = cfg.headDim;
  const x1 = scope(k, (tmp) => {
    const y = tmp(k.layerNorm(x, b.norm0W, b.norm0B, VISION_LN_EPS)); // [L, D]
    const qkv = tmp(k.matmul(y, b.qkvW, b.qkvB)); // [L, 3D] = q | k | v, each [L, H, d]
    const qkvRoped = tmp(k.rope2d(qkv, grids, H, d, VISION_ROPE_THETA)); // [L, 3D]
    const attn = tmp(k.varlenAttention(qkvRoped, grids, H, d)); // [L, D]
    return k.add(x, tmp(k.matmul(attn, b.outW, b.outB))); // [L, D]
  });
  return scope(k, (tmp) => {
    tmp(x1);
    const y = tmp(k.layerNorm(x1, b.norm1W, b.norm1B, VISION_LN_EPS)); // [L, D]
    const h = tmp(k.matmul(y, b.fc0W, b.fc0B)); // [L, I]
    const g = tmp(k.gelu(h, 'tanh')); // MoonViT's MLP uses the tanh form (spec §7.4)
    return k.add(x1, tmp(k.matmul(g, b.fc1W, b.fc1B))); // [L, D]
  });
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
  expectShape('encodeImages: pixel values', pixelValues, [L, P], 'for these grids');
  let x = scope(k, (tmp) => {
    const patches = tmp(k.matmul(pixelValues, w.patchW, w.patchB)); // [L, D]
    const pos = posCache ? posCache.get(k, w.posEmb, grids) : tmp(k.posEmbInterp(w.posEmb, grids)); // [L, D]
    return k.add(patches, pos); // [L, D]
  });
  for (const b of w.blocks) x = scope(k, (tmp) => encoderBlock(k, b, cfg, tmp(x), grids));
  return scope(k, (tmp) => k.layerNorm(tmp(x), w.finalNormW, w.finalNormB, VISION_LN_EPS)); // [L, D]
}
