// The latent MLA KV cache on the GPU: a zeroed [ctx, R+P] buffer in f32, or in f16 (two halves per u32
// word, the bytes a native f16 array has), in position parts when it passes the buffer limit
// (src/gpu/parted_tensor.ts). f16 halves the bytes every decode step streams; f32 stays as an option.
import { KimiVLError } from '../../errors.ts';
import type { PartedTensor } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { planRowParts } from '../../tensor/row_parts.ts';
import { parted, partLimit, zerosParts } from '../parts_upload.ts';
import { checkShape } from '../shape_check.ts';

export type LatentCacheDType = 'f32' | 'f16';

function zerosF16(rt: GpuRuntime, shape: readonly number[], label: string): GpuTensor {
  const bytes = storageBytes(shape, 'f16');
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  // WebGPU zero-fills new buffers
  const buffer = rt.device.createBuffer({ size: Math.max(bytes, 4), usage, label });
  return new GpuTensor(shape, 'f16', buffer, bytes, false);
}

export function latentCache(
  rt: GpuRuntime,
  shape: readonly number[],
  dtype: LatentCacheDType,
  label = 'kv-cache',
): GpuTensor | PartedTensor {
  if (dtype === 'f32') return zerosParts(rt, shape, { split: true }, label);
  checkShape(
    shape.length === 2 && shape[1]! % 2 === 0,
    'latentCache',
    `an f16 cache [${shape}] needs an even width`,
  );
  const p = planRowParts(shape, 'f16', partLimit(rt));
  if (!p)
    throw new KimiVLError(
      'GpuLimitError',
      `${label} [${shape}] f16: one position is over the buffer limit of this device; it cannot be split`,
    );
  if (p.count === 1) return zerosF16(rt, shape, label);
  return parted(shape, 'f16', p.partRows, p.count, (start, n) =>
    zerosF16(rt, [n, shape[1]!], `${label}[${start}+${n}]`),
  );
}
