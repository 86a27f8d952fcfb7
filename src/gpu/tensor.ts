// A tensor living in a GPU buffer. Activations are f32/u32 (4 bytes per element); weights keep their
// storage form (bf16/f16 packed two per u32, q8/q4 in the kvq1 block layout).
import { KimiVLError } from '../errors.ts';
import { quantLayout } from '../tensor/quant_format.ts';
import type { DType, Tensor } from '../tensor/types.ts';

export class GpuTensor implements Tensor {
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly buffer: GPUBuffer,
    /** Bytes of this tensor's data (the buffer may be larger when pooled). */
    readonly byteSize: number,
    /** Pooled tensors go back to the pool on release; weights and caches own their buffer. */
    readonly pooled: boolean,
  ) {}
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export function asGpu(t: Tensor): GpuTensor {
  if (!(t instanceof GpuTensor)) {
    if ('parts' in t)
      // a PartedTensor (parted_tensor.ts) where the kernel reads one buffer
      throw new KimiVLError(
        'GpuLimitError',
        `a [${t.shape}] tensor held in parts (over the buffer limit) reached a kernel that reads one buffer`,
      );
    throw new KimiVLError('ShapeError', 'a reference tensor was passed to the GPU backend');
  }
  return t;
}

/** Storage bytes of a tensor of this shape and dtype, rounded up to whole u32 words. */
export function storageBytes(shape: readonly number[], dtype: DType): number {
  const n = shape.reduce((a, b) => a * b, 1);
  switch (dtype) {
    case 'f32':
    case 'u32':
      return n * 4;
    case 'f16':
    case 'bf16':
      return Math.ceil((n * 2) / 4) * 4;
    case 'q8':
    case 'q4':
      return quantLayout(dtype, shape).totalBytes;
  }
}
