// The tensor vocabulary every floor shares: element types, the opaque tensor handle, and weight bytes as
// they come from a checkpoint. Ground floor: imports nothing of ours.
//
// Activations are f32 row-major; ids are u32. Weights keep their storage dtype (bf16/f16/f32 or the
// engine's block-quantised q8/q4, see quant_format.ts).

export type ActivationDType = 'f32' | 'u32';
export type WeightDType = 'f32' | 'f16' | 'bf16' | 'q8' | 'q4';
export type DType = ActivationDType | WeightDType;

/** Opaque handle; each backend extends it with its storage. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Weight bytes as they come from a checkpoint or a converted shard (little-endian). */
export interface HostWeight {
  dtype: WeightDType;
  /** Logical shape, e.g. [N, K] for a linear layer or [E, N, K] for stacked experts. */
  shape: number[];
  /** bf16/f16/f32: the raw element bytes. q8/q4: the block layout of quant_format.ts. */
  bytes: Uint8Array;
}
