// The real-size vision test's oracle (used by vision.real_dims.gpu.test.ts; plain TS so it also runs in
// Node for timing): random bf16 weights at the real Kimi-VL sizes, and a reference over the reference
// kernels that runs every patch through patch embed, position table and qkv (all feed K and V) but queries,
// MLP and projector only for sampled merged tokens.

import realConfig from '../../configs/Kimi-VL-A3B-Instruct.config.json';
import { parseConfig, type VisionConfig } from '../config/config.ts';
import type { matmulRef } from '../kernels/core/matmul.ref.ts';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { asRef, RefTensor } from '../kernels/ref_tensor.ts';
import type { Grid } from '../kernels/types.ts';
import { createRefVisionOps } from '../kernels/vision/ref_vision_ops.ts';
import { loadProjectorWeights, project } from '../model/projector.ts';
import { loadVisionWeights, VISION_LN_EPS, VISION_ROPE_THETA, type VisionKernels } from '../model/vision.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { encodeWeight, randn } from './random.ts';

const REAL = parseConfig(realConfig);
/** The real MoonViT sizes (configs/Kimi-VL-A3B-Instruct.config.json) with one block. */
export const VISION: VisionConfig = { ...REAL.vision, numLayers: 1 };
export const TEXT_HIDDEN = REAL.text.hiddenSize;

/** Random bf16 weights with the engine names; linear weights scaled 1/√K so activations stay O(1). */
export function randomHostWeights(seed: number): Map<string, HostWeight> {
  const D = VISION.hiddenSize;
  const I = VISION.intermediateSize;
  const P = 3 * VISION.patchSize ** 2;
  const M = 4 * D;
  const host = new Map<string, HostWeight>();
  let s = seed;
  const add = (name: string, shape: number[], scale: number, offset = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = randn(n, s++, scale);
    if (offset) for (let i = 0; i < n; i++) v[i]! += offset;
    host.set(name, encodeWeight(v, shape, 'bf16'));
  };
  const linear = (name: string, n: number, k: number) => {
    add(`${name}.weight`, [n, k], 1 / Math.sqrt(k));
    add(`${name}.bias`, [n], 0.02);
  };
  const norm = (name: string, d: number) => {
    add(`${name}.weight`, [d], 0.1, 1);
    add(`${name}.bias`, [d], 0.1);
  };
  linear('vision.patch_embed', D, P);
  add('vision.pos_emb', [VISION.posEmbHeight, VISION.posEmbWidth, D], 0.5);
  norm('vision.blocks.0.norm0', D);
  linear('vision.blocks.0.qkv', 3 * D, D);
  linear('vision.blocks.0.out', D, D);
  norm('vision.blocks.0.norm1', D);
  linear('vision.blocks.0.fc0', I, D);
  linear('vision.blocks.0.fc1', D, I);
  norm('vision.final_norm', D);
  norm('projector.pre_norm', D);
  linear('projector.linear1', M, M);
  linear('projector.linear2', TEXT_HIDDEN, M);
  return host;
}

export const PROJ_CFG = { vision: VISION, text: { hiddenSize: TEXT_HIDDEN } } as Parameters<
  typeof loadProjectorWeights
>[2];

/**
 * matmulRef's exact arithmetic (acc starts at the bias, then += x·w in k order, f64) on 4 rows at a time,
 * so each weight row is read once per 4 rows: ~1.5× faster in V8 and bit-identical (checked below).
 */
export function matmulRefBlocked(...args: Parameters<typeof matmulRef>): Float32Array {
  const [x, w, m, k, n, bias] = args;
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i += 4) {
    const r = [i, Math.min(i + 1, m - 1), Math.min(i + 2, m - 1), Math.min(i + 3, m - 1)];
    const [o0, o1, o2, o3] = r.map((v) => v * k) as [number, number, number, number];
    for (let j = 0; j < n; j++) {
      const wo = j * k;
      const b = bias ? bias[j]! : 0;
      let a0 = b;
      let a1 = b;
      let a2 = b;
      let a3 = b;
      for (let p = 0; p < k; p++) {
        const wv = w[wo + p]!;
        a0 += x[o0 + p]! * wv;
        a1 += x[o1 + p]! * wv;
        a2 += x[o2 + p]! * wv;
        a3 += x[o3 + p]! * wv;
      }
      [a0, a1, a2, a3].forEach((a, q) => {
        y[r[q]! * n + j] = a;
      });
    }
  }
  return y;
}

