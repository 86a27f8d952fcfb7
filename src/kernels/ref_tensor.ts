// Host-side tensor of the reference backend. Weights are widened to f32 once at upload (q8/q4 are
// dequantised with quant_format.ts), so every reference op computes on exactly the values the GPU reads.
import { KimiVLError } from '../errors.ts';
import { widenToF32 } from '../tensor/half.ts';
import { dequantize } from '../tensor/quant_format.ts';
import type { DType, HostWeight, Tensor } from '../tensor/types.ts';
import { numel } from './shape_check.ts';

export class RefTensor implements Tensor {
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly data: Float32Array | Uint32Array,
  ) {}
  get f32(): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new KimiVLError('ShapeError', 'expected an f32 tensor');
    return this.data;
  }
  get u32(): Uint32Array {
    if (!(this.data instanceof Uint32Array)) throw new KimiVLError('ShapeError', 'expected a u32 tensor');
    return this.data;
  }
}

export function asRef(t: Tensor): RefTensor {
  if (!(t instanceof RefTensor))
    throw new KimiVLError('ShapeError', 'a GPU tensor was passed to the reference backend');
  return t;
}

export function hostWeightToF32(w: HostWeight): Float32Array {
  if (w.dtype === 'q8' || w.dtype === 'q4') return dequantize(w.dtype, w.bytes, w.shape);
  const out = widenToF32(w.dtype, w.bytes);
  if (out.length !== numel(w.shape)) {
    throw new KimiVLError(
      'ShapeError',
      `weight bytes hold ${out.length} values, shape [${w.shape}] needs ${numel(w.shape)}`,
    );
  }
  return out;
}
