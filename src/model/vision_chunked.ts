// MoonViT + projector for one image at a time in row chunks, for devices (or the `limits` option) whose
// maxStorageBufferBindingSize is smaller than the whole-image activations: a 16,384-patch image makes a
// 272 MiB MLP activation [L, I] at real size, over the 128 MiB WebGPU default.
//
// Every row-wise op (patch embedding, LayerNorm, qkv, out-projection, MLP, final norm, 2×2 merge and the
// projector) runs on chunks of R patch rows, R a multiple of two grid rows so a chunk holds whole 2×2 merge
// blocks. Pixel rows are uploaded in sub-chunks of their own (588 values per patch are the widest rows).
// Attention needs every key of the image, so it runs per head: the head's q | k | v columns of each chunk
// are packed into one [L, 3d] tensor (d = head dim: 14 MB for a 16,384-patch image at real size), RoPE'd
// and attended with heads = 1, and its [L, d] output is put back into each chunk's [R, D] columns.
// Column packing and unpacking use only CoreOps: sliceCols, and matmul by 0/1 selection matrices, which
// is exact (x·1 + Σ 0·y), so the chunked tower matches the whole one to rounding of the same kernels.
//
// Legend: L patches of the image, R rows per chunk, D vision width, H heads, d head dim, I MLP width,
// P = 3·14·14 pixel values per patch, Dt text width.

