// The vision references checked against hand-derived values and independent formulations
// (the goldens check them once more against PyTorch in src/golden/vision.test.ts).
import { describe, expect, it } from 'vitest';
import { randu } from '../../testing/random.ts';
import { mergeSourceRows, patchMergeLayerNormRef } from './patch_merge_layer_norm.ref.ts';
import { cubicTaps, cubicWeights, posEmbInterpRef } from './pos_emb_interp.ref.ts';
import { rope2dRef } from './rope2d.ref.ts';
import { rope2dFreqs, rope2dTable } from './rope2d_table.ts';
import { varlenAttentionRef } from './varlen_attention.ref.ts';

/** Uniform test values in [−0.5, 0.5) from the tree's one seeded RNG. */
const rand = (n: number, seed: number) => randu(n, seed, 0.5);

describe('posEmbInterp reference', () => {
  it('cubic weights: partition of unity, interpolating at t=0, Keys values at t=0.5', () => {
    for (const t of [0, 0.1, 0.25, 0.5, 0.9]) {
      const w = cubicWeights(t);
      expect(w.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    }
    expect(cubicWeights(0)).toEqual([0, 1, 0, 0]);
    // A = −0.75 at t = 0.5: outer taps A/8·(…) = −0.09375, inner 0.59375.
    const w = cubicWeights(0.5);
    expect(w[0]).toBeCloseTo(-0.09375, 12);
    expect(w[1]).toBeCloseTo(0.59375, 12);
  });

  it('taps: half-pixel source index, unclamped src, clamped indices (8 → 6)', () => {
    // dst 0: src = 8/6·0.5 − 0.5 = 1/6 → floor 0, taps −1..2 → clamped 0,0,1,2.
    const { idx, wt } = cubicTaps(8, 6, 0);
    expect(idx).toEqual([0, 0, 1, 2]);
    cubicWeights(1 / 6).forEach((v, i) => {
      expect(wt[i]).toBeCloseTo(v, 12);
    });
    // dst 0 of a 2× upsample: src = −0.25 → floor −1, taps −2..1 → 0,0,0,1.
    expect(cubicTaps(4, 8, 0).idx).toEqual([0, 0, 0, 1]);
  });

  it('identity at equal size, constant stays constant, separable product form', () => {
    const h0 = 5;
    const w0 = 7;
    const d = 3;
    const table = rand(h0 * w0 * d, 1);
    const same = posEmbInterpRef(table, h0, w0, d, [{ h: h0, w: w0 }]);
    for (let i = 0; i < table.length; i++) expect(same[i]).toBeCloseTo(table[i]!, 6);

    const ones = new Float32Array(h0 * w0 * d).fill(2.5);
    for (const v of posEmbInterpRef(ones, h0, w0, d, [{ h: 4, w: 10 }])) expect(v).toBeCloseTo(2.5, 6);

    // table[y, x] = f(y)·g(x) interpolates to (cubic_y f)(r)·(cubic_x g)(c).
    const f = [0.3, -1, 2, 0.5, 1.5];
    const g = [1, 0, -0.5, 2, 0.25, -1, 0.7];
    const prod = new Float32Array(h0 * w0);
    for (let y = 0; y < h0; y++) for (let x = 0; x < w0; x++) prod[y * w0 + x] = f[y]! * g[x]!;
    const out = posEmbInterpRef(prod, h0, w0, 1, [{ h: 8, w: 4 }]);
    const interp1 = (v: number[], outSize: number, i: number) => {
      const { idx, wt } = cubicTaps(v.length, outSize, i);
      return idx.reduce((s, k, j) => s + wt[j]! * v[k]!, 0);
    };
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 4; c++) expect(out[r * 4 + c]).toBeCloseTo(interp1(f, 8, r) * interp1(g, 4, c), 5);
    }
  });

  it('several images are concatenated in order', () => {
    const table = rand(4 * 4 * 2, 2);
    const a = posEmbInterpRef(table, 4, 4, 2, [{ h: 2, w: 6 }]);
    const b = posEmbInterpRef(table, 4, 4, 2, [{ h: 6, w: 2 }]);
    const both = posEmbInterpRef(table, 4, 4, 2, [
      { h: 2, w: 6 },
      { h: 6, w: 2 },
    ]);
    expect(Array.from(both)).toEqual([...a, ...b]);
  });
});

