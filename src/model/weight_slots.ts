// The model's weights are the slot trees of the weight table (config/weight_names.ts) with every slot
// uploaded: one place checks that each named weight is there and has the table's shape, one place frees.

import type { SlotsOf, WeightSpec } from '../config/weight_names.ts';
import { mapSlots } from '../config/weight_names.ts';
import { KimiVLError } from '../errors.ts';
import type { CoreOps } from '../kernels/types.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';

/** Engine-named weights as a checkpoint or converted folder supplies them. */
export type HostWeights = ReadonlyMap<string, HostWeight>;

/** The host weight behind a slot; throws CheckpointError when it is missing or shaped otherwise. */
function hostWeight(host: HostWeights, s: WeightSpec): HostWeight {
  const w = host.get(s.name);
  if (!w) throw new KimiVLError('CheckpointError', `weight ${s.name} is missing from the checkpoint`);
  if (w.shape.join() !== s.shape.join())
    throw new KimiVLError(
      'CheckpointError',
      `weight ${s.name} has shape [${w.shape}], config.json implies [${s.shape}]`,
    );
  return w;
}

/** Uploads every slot of `tree` (engine names) through `k.uploadWeight`, in load order. */
export function uploadSlots<S>(
  k: Pick<CoreOps, 'uploadWeight'>,
  host: HostWeights,
  tree: S,
): SlotsOf<S, Tensor> {
  return mapSlots(tree, (s) => k.uploadWeight(hostWeight(host, s)));
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'shape' in v && 'dtype' in v;
}

/** Frees every tensor reachable from a weights object (nested records and arrays), each once. */
export function releaseTree(k: Pick<CoreOps, 'release'>, root: unknown): void {
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (isTensor(v)) {
      k.release(v);
      return;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child);
  };
  walk(root);
}
