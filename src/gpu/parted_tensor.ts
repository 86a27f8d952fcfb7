// A GPU tensor held in parts along dim 0 (src/tensor/row_parts.ts says how parts are cut). A tensor
// larger than the device's maxStorageBufferBindingSize / maxBufferSize cannot live in one buffer: the
// embedding and lm_head by vocab rows, expert stacks by expert ranges, linear weights by output rows and
// a long KV cache by positions. Kernels take every tensor through partsOf(): a plain GpuTensor is the
// case of one part, so nothing changes (no extra dispatch, no extra uniform read) when nothing is split.
//
// How kernels see parts (the scheme the decode kernels build on too):
//   - output rows (lm_head, linear weights): one dispatch per part writing y[:, start .. start+count) of
//     the whole output, a row stride and column offset in the uniforms;
//   - vocab rows (embedding gather): one dispatch per part, each writing the rows whose id is in its range;
//   - expert ranges (stacked experts): one dispatch per part restricted to experts [start, start+count),
//     expert e read at local index e − start; a workgroup whose device-side expert id is outside its part's
//     range exits at once (equal part sizes: part = floor(e / partRows));
//   - positions (KV cache): attention splits aligned to the parts, merged by the combine pass.
import { KimiVLError } from '../errors.ts';
import type { DType, Tensor } from '../tensor/types.ts';
import { GpuTensor } from './tensor.ts';

/** Dim-0 slices [start, start + count) of the whole tensor, held by `tensor` ([count, ...rest]). */
export interface TensorPart {
  readonly start: number;
  readonly count: number;
  readonly tensor: GpuTensor;
}

export class PartedTensor implements Tensor {
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly parts: readonly TensorPart[],
    /** Dim-0 slices per part (all but the last part hold exactly this many). */
    readonly partRows: number,
  ) {}
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** The parts of any GPU-backend tensor: a plain tensor is one part covering all of dim 0. */
export function partsOf(t: Tensor): readonly TensorPart[] {
  if (t instanceof PartedTensor) return t.parts;
  if (t instanceof GpuTensor) return [{ start: 0, count: t.shape[0] ?? 1, tensor: t }];
  throw new KimiVLError('ShapeError', 'a reference tensor was passed to the GPU backend');
}

/** The tensor itself when it is in one buffer; a kernel that cannot take parts says so (GpuLimitError). */
export function wholeGpu(t: Tensor, op: string): GpuTensor {
  if (t instanceof GpuTensor) return t;
  if (t instanceof PartedTensor)
    throw new KimiVLError(
      'GpuLimitError',
      `${op}: a [${t.shape}] ${t.dtype} tensor is held in ${t.parts.length} parts (over the buffer limit) ` +
        'and this kernel reads one buffer; use a GPU with larger limits',
    );
  throw new KimiVLError('ShapeError', 'a reference tensor was passed to the GPU backend');
}

/** Every buffer-holding tensor behind t (for release). */
export function gpuTensorsOf(t: Tensor): GpuTensor[] {
  return partsOf(t).map((p) => p.tensor);
}