describe('rope2d reference', () => {
  it('frequencies 1/θ^(4i/d)', () => {
    const fr = rope2dFreqs(8, 10000);
    expect(fr[0]).toBe(1);
    expect(fr[1]).toBeCloseTo(0.01, 7);
    expect(rope2dFreqs(72, 10000).length).toBe(18);
  });

  it('width position at even slots, height at odd slots, restarting per image', () => {
    const grids = [
      { h: 2, w: 3 },
      { h: 2, w: 2 },
    ];
    const { cos, sin } = rope2dTable(grids, 8, 10000);
    const half = 4;
    // token 5 = image 0 (r 1, c 2): slot 0 → angle 2·1, slot 1 → 1·1, slot 2 → 2·0.01, slot 3 → 0.01.
    expect(cos[5 * half]).toBeCloseTo(Math.cos(2), 6);
    expect(sin[5 * half + 1]).toBeCloseTo(Math.sin(1), 6);
    expect(sin[5 * half + 2]).toBeCloseTo(Math.sin(0.02), 6);
    expect(sin[5 * half + 3]).toBeCloseTo(Math.sin(0.01), 6);
    // token 6 = image 1 (0, 0): no rotation.
    for (let j = 0; j < half; j++) expect([cos[6 * half + j], sin[6 * half + j]]).toEqual([1, 0]);
    // token 9 = image 1 (1, 1).
    expect(sin[9 * half]).toBeCloseTo(Math.sin(1), 6);
  });

  it('rotates pairs of q and k of every head, leaves v untouched', () => {
    const heads = 2;
    const d = 4;
    const grids = [{ h: 1, w: 2 }];
    const qkv = rand(2 * 3 * heads * d, 3);
    const out = rope2dRef(qkv, grids, heads, d, 10000);
    const width = 3 * heads * d;
    // token 1 = (r 0, c 1): pair 0 rotates by 1 rad, pair 1 by 0.
    for (let h = 0; h < 2 * heads; h++) {
      const o = width + h * d;
      const [a, b] = [qkv[o]!, qkv[o + 1]!];
      expect(out[o]).toBeCloseTo(a * Math.cos(1) - b * Math.sin(1), 6);
      expect(out[o + 1]).toBeCloseTo(a * Math.sin(1) + b * Math.cos(1), 6);
      expect(out[o + 2]).toBe(qkv[o + 2]);
      expect(out[o + 3]).toBe(qkv[o + 3]);
    }
    for (let e = 2 * heads * d; e < width; e++) expect(out[width + e]).toBe(qkv[width + e]);
    // token 0 is at the origin: unchanged everywhere.
    for (let e = 0; e < width; e++) expect(out[e]).toBe(qkv[e]);
  });
});

describe('varlenAttention reference', () => {
  it('packed images equal one image at a time (block-diagonal)', () => {
    const heads = 3;
    const d = 4;
    const w = 3 * heads * d;
    const grids = [
      { h: 2, w: 3 },
      { h: 1, w: 4 },
    ];
    const qkv = rand(10 * w, 4);
    const both = varlenAttentionRef(qkv, grids, heads, d);
    const a = varlenAttentionRef(qkv.slice(0, 6 * w), [grids[0]!], heads, d);
    const b = varlenAttentionRef(qkv.slice(6 * w), [grids[1]!], heads, d);
    expect(Array.from(both)).toEqual([...a, ...b]);
  });

  it('one key → its value; equal scores → mean of values; scale 1/√d', () => {
    const d = 2;
    // Single patch: output = v.
    const one = varlenAttentionRef(Float32Array.from([1, 2, 3, 4, 5, 6]), [{ h: 1, w: 1 }], 1, d);
    expect(Array.from(one)).toEqual([5, 6]);
    // Two tokens, q·k chosen so scores are s/√2; rows: [q | k | v].
    const qkv = Float32Array.from([1, 0, 2, 0, 10, 20, 0, 0, 0, 0, 30, 40]);
    const out = varlenAttentionRef(qkv, [{ h: 1, w: 2 }], 1, d);
    // token 0: scores [2, 0]/√2 → p0 = σ(√2).
    const p0 = 1 / (1 + Math.exp(-Math.SQRT2));
    expect(out[0]).toBeCloseTo(p0 * 10 + (1 - p0) * 30, 5);
    // token 1: q = 0 → uniform.
    expect(out[2]).toBeCloseTo(20, 5);
    expect(out[3]).toBeCloseTo(30, 5);
  });
});

describe('patchMergeLayerNorm reference', () => {
  it('slots are TL, TR, BL, BR; merged tokens row-major; images in order', () => {
    // Image 0 is 2×4, image 1 is 2×2 (offset 8).
    const src = mergeSourceRows([
      { h: 2, w: 4 },
      { h: 2, w: 2 },
    ]);
    expect(Array.from(src)).toEqual([0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 10, 11]);
    // 4×2 grid: merged token 1 is rows 2,3.
    expect(Array.from(mergeSourceRows([{ h: 4, w: 2 }]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('LayerNorm on each slot before concatenation', () => {
    const d = 3;
    const x = Float32Array.from([1, 2, 3, 0, 0, 6, 5, 5, 5, -1, 0, 1]);
    const w = Float32Array.from([1, 2, 1]);
    const b = Float32Array.from([0, 0, 1]);
    const y = patchMergeLayerNormRef(x, d, [{ h: 2, w: 2 }], w, b, 0);
    const s = Math.sqrt(2 / 3);
    expect(y[0]).toBeCloseTo(-1 / s, 5);
    expect(y[1]).toBeCloseTo(0, 5);
    expect(y[2]).toBeCloseTo(1 / s + 1, 5);
    // slot 2 (row 5,5,5): zero variance, eps 0 → NaN would betray a missing eps; use the slot-3 row.
    expect(y[9]).toBeCloseTo(-1 / s, 5);
    expect(y[11]).toBeCloseTo(1 / s + 1, 5);
  });
});
