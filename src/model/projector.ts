// Patch merger + KimiVLMultiModalProjector (spec §8): 2×2 merge in the slot order TL, TR, BL, BR with a
// LayerNorm on each slot, then linear_1 → GELU (erf form) → linear_2.
//
// Legend: L patches (Σ h·w), N = L/4 merged tokens, D vision width (1152), 4D = 4608, Dt text width (2048).

import type { KimiVLConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { CoreOps, Grid } from '../kernels/types.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { VISION_LN_EPS, type VisionKernels } from './vision.ts';

export interface ProjectorWeights {
  preNormW: Tensor; // [D]
  preNormB: Tensor;
  linear1W: Tensor; // [4D, 4D]
  linear1B: Tensor;
  linear2W: Tensor; // [Dt, 4D]
  linear2B: Tensor;
}

export function loadProjectorWeights(
  k: CoreOps,
  host: ReadonlyMap<string, HostWeight>,
  cfg: Pick<KimiVLConfig, 'vision' | 'text'>,
): ProjectorWeights {
  const D = cfg.vision.hiddenSize;
  const M = 4 * D;
  const Dt = cfg.text.hiddenSize;
  const up = (name: string, shape: readonly number[]) => {
    const w = host.get(name);
    if (!w) throw new KimiVLError('CheckpointError', `weight ${name} is missing from the checkpoint`);
    if (w.shape.join() !== shape.join()) {
      throw new KimiVLError(
        'CheckpointError',
        `weight ${name} has shape [${w.shape}], config.json implies [${shape}]`,
      );
    }
    return k.uploadWeight(w);
  };
  return {
    preNormW: up('projector.pre_norm.weight', [D]),
    preNormB: up('projector.pre_norm.bias', [D]),
    linear1W: up('projector.linear1.weight', [M, M]),
    linear1B: up('projector.linear1.bias', [M]),
    linear2W: up('projector.linear2.weight', [Dt, M]),
    linear2B: up('projector.linear2.bias', [Dt]),
  };
}

export function releaseProjectorWeights(k: CoreOps, w: ProjectorWeights): void {
  k.release(...Object.values(w));
}

/** vision_tower_out [L, D] → image_features [L/4, Dt]; row i replaces the i-th image placeholder token. */
export function project(
  k: VisionKernels,
  w: ProjectorWeights,
  cfg: Pick<KimiVLConfig, 'vision'>,
  visionOut: Tensor,
  grids: readonly Grid[],
): Tensor {
  if (visionOut.shape.length !== 2 || visionOut.shape[1] !== cfg.vision.hiddenSize) {
    throw new KimiVLError(
      'ShapeError',
      `project: vision output [${visionOut.shape}] must be [L, ${cfg.vision.hiddenSize}]`,
    );
  }
  const merged = k.patchMergeLayerNorm(visionOut, grids, w.preNormW, w.preNormB, VISION_LN_EPS); // [N, 4D]
  const h = k.matmul(merged, w.linear1W, w.linear1B); // [N, 4D]
  k.release(merged);
  const g = k.gelu(h, 'erf'); // transformers GELUActivation = exact erf GELU (spec §8.2)
  k.release(h);
  const out = k.matmul(g, w.linear2W, w.linear2B); // [N, Dt]
  k.release(g);
  return out;
}
