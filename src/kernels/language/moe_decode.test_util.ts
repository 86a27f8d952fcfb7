// Test data for moeDecode (used by moe_decode.gpu.test.ts): expert stacks in any storage form where only
// the experts a token selects hold values (so the real 64-expert stack needs no 64 experts of random data),
// and distinct seeded expert ids.

import { quantLayout } from '../../tensor/quant_format.ts';
import { sliceWeightRows } from '../../tensor/row_parts.ts';
import type { HostWeight, WeightDType } from '../../tensor/types.ts';
import { encodeWeight, mulberry32, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';

/** `count` distinct ids in 0..E−1, seeded. */
export function distinctIds(count: number, E: number, seed: number): Uint32Array {
  const r = mulberry32(seed);
  const all = Array.from({ length: E }, (_, i) => i);
  for (let i = E - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return Uint32Array.from(all.slice(0, count));
}

/** A stack [E, rows, K] whose experts `filled` hold `values(e)` ([rows, K] each) and the rest zeros. */
export function sparseStack(
  E: number,
  rows: number,
  K: number,
  dtype: WeightDType,
  filled: readonly number[],
  values: (e: number) => Float32Array,
): HostWeight {
  const shape = [E, rows, K];
  if (dtype !== 'q8' && dtype !== 'q4') {
    const bpe = dtype === 'f32' ? 4 : 2;
    const bytes = new Uint8Array(E * rows * K * bpe);
    for (const e of filled) bytes.set(encodeWeight(values(e), [rows, K], dtype).bytes, e * rows * K * bpe);
    return { dtype, shape, bytes };
  }
  const whole = quantLayout(dtype, shape);
  const one = quantLayout(dtype, [rows, K]);
  const bytes = new Uint8Array(whole.totalBytes);
  const scaleBytes = rows * one.blocksPerRow * 2;
  for (const e of filled) {
    const q = encodeWeight(values(e), [rows, K], dtype).bytes;
    bytes.set(q.subarray(0, one.quantBytes), e * one.quantBytes);
    bytes.set(q.subarray(one.scaleOffset, one.scaleOffset + scaleBytes), whole.scaleOffset + e * scaleBytes);
  }
  return { dtype, shape, bytes };
}

/** The experts `ids` of a stack, in that order, as one f32 stack [ids.length, rows, K] (dequantised). */
export function expertsF32(w: HostWeight, ids: ArrayLike<number>): Float32Array {
  const per = w.shape[1]! * w.shape[2]!;
  const out = new Float32Array(ids.length * per);
  for (let a = 0; a < ids.length; a++) out.set(hostWeightToF32(sliceWeightRows(w, ids[a]!, 1)), a * per);
  return out;
}

export interface MoeDecodeCase {
  A: number;
  D: number;
  I: number;
  E: number;
  IS: number;
  dtype: WeightDType;
  /** Storage form of the shared experts (default: dtype). */
  sharedDtype?: WeightDType;
  /** Parts: routed experts per part, shared gate/up rows per part, shared down rows per part. */
  parts?: { experts: number; sharedRows: number; sharedDownRows: number };
  subgroups: boolean;
}

export function moeDecodeInputs(c: MoeDecodeCase, seed: number) {
  const { A, D, I, E, IS, dtype } = c;
  const sd = c.sharedDtype ?? dtype;
  const ids = distinctIds(A, E, seed);
  const filled = [...ids];
  const stack = (s: number, rows: number, K: number) =>
    sparseStack(E, rows, K, dtype, filled, (e) => randn(rows * K, s + 7919 * e, 1 / Math.sqrt(K)));
  return {
    x: randn(D, seed + 1),
    ids,
    weights: randn(A, seed + 2, 0.5),
    residual: randn(D, seed + 3),
    gate: stack(seed + 4, I, D),
    up: stack(seed + 5, I, D),
    down: stack(seed + 6, D, I),
    sharedGate: encodeWeight(randn(IS * D, seed + 7, 1 / Math.sqrt(D)), [IS, D], sd),
    sharedUp: encodeWeight(randn(IS * D, seed + 8, 1 / Math.sqrt(D)), [IS, D], sd),
    sharedDown: encodeWeight(randn(D * IS, seed + 9, 1 / Math.sqrt(IS)), [D, IS], sd),
  };
}
