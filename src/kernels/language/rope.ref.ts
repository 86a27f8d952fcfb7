// Interleaved RoPE of DeepSeek-V3 on the raw layout (spec §9.3): pair (x[o+2i], x[o+2i+1]) rotates by
// pos·invFreq_i. HF de-interleaves then rotates halves; applied to q_pe and k_pe alike this gives the
// same dot products, so the cache keeps the raw layout.
import type { RopeScaling } from '../../config/config.ts';
import type { RopeOptions, RopeYarn } from '../types.ts';

function yarnGetMscale(scale: number, mscale: number): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/** yarn_find_correction_range of DeepSeek-V3, clamped to [0, dim/2 − 1]. */
export function ropeYarnFromConfig(s: RopeScaling, ropeDim: number, theta: number): RopeYarn {
  const dimFor = (rot: number) =>
    (ropeDim * Math.log(s.originalMaxPositionEmbeddings / (rot * 2 * Math.PI))) / (2 * Math.log(theta));
  const low = Math.max(Math.floor(dimFor(s.betaFast)), 0);
  const high = Math.min(Math.ceil(dimFor(s.betaSlow)), ropeDim - 1);
  return {
    factor: s.factor,
    low,
    high,
    attnFactor: yarnGetMscale(s.factor, s.mscale) / yarnGetMscale(s.factor, s.mscaleAllDim),
  };
}

/** invFreq_i for pair i < ropeDim/2: θ^(−2i/ropeDim), YaRN-blended when `yarn` is given. */
export function ropeInvFreq(i: number, ropeDim: number, theta: number, yarn?: RopeYarn): number {
  const extra = 1 / theta ** ((2 * i) / ropeDim);
  if (!yarn) return extra;
  // linear ramp over pair index (yarn_linear_ramp_mask with min == max nudged by 0.001)
  const hi = yarn.high === yarn.low ? yarn.high + 0.001 : yarn.high;
  const ramp = Math.min(1, Math.max(0, (i - yarn.low) / (hi - yarn.low)));
  const keepExtra = 1 - ramp;
  return (extra / yarn.factor) * (1 - keepExtra) + extra * keepExtra;
}

export function ropeRef(x: Float32Array, rows: number, cols: number, o: RopeOptions): Float32Array {
  const y = new Float32Array(x);
  const half = o.ropeDim / 2;
  const mul = o.yarn ? o.yarn.attnFactor : 1;
  for (let t = 0; t < rows; t++) {
    const pos = o.pos0 + t;
    for (let i = 0; i < half; i++) {
      const ang = pos * ropeInvFreq(i, o.ropeDim, o.theta, o.yarn);
      const c = Math.cos(ang) * mul;
      const s = Math.sin(ang) * mul;
      for (let h = 0; h < o.heads; h++) {
        const at = t * cols + h * o.headStride + o.offset + 2 * i;
        const a = x[at]!;
        const b = x[at + 1]!;
        y[at] = a * c - b * s;
        y[at + 1] = b * c + a * s;
      }
    }
  }
  return y;
}
