// Checkpoint tensors → engine weights (HostWeight), one at a time: HF names renamed (config/weight_names.ts),
// experts stacked per layer and projection, dtypes changed as asked. Streaming keeps peak host
// memory at about one stacked weight, whatever the checkpoint size.
//
// dtype policy (weights contract):
//   quant q8/q4: every `quantizable` weight (LM linears, embedding, head, experts, shared) → kvq1;
//                norms, router, router bias, vision and projector keep their stored dtype.
//   f16 'vision': bf16 vision/projector weights → f16.  f16 'all': every bf16 weight → f16.
//   A converted checkpoint (engine names) passes through as stored unless a change is asked for.

import type { KimiVLConfig } from '../config/config.ts';
import { type WeightSpec, weightTable } from '../config/weight_names.ts';
import { KimiVLError } from '../errors.ts';
import { type QuantType, quantLayout } from '../tensor/quant_format.ts';
import type { HostWeight, WeightDType } from '../tensor/types.ts';
import type { TensorInfo, TensorSource } from './checkpoint.ts';
import { type FloatDType, placeExpert, quantizeWeight, toF16 } from './quantize_weights.ts';
import { SAFETENSORS_TO_WEIGHT } from './safetensors.ts';

export interface AssembleOptions {
  quant: 'none' | QuantType;
  /** bf16 → f16 for vision/projector weights ('vision') or for every bf16 weight ('all'). Default 'none'. */
  f16?: 'none' | 'vision' | 'all';
}

function sourceNames(spec: WeightSpec, source: TensorSource): string[] {
  return source.naming === 'hf' ? spec.hf : [spec.name];
}

/** The dtype a weight will have after assembly, known from the headers alone (for shard planning). */
export function assembledDType(spec: WeightSpec, stored: WeightDType, opts: AssembleOptions): WeightDType {
  if (stored === 'q8' || stored === 'q4') {
    if (opts.quant !== 'none' && opts.quant !== stored)
      throw new KimiVLError(
        'CheckpointError',
        `${spec.name} is stored as ${stored}; it cannot be requantised to ${opts.quant}. Convert the Hugging Face checkpoint instead`,
      );
    return stored;
  }
  if (spec.quantizable && opts.quant !== 'none') return opts.quant;
  const f16 = opts.f16 ?? 'none';
  const toHalf = f16 === 'all' || (f16 === 'vision' && (spec.part === 'vision' || spec.part === 'projector'));
  return stored === 'bf16' && toHalf ? 'f16' : stored;
}

function storedDType(spec: WeightSpec, infos: readonly TensorInfo[]): WeightDType {
  const d = SAFETENSORS_TO_WEIGHT[infos[0]!.dtype];
  if (infos.some((i) => SAFETENSORS_TO_WEIGHT[i.dtype] !== d))
    throw new KimiVLError('CheckpointError', `the experts stacked into ${spec.name} do not share one dtype`);
  return d;
}

export interface PlannedWeight {
  spec: WeightSpec;
  stored: WeightDType;
  dtype: WeightDType;
}

/** Every engine weight with its stored and assembled dtype, without reading tensor data. */
export function planAssembly(
  config: KimiVLConfig,
  source: TensorSource,
  opts: AssembleOptions,
): PlannedWeight[] {
  return weightTable(config).map((spec) => {
    const stored = storedDType(
      spec,
      sourceNames(spec, source).map((n) => source.info(n)),
    );
    return { spec, stored, dtype: assembledDType(spec, stored, opts) };
  });
}

function convert(
  bytes: Uint8Array,
  from: WeightDType,
  to: WeightDType,
  shape: readonly number[],
  what: string,
): Uint8Array {
  if (from === to) return bytes;
  if (from === 'q8' || from === 'q4') throw new Error(`cannot convert ${from} to ${to}`);
  if (to === 'q8' || to === 'q4') return quantizeWeight(to, from, bytes, shape);
  if (to === 'f16') return toF16(from, bytes, what);
  throw new Error(`kimi-vl-web internal error: no conversion ${from} → ${to} (${what})`);
}

/** Reads and assembles one planned weight. */
export async function assembleOne(p: PlannedWeight, source: TensorSource): Promise<HostWeight> {
  const { spec, stored, dtype } = p;
  const names = sourceNames(spec, source);
  if (names.length === 1) {
    const bytes = convert(await source.read(names[0]!), stored, dtype, spec.shape, spec.name);
    return { dtype, shape: spec.shape, bytes };
  }
  // Experts: HF tensors [N, K] each → stacked [E, N, K], read one expert at a time straight into the
  // stacked buffer, so assembling a stack holds the stack plus one expert, never all experts twice.
  if (dtype === 'q8' || dtype === 'q4') {
    const bytes = new Uint8Array(quantLayout(dtype, [names.length, ...spec.hfShape]).totalBytes);
    for (const [e, n] of names.entries()) {
      const blob = quantizeWeight(dtype, stored as FloatDType, await source.read(n), spec.hfShape);
      placeExpert(dtype, bytes, e, names.length, blob, spec.hfShape);
    }
    return { dtype, shape: spec.shape, bytes };
  }
  let bytes: Uint8Array | null = null;
  for (const [e, n] of names.entries()) {
    const piece = convert(await source.read(n), stored, dtype, spec.hfShape, n);
    bytes ??= new Uint8Array(piece.byteLength * names.length);
    if (piece.byteLength * names.length !== bytes.byteLength)
      throw new KimiVLError('CheckpointError', `the experts stacked into ${spec.name} differ in size`);
    bytes.set(piece, e * piece.byteLength);
  }
  return { dtype, shape: spec.shape, bytes: bytes ?? new Uint8Array(0) };
}

/** Yields [engine name, HostWeight] for every weight of the model, in weightTable order. */
export async function* assembleWeights(
  config: KimiVLConfig,
  source: TensorSource,
  opts: AssembleOptions = { quant: 'none' },
): AsyncGenerator<[string, HostWeight]> {
  for (const p of planAssembly(config, source, opts)) yield [p.spec.name, await assembleOne(p, source)];
}
