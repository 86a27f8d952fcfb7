// Patch merger + KimiVLMultiModalProjector (spec §8): 2×2 merge in the slot order TL, TR, BL, BR with a
// LayerNorm on each slot, then linear_1 → GELU (erf form) → linear_2.
//
// Legend: L patches (Σ h·w), N = L/4 merged tokens, D vision width (1152), 4D = 4608, Dt text width (2048).

import type { KimiVLConfig } from '../config/config.ts';
import { type ProjectorSlots, projectorSlots } from '../config/weight_names.ts';
import type { CoreOps, Grid } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';
import { expectShape } from './expect_shape.ts';
import { scope } from './scope.ts';
import { VISION_LN_EPS, type VisionKernels } from './vision.ts';
import { type HostWeights, releaseTree, uploadSlots } from './weight_slots.ts';

export type ProjectorWeights = ProjectorSlots<Tensor>;

/** Uploads the projector's weights (the weight table's `projector.*` slots). */
export const loadProjectorWeights = (
  k: CoreOps,
  host: HostWeights,
  cfg: Parameters<typeof projectorSlots>[0],
): ProjectorWeights => uploadSlots(k, host, projectorSlots(cfg));

export function releaseProjectorWeights(k: CoreOps, w: ProjectorWeights): void {
  releaseTree(k, w);
}

/** vision_tower_out [L, D] → image_features [L/4, Dt]; row i replaces the i-th image placeholder token. */
export function project(
  k: VisionKernels,
  w: ProjectorWeights,
  cfg: Pick<KimiVLConfig, 'vision'>,
  visionOut: Tensor,
  grids: readonly Grid[],
): Tensor {
  expectShape('project: vision output', visionOut, ['L', cfg.vision.hiddenSize]);
  return scope(k, (tmp) => {
    const merged = tmp(k.patchMergeLayerNorm(visionOut, grids, w.preNormW, w.preNormB, VISION_LN_EPS)); // [N, 4D]
    const h = tmp(k.matmul(merged, w.linear1W, w.linear1B)); // [N, 4D]
    const g = tmp(k.gelu(h, 'erf')); // transformers GELUActivation = exact erf GELU (spec §8.2)
    return k.matmul(g, w.linear2W, w.linear2B); // [N, Dt]
  });
}
