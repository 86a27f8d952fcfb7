// latentRowWrite, the obvious way: the unfused ops' references in their order (spec §9.4), f64 inside each.
//   c_norm = RMSNorm(kva[:, :R]) · w;  k_pe = RoPE(kva[:, R:], pos0 + t);  cache[pos0 + t] = [c_norm | k_pe]
// An f16 cache holds the values rounded to half precision (round to nearest even), as the GPU stores them.
import { f16BitsToF32, f32ToF16Bits } from '../../tensor/half.ts';
import { rmsNormRef } from '../core/norm.ref.ts';
import type { RopeOptions } from '../types.ts';
import { kvCacheWriteRef } from './kv_cache_write.ref.ts';
import { ropeRef } from './rope.ref.ts';

/** x rounded to f16 and widened back (what an f16 cache holds). */
export function roundToF16(x: Float32Array): Float32Array {
  return x.map((v) => f16BitsToF32(f32ToF16Bits(v)));
}

export function latentRowWriteRef(
  cache: Float32Array,
  kva: Float32Array,
  norm: Float32Array,
  T: number,
  R: number,
  P: number,
  eps: number,
  rope: RopeOptions,
  f16: boolean,
): void {
  const W = R + P;
  const c = new Float32Array(T * R);
  const pe = new Float32Array(T * P);
  for (let t = 0; t < T; t++) {
    c.set(kva.subarray(t * W, t * W + R), t * R);
    pe.set(kva.subarray(t * W + R, (t + 1) * W), t * P);
  }
  const cNorm = rmsNormRef(c, norm, T, R, eps);
  const kPe = ropeRef(pe, T, P, rope);
  kvCacheWriteRef(cache, f16 ? roundToF16(cNorm) : cNorm, f16 ? roundToF16(kPe) : kPe, T, R, P, rope.pos0);
}
