// Block quantisation format "kvq1" for linear weights and embeddings. This file is the definition:
// the converter, the in-browser quantiser, the reference and the WGSL kernels all follow it.
//
// A weight of logical shape [..., N, K] is treated as R = (product of leading dims)·N rows of K values.
// Each row is cut into nb = ceil(K / 32) blocks of 32 along K (the input dimension); a partial last
// block is zero-padded. Every block has one f16 scale `d`.
//
//   q8: q ∈ [−127, 127] int8,  w = q·d,      d = absmax / 127
//   q4: q ∈ [0, 15] uint4,     w = (q − 8)·d, d = m / −8 with m the element of largest |·| (sign kept),
//       q = min(15, trunc(w/d + 8.5))  (as GGML Q4_0, so −8·d reproduces m exactly)
//
// Byte layout of one tensor (one contiguous blob, little-endian, u32-aligned regions):
//   [quants: R · nb · QB bytes][scales: R · nb f16, padded to a multiple of 4 bytes]
//   q8: QB = 32, element j of a block is byte j.
//   q4: QB = 16, element j of a block is nibble (j % 8) (low nibble first) of u32 word (j / 8).
// Scales are read on the GPU with unpack2x16float, so no shader-f16 is needed.

import { f16BitsToF32, f32ToF16Bits } from './half.ts';

export const QUANT_FORMAT_VERSION = 'kvq1';
export const QUANT_BLOCK = 32;
export type QuantType = 'q8' | 'q4';

export function quantBlockBytes(q: QuantType): number {
  return q === 'q8' ? 32 : 16;
}

export function quantLayout(q: QuantType, shape: readonly number[]) {
  const k = shape[shape.length - 1]!;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const blocksPerRow = Math.ceil(k / QUANT_BLOCK);
  const quantBytes = rows * blocksPerRow * quantBlockBytes(q);
  const scaleBytes = Math.ceil((rows * blocksPerRow * 2) / 4) * 4;
  return {
    rows,
    k,
    blocksPerRow,
    quantBytes,
    scaleOffset: quantBytes,
    scaleBytes,
    totalBytes: quantBytes + scaleBytes,
  };
}

/** Quantises f32 values (row-major [..., K]) into a kvq1 blob. */
export function quantize(q: QuantType, values: Float32Array, shape: readonly number[]): Uint8Array {
  const L = quantLayout(q, shape);
  if (values.length !== L.rows * L.k)
    throw new Error(`quantize: ${values.length} values for shape [${shape}]`);
  const out = new Uint8Array(L.totalBytes);
  const scales = new DataView(out.buffer, L.scaleOffset, L.scaleBytes);
  const qb = quantBlockBytes(q);
  for (let r = 0; r < L.rows; r++) {
    for (let b = 0; b < L.blocksPerRow; b++) {
      const start = r * L.k + b * QUANT_BLOCK;
      const end = Math.min(start + QUANT_BLOCK, (r + 1) * L.k);
      const blockIndex = r * L.blocksPerRow + b;
      let d: number;
      if (q === 'q8') {
        let amax = 0;
        for (let i = start; i < end; i++) amax = Math.max(amax, Math.abs(values[i]!));
        d = amax / 127;
      } else {
        let m = 0;
        for (let i = start; i < end; i++) if (Math.abs(values[i]!) > Math.abs(m)) m = values[i]!;
        d = m / -8;
      }
      // Quantise against the scale as stored (f16), so dequantisation is self-consistent.
      const dBits = f32ToF16Bits(d);
      const dStored = f16BitsToF32(dBits);
      scales.setUint16(blockIndex * 2, dBits, true);
      const inv = dStored === 0 ? 0 : 1 / dStored;
      const base = blockIndex * qb;
      for (let j = 0; j < QUANT_BLOCK; j++) {
        const x = start + j < end ? values[start + j]! : 0;
        if (q === 'q8') {
          const v = Math.max(-127, Math.min(127, Math.round(x * inv)));
          out[base + j] = v & 0xff;
        } else {
          const v = Math.max(0, Math.min(15, Math.trunc(x * inv + 8.5)));
          const byte = base + (j >> 3) * 4 + ((j & 7) >> 1);
          out[byte] = out[byte]! | (v << ((j & 1) * 4));
        }
      }
    }
  }
  return out;
}

/** Dequantises a kvq1 blob back to f32 [..., K]. The kernels' reference multiplies by exactly these values. */
export function dequantize(q: QuantType, blob: Uint8Array, shape: readonly number[]): Float32Array {
  const L = quantLayout(q, shape);
  if (blob.byteLength < L.totalBytes)
    throw new Error(`dequantize: blob of ${blob.byteLength} B < ${L.totalBytes} B`);
  const out = new Float32Array(L.rows * L.k);
  const scales = new DataView(blob.buffer, blob.byteOffset + L.scaleOffset, L.scaleBytes);
  const qb = quantBlockBytes(q);
  for (let r = 0; r < L.rows; r++) {
    for (let b = 0; b < L.blocksPerRow; b++) {
      const blockIndex = r * L.blocksPerRow + b;
      const d = f16BitsToF32(scales.getUint16(blockIndex * 2, true));
      const base = blockIndex * qb;
      for (let j = 0; j < QUANT_BLOCK; j++) {
        const kk = b * QUANT_BLOCK + j;
        if (kk >= L.k) break;
        let v: number;
        if (q === 'q8') v = ((blob[base + j]! << 24) >> 24) * d;
        else {
          const byte = blob[base + (j >> 3) * 4 + ((j & 7) >> 1)]!;
          v = (((byte >> ((j & 1) * 4)) & 15) - 8) * d;
        }
        out[r * L.k + kk] = v;
      }
    }
  }
  return out;
}