/** Reference kernels with the blocked (bit-identical) matmul. */
export function refKernels(): VisionKernels {
  const core = createRefCoreOps();
  return {
    ...core,
    ...createRefVisionOps(),
    matmul(x, w, bias) {
      const k = x.shape[x.shape.length - 1]!;
      const m = asRef(x).f32.length / k;
      const n = w.shape[0]!;
      if (w.shape[1] !== k) throw new Error(`matmul: x [${x.shape}] · w [${w.shape}]ᵀ`);
      const y = matmulRefBlocked(asRef(x).f32, asRef(w).f32, m, k, n, bias && asRef(bias).f32);
      return new RefTensor([...x.shape.slice(0, -1), n], 'f32', y);
    },
  };
}

/**
 * Attention output of the given query rows only (one image, all keys): f64 loops like varlenAttentionRef,
 * so the reference need not run all L² query-key pairs.
 */
export function attentionRows(
  qkv: Float32Array,
  rows: readonly number[],
  L: number,
  heads: number,
  d: number,
): Float32Array {
  const D = heads * d;
  const out = new Float32Array(rows.length * D);
  const s = new Float64Array(L);
  rows.forEach((i, ri) => {
    for (let h = 0; h < heads; h++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < L; j++) {
        let dot = 0;
        for (let e = 0; e < d; e++) dot += qkv[i * 3 * D + h * d + e]! * qkv[j * 3 * D + D + h * d + e]!;
        s[j] = dot / Math.sqrt(d);
        max = Math.max(max, s[j]!);
      }
      let sum = 0;
      for (let j = 0; j < L; j++) {
        s[j] = Math.exp(s[j]! - max);
        sum += s[j]!;
      }
      for (let e = 0; e < d; e++) {
        let acc = 0;
        for (let j = 0; j < L; j++) acc += s[j]! * qkv[j * 3 * D + 2 * D + h * d + e]!;
        out[ri * D + h * d + e] = acc / sum;
      }
    }
  });
  return out;
}

/**
 * The reference for a sample of merged tokens: every patch feeds K and V, but only the 4·n patches of the
 * sampled merged tokens need queries, the MLP and the projector. Their rows are ordered as a 2 × 2n grid
 * (top: TL, TR of each token; bottom: BL, BR), so the projector's 2×2 merge yields the tokens in order.
 */
export function referenceSample(
  grids: Grid[],
  host: Map<string, HostWeight>,
  pixels: Float32Array,
  tokens: Array<[number, number]>,
) {
  const k = refKernels();
  const D = VISION.hiddenSize;
  const { h: H, w: W } = grids[0]!;
  const L = H * W;
  const top = tokens.flatMap(([r, c]) => [2 * r * W + 2 * c, 2 * r * W + 2 * c + 1]);
  const rows = [...top, ...top.map((p) => p + W)];
  const vw = loadVisionWeights(k, host, VISION);
  const pw = loadProjectorWeights(k, host, PROJ_CFG);
  const b = vw.blocks[0]!;
  const gather = (t: Tensor, width: number) => {
    const src = asRef(t).f32;
    const out = new Float32Array(rows.length * width);
    rows.forEach((r, i) => {
      out.set(src.subarray(r * width, (r + 1) * width), i * width);
    });
    return k.upload(out, [rows.length, width]);
  };
  const px = k.upload(pixels, [L, 588]);
  const x = k.add(k.matmul(px, vw.patchW, vw.patchB), k.posEmbInterp(vw.posEmb, grids)); // [L, D]
  const qkv = k.matmul(k.layerNorm(x, b.norm0W, b.norm0B, VISION_LN_EPS), b.qkvW, b.qkvB); // [L, 3D]
  const roped = asRef(k.rope2d(qkv, grids, VISION.numHeads, VISION.headDim, VISION_ROPE_THETA)).f32;
  const attn = k.upload(attentionRows(roped, rows, L, VISION.numHeads, VISION.headDim), [rows.length, D]);
  const x1 = k.add(gather(x, D), k.matmul(attn, b.outW, b.outB)); // [4n, D]
  const mlp = k.matmul(
    k.gelu(k.matmul(k.layerNorm(x1, b.norm1W, b.norm1B, VISION_LN_EPS), b.fc0W, b.fc0B), 'tanh'),
    b.fc1W,
    b.fc1B,
  );
  const out = k.layerNorm(k.add(x1, mlp), vw.finalNormW, vw.finalNormB, VISION_LN_EPS); // [4n, D]
  const features = project(k, pw, PROJ_CFG, out, [{ h: 2, w: 2 * tokens.length }]); // [n, Dt]
  return { rows, visionOut: asRef(out).f32, features: asRef(features).f32 };
}

export function pickRows(data: Float32Array, rows: readonly number[], width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    out.set(data.subarray(r * width, (r + 1) * width), i * width);
  });
  return out;
}
