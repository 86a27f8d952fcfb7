// Weights and caches larger than the buffer limits are created in parts (src/gpu/parted_tensor.ts, cut as
// src/tensor/row_parts.ts says). The limit is the device's, lowered by the engine's `limits` option when
// the limit guard is installed, so a capped run splits exactly where a small GPU would.

import { KimiVLError } from '../errors.ts';
import { limitGuardOf } from '../gpu/limit_guard.ts';
import { PartedTensor, type TensorPart } from '../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { GpuTensor } from '../gpu/tensor.ts';
import { planRowParts, sliceBytes, sliceWeightRows } from '../tensor/row_parts.ts';
import type { DType, HostWeight } from '../tensor/types.ts';

export interface SplitPolicy {
  /** False: never split (a tensor over the limit fails with GpuLimitError, as before splitting existed). */
  split: boolean;
}

/** The largest buffer a tensor part may take: min(maxStorageBufferBindingSize, maxBufferSize), as capped. */
export function partLimit(rt: GpuRuntime): number {
  const l = limitGuardOf(rt.device)?.limits ?? rt.device.limits;
  return Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);
}

function plan(rt: GpuRuntime, shape: readonly number[], dtype: DType, what: string) {
  const limit = partLimit(rt);
  const p = planRowParts(shape, dtype, limit);
  if (!p)
    throw new KimiVLError(
      'GpuLimitError',
      `${what} [${shape}] ${dtype}: one slice along its first dimension needs ` +
        `${sliceBytes(1, shape.slice(1), dtype)} bytes, over the ${limit}-byte buffer limit of this device ` +
        '(or the `limits` option); it cannot be split further',
    );
  return p;
}

/** `count` parts of `partRows` dim-0 slices each (the last may hold fewer), each made by `make`. */
export function parted(
  shape: readonly number[],
  dtype: DType,
  partRows: number,
  count: number,
  make: (start: number, rows: number) => GpuTensor,
): PartedTensor {
  const rows = shape[0]!;
  const parts: TensorPart[] = [];
  for (let i = 0; i < count; i++) {
    const start = i * partRows;
    const n = Math.min(partRows, rows - start);
    parts.push({ start, count: n, tensor: make(start, n) });
  }
  return new PartedTensor(shape, dtype, parts, partRows);
}

/** A weight in parts of `partRows` dim-0 slices each (the last may hold fewer). */
export function uploadWeightRows(
  rt: GpuRuntime,
  w: HostWeight,
  partRows: number,
  label = 'weight',
): PartedTensor {
  const count = Math.ceil(w.shape[0]! / partRows);
  return parted(w.shape, w.dtype, partRows, count, (start, n) =>
    rt.uploadWeight(sliceWeightRows(w, start, n), `${label}[${start}+${n}]`),
  );
}

/** A weight in one buffer, or in parts along dim 0 when it exceeds the limit (policy.split). */
export function uploadWeightParts(
  rt: GpuRuntime,
  w: HostWeight,
  policy: SplitPolicy,
  label = 'weight',
): GpuTensor | PartedTensor {
  if (!policy.split || w.shape.length < 2) return rt.uploadWeight(w, label);
  const p = plan(rt, w.shape, w.dtype, label);
  return p.count === 1 ? rt.uploadWeight(w, label) : uploadWeightRows(rt, w, p.partRows, label);
}

/** A zero-filled f32 tensor (KV cache), in parts along dim 0 (positions) when it exceeds the limit. */
export function zerosParts(
  rt: GpuRuntime,
  shape: readonly number[],
  policy: SplitPolicy,
  label = 'zeros',
): GpuTensor | PartedTensor {
  if (!policy.split || shape.length < 2) return rt.zeros(shape, label);
  const p = plan(rt, shape, 'f32', label);
  if (p.count === 1) return rt.zeros(shape, label);
  return parted(shape, 'f32', p.partRows, p.count, (start, n) =>
    rt.zeros([n, ...shape.slice(1)], `${label}[${start}+${n}]`),
  );
}
