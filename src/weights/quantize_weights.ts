// dtype changes of whole weights on the host: bf16/f16/f32 → kvq1 q8/q4 (quant_format.ts), bf16/f32 →
// f16, experts quantised one at a time straight into the stacked layout, and the error figures a
// quantisation costs (reported by tests and by `kimi-vl convert`).
import { KimiVLError } from '../errors.ts';
import { f32ToF16Bits, widenToF32 } from '../tensor/half.ts';
import { dequantize, type QuantType, quantize, quantLayout } from '../tensor/quant_format.ts';

export type FloatDType = 'bf16' | 'f16' | 'f32';

/** Quantises one stored float weight of logical shape [..., K] (values widened to f32 first). */
export function quantizeWeight(
  q: QuantType,
  dtype: FloatDType,
  bytes: Uint8Array,
  shape: readonly number[],
): Uint8Array {
  return quantize(q, widenToF32(dtype, bytes), shape);
}

/**
 * Quantises E experts of shape perExpert = [N, K] into the blob of the stacked weight [E, N, K].
 * kvq1 rows are independent, so this equals quantising the stacked f32 tensor, without ever holding
 * all experts in f32 (real model: 64 × 1408 × 2048 per projection).
 */
export function quantizeStacked(
  q: QuantType,
  parts: readonly { dtype: FloatDType; bytes: Uint8Array }[],
  perExpert: readonly number[],
): Uint8Array {
  const out = new Uint8Array(quantLayout(q, [parts.length, ...perExpert]).totalBytes);
  parts.forEach((p, e) => {
    placeExpert(q, out, e, parts.length, quantizeWeight(q, p.dtype, p.bytes, perExpert), perExpert);
  });
  return out;
}

/**
 * Copies expert `e`'s kvq1 blob (shape perExpert) into the blob `out` of the stacked [E, ...perExpert]
 * weight: its quant blocks after e experts' blocks, its scales after e experts' scales.
 */
export function placeExpert(
  q: QuantType,
  out: Uint8Array,
  e: number,
  experts: number,
  blob: Uint8Array,
  perExpert: readonly number[],
): void {
  const one = quantLayout(q, perExpert);
  const all = quantLayout(q, [experts, ...perExpert]);
  const scaleBytes = one.rows * one.blocksPerRow * 2;
  out.set(blob.subarray(0, one.quantBytes), e * one.quantBytes);
  out.set(blob.subarray(one.scaleOffset, one.scaleOffset + scaleBytes), all.scaleOffset + e * scaleBytes);
}

/** bf16/f32 → IEEE f16 bytes (round to nearest even). Refuses values f16 cannot hold rather than make them ∞. */
export function toF16(dtype: FloatDType, bytes: Uint8Array, what: string): Uint8Array {
  if (dtype === 'f16') return bytes;
  const values = widenToF32(dtype, bytes);
  const out = new Uint8Array(values.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const h = f32ToF16Bits(values[i]!);
    if ((h & 0x7c00) === 0x7c00 && Number.isFinite(values[i]!))
      throw new KimiVLError(
        'CheckpointError',
        `${what}: value ${values[i]} does not fit in f16; keep this weight in bf16 (convert with --quant q8/q4)`,
      );
    dv.setUint16(i * 2, h, true);
  }
  return out;
}

export interface QuantError {
  /** max |dequant(q(x)) − x| */
  maxAbs: number;
  /** maxAbs / max |x| */
  maxRel: number;
  /** ‖dequant(q(x)) − x‖ / ‖x‖ */
  rmsRel: number;
}

/** How far a quantised blob is from the f32 values it was made from. */
export function quantizationError(
  q: QuantType,
  values: Float32Array,
  blob: Uint8Array,
  shape: readonly number[],
): QuantError {
  const back = dequantize(q, blob, shape);
  let maxAbs = 0;
  let maxX = 0;
  let err2 = 0;
  let x2 = 0;
  for (let i = 0; i < values.length; i++) {
    const d = back[i]! - values[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(d));
    maxX = Math.max(maxX, Math.abs(values[i]!));
    err2 += d * d;
    x2 += values[i]! * values[i]!;
  }
  return { maxAbs, maxRel: maxX ? maxAbs / maxX : 0, rmsRel: x2 ? Math.sqrt(err2 / x2) : 0 };
}
