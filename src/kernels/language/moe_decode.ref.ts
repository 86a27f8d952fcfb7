// One token's routed experts by ids (the oracle of moe_decode.ts): moeExpertsRef at T = 1 on x, or on
// rmsNorm(x) where the norm prologue is fused, plus the addend (the shared experts' output).
import { rmsNormRef } from '../core/norm.ref.ts';
import type { RmsNormWeight } from '../types.ts';
import { moeExpertsRef } from './moe_experts.ref.ts';

export function moeDecodeRef(
  x: Float32Array,
  ids: Uint32Array,
  weights: Float32Array,
  stacks: { gate: Float32Array; up: Float32Array; down: Float32Array },
  D: number,
  I: number,
  norm?: RmsNormWeight<Float32Array>,
  addend?: Float32Array,
): Float32Array {
  const xin = norm ? rmsNormRef(x, norm.weight, 1, D, norm.eps) : x;
  const { gate, up, down } = stacks;
  return moeExpertsRef(xin, ids, weights, gate, up, down, 1, ids.length, D, I, undefined, addend);
}