import type { KimiVLConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { CoreOps, Grid } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';
import { type ProjectorWeights, project } from './projector.ts';
import { scope } from './scope.ts';
import {
  VISION_LN_EPS,
  VISION_ROPE_THETA,
  type VisionBlockWeights,
  type VisionKernels,
  type VisionWeights,
} from './vision.ts';

export interface VisionChunkPlan {
  /** Patch rows per tower chunk (a multiple of 2·w; the last chunk may hold fewer). */
  towerRows: number;
  /** Patch rows per pixel upload. */
  pixelRows: number;
}

const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

/** Chunk sizes for one image under a `maxBytes` buffer limit; GpuLimitError where no chunking fits. */
export function visionChunkPlan(cfg: KimiVLConfig, g: Grid, maxBytes: number): VisionChunkPlan {
  const v = cfg.vision;
  const D = v.hiddenSize;
  const P = 3 * v.patchSize * v.patchSize;
  const L = g.h * g.w;
  // bytes per patch row of the widest chunk activation: qkv [R, 3D], MLP [R, I], merged [R/4, 4D], features [R/4, Dt]
  const rowBytes = 4 * Math.max(3 * D, v.intermediateSize, D, Math.max(4 * D, cfg.text.hiddenSize) / 4);
  const pair = 2 * g.w;
  const towerRows = Math.min(L, Math.floor(maxBytes / rowBytes / pair) * pair);
  const pixelRows = Math.floor(maxBytes / (4 * P));
  const headBytes = 4 * L * 3 * v.headDim;
  if (towerRows < pair || pixelRows < 1 || headBytes > maxBytes)
    throw new KimiVLError(
      'GpuLimitError',
      `a ${g.h}×${g.w}-patch image cannot be encoded in chunks under a ${maxBytes}-byte buffer limit: ` +
        `two grid rows need ${pair * rowBytes} bytes, one pixel row ${4 * P}, one head's q|k|v ${headBytes}`,
    );
  return { towerRows, pixelRows };
}

/** 0/1 matrices that move head columns: q, k, v [3d, d] into a packed [·, 3d]; head h [D, d] into [·, D]. */
export class HeadSelectors {
  private constructor(
    readonly qkv: readonly [Tensor, Tensor, Tensor],
    readonly heads: readonly Tensor[],
  ) {}

  static create(k: CoreOps, heads: number, d: number): HeadSelectors {
    const sel = (rows: number, offset: number) => {
      const m = new Float32Array(rows * d);
      for (let j = 0; j < d; j++) m[(offset + j) * d + j] = 1; // w[offset + j, j] = 1: y[:, offset + j] = x[:, j]
      return k.uploadWeight({ dtype: 'f32', shape: [rows, d], bytes: new Uint8Array(m.buffer) });
    };
    const qkv = [sel(3 * d, 0), sel(3 * d, d), sel(3 * d, 2 * d)] as const;
    return new HeadSelectors(
      qkv,
      range(0, heads).map((h) => sel(heads * d, h * d)),
    );
  }

  release(k: CoreOps): void {
    k.release(...this.qkv, ...this.heads);
  }
}

/** Rows of `parts` stacked in order: [Σ rows, N] (a zero tensor whose row blocks are replaced in turn). */
function stackRows(k: CoreOps, parts: readonly Tensor[]): Tensor {
  if (parts.length === 1) return parts[0]!;
  let out = k.zeros([parts.reduce((n, p) => n + p.shape[0]!, 0), parts[0]!.shape[1]!]);
  let row = 0;
  for (const p of parts) {
    const next = k.spliceRows(out, range(row, p.shape[0]!), p);
    row += p.shape[0]!;
    k.release(out, p);
    out = next;
  }
  return out;
}

/** x chunk [R, D] = patch embedding of its pixel rows + its rows of the resized position table. */
function embedChunk(
  k: VisionKernels,
  w: VisionWeights,
  pixels: Float32Array,
  P: number,
  g: Grid,
  r0: number,
  n: number,
  pixelRows: number,
): Tensor {
  const parts: Tensor[] = [];
  for (let p0 = r0; p0 < r0 + n; p0 += pixelRows) {
    const m = Math.min(pixelRows, r0 + n - p0);
    parts.push(
      scope(k, (tmp) =>
        k.matmul(tmp(k.upload(pixels.subarray(p0 * P, (p0 + m) * P), [m, P])), w.patchW, w.patchB),
      ),
    );
  }
  return scope(k, (tmp) =>
    k.add(tmp(stackRows(k, parts)), tmp(k.posEmbInterp(w.posEmb, [g], { start: r0 / g.w, count: n / g.w }))),
  );
}

/** x += attn(LN x) over the chunks of one image, per head (see the header). Does not release xs. */
function attentionChunked(
  k: VisionKernels,
  b: VisionBlockWeights,
  cfg: KimiVLConfig['vision'],
  xs: readonly Tensor[],
  g: Grid,
  sel: HeadSelectors,
): Tensor[] {
  const H = cfg.numHeads;
  const d = cfg.headDim;
  const D = cfg.hiddenSize;
  const L = g.h * g.w;
  const packed = range(0, H).map(() => k.zeros([L, 3 * d])); // per head q | k | v [L, 3d]
  let r0 = 0;
  for (const x of xs) {
    const n = x.shape[0]!;
    scope(k, (tmp) => {
      const qkv = tmp(k.matmul(tmp(k.layerNorm(x, b.norm0W, b.norm0B, VISION_LN_EPS)), b.qkvW, b.qkvB)); // [R, 3D]
      for (let h = 0; h < H; h++) {
        const part = scope(k, (t2) => {
          const col = (third: number) =>
            t2(k.matmul(t2(k.sliceCols(qkv, third * D + h * d, d)), sel.qkv[third]!)); // [R, 3d]
          return k.add(t2(k.add(col(0), col(1))), col(2));
        });
        const next = k.spliceRows(packed[h]!, range(r0, n), part);
        k.release(packed[h]!, part);
        packed[h] = next;
      }
    });
    r0 += n;
  }
  const heads = packed.map((p) =>
    scope(k, (tmp) => {
      tmp(p);
      const roped = tmp(k.rope2d(p, [g], 1, d, VISION_ROPE_THETA)); // [L, 3d]
      return k.varlenAttention(roped, [g], 1, d); // [L, d]
    }),
  );
  try {
    r0 = 0;
    return xs.map((x) => {
      const n = x.shape[0]!;
      const out = scope(k, (tmp) => {
        let attn: Tensor | null = null; // [R, D]: head h's output in columns h·d .. h·d + d
        for (let h = 0; h < H; h++) {
          const placed = tmp(k.matmul(tmp(k.sliceRows(heads[h]!, r0, n)), sel.heads[h]!));
          attn = attn ? tmp(k.add(attn, placed)) : placed;
        }
        return k.add(x, tmp(k.matmul(attn!, b.outW, b.outB))); // [R, D]
      });
      r0 += n;
      return out;
    });
  } finally {
    k.release(...heads);
  }
}

/** x += MLP(LN x) on one chunk; does not release x. */
function mlpChunk(k: VisionKernels, b: VisionBlockWeights, x: Tensor): Tensor {
  return scope(k, (tmp) => {
    const y = tmp(k.layerNorm(x, b.norm1W, b.norm1B, VISION_LN_EPS));
    const h = tmp(k.gelu(tmp(k.matmul(y, b.fc0W, b.fc0B)), 'tanh')); // [R, I]
    return k.add(x, tmp(k.matmul(h, b.fc1W, b.fc1B)));
  });
}

export interface ChunkedImages {
  /** vision_tower_out in row chunks, images in order: [R, D] each. */
  visionOut: Tensor[];
  /** image_features in row chunks (R/4 rows each), images in order: [R/4, Dt] each. */
  features: Tensor[];
}

/**
 * pixelValues [L, P] on the host (patches row-major per image, images in order) → the vision output and
 * the projected features in chunks, no buffer over `maxBytes` (visionChunkPlan) apart from the weights.
 */
export function encodeImagesChunked(
  k: VisionKernels,
  vw: VisionWeights,
  pw: ProjectorWeights,
  cfg: KimiVLConfig,
  pixelValues: Float32Array,
  grids: readonly Grid[],
  maxBytes: number,
): ChunkedImages {
  const v = cfg.vision;
  const P = 3 * v.patchSize * v.patchSize;
  const out: ChunkedImages = { visionOut: [], features: [] };
  const sel = HeadSelectors.create(k, v.numHeads, v.headDim);
  try {
    let base = 0; // first patch row of this image
    for (const g of grids) {
      const plan = visionChunkPlan(cfg, g, maxBytes);
      const L = g.h * g.w;
      const pixels = pixelValues.subarray(base * P, (base + L) * P);
      base += L;
      let xs = range(0, Math.ceil(L / plan.towerRows)).map((c) => {
        const r0 = c * plan.towerRows;
        return embedChunk(k, vw, pixels, P, g, r0, Math.min(plan.towerRows, L - r0), plan.pixelRows);
      });
      for (const b of vw.blocks) {
        const attended = attentionChunked(k, b, v, xs, g, sel);
        k.release(...xs);
        xs = attended.map((x) => scope(k, (tmp) => mlpChunk(k, b, tmp(x))));
      }
      for (const x of xs) {
        const vo = scope(k, (tmp) => k.layerNorm(tmp(x), vw.finalNormW, vw.finalNormB, VISION_LN_EPS));
        out.visionOut.push(vo);
        out.features.push(project(k, pw, cfg, vo, [{ h: vo.shape[0]! / g.w, w: g.w }]));
      }
    }
    return out;
  } catch (e) {
    k.release(...out.visionOut, ...out.features);
    throw e;
  } finally {
    sel.release(k);
  }
}
