// The routed experts' grouped GEMM at T > 1 (rt.tuning.moePrefill = 'tiled'): the tiled GEMM of
// shaders/common/matmul_tiled_core.wgsl over each expert's gathered rows (shaders/matmul_tiled_moe.wgsl).
// moe_experts_group lists each expert's slots in tiles of TM = BM (64 or 128) rows, so every weight
// element is read and dequantised once per tile of up to BM tokens (the rows kernel: ≤ 16).
// The tile shape follows rt.tuning.matmulTile; 'auto' picks it from the mean slots per expert S / E (known
// on the host; the routing itself stays on the GPU).
import source from '../../../shaders/matmul_tiled_moe.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { UniformLayout } from '../../gpu/uniforms.ts';
import type { Tensor } from '../../tensor/types.ts';
import {
  type GemmTile,
  type GemmTiling,
  gemmDefines,
  gemmOverrides,
  tileDims,
  tilingFor,
} from '../core/matmul_tiling.ts';
import { ro, rw, weightAccess } from '../dispatch.ts';

/**
 * The tile for S slots over E experts when tuning says 'auto': 64-row tiles while an expert's mean share
 * fits them (a few hundred tokens over 64 experts), 128 rows beyond, and 128 columns once a 128-row tile
 * is mostly full (so each weight element serves ~100 tokens). A CPU adapter computes every padded row
 * (no idle lanes to hide them in): 32-row tiles while the mean share fits them (SwiftShader, q4
 * 2048→1408, 24 slots an expert: 32x64 1.96× faster than 64x64), 128 columns wide as for the dense GEMM.
 */
export function autoMoeTile(S: number, E: number, cpu = false): GemmTile {
  const mean = S / E;
  if (cpu && mean <= 32) return '32x128';
  return mean >= 96 ? '128x128' : mean > 48 ? '128x64' : '64x64';
}

/** Mean slots per expert from which moePrefill 'auto' (the CPU-adapter default) takes the tiled GEMM.
 *  Same-run SwiftShader q4 timings, 16 experts at 2048/1408, rows kernel vs the tiled GEMM as a CPU
 *  adapter tunes it (32×128, few lanes), by mean slots per expert: 3: 3191 vs 3315 ms, 6: 4397 vs 3397,
 *  10: 6082 vs 3524, 16: 9176 vs 3415 (2.7× for the tiled GEMM). */
export const AUTO_TILED_MOE_FROM = 4;

/** Whether a T > 1 call over S slots and E experts runs the tiled GEMM under `setting`. f32 stacks stay
 *  on the rows kernel under 'auto' (the tiled GEMM loses with element-wise f32 weights, matmul_choice.ts). */
export function moePrefillTiled(
  setting: 'tiled' | 'rows' | 'auto',
  S: number,
  E: number,
  dtype: string,
): boolean {
  if (setting !== 'auto') return setting === 'tiled';
  return dtype !== 'f32' && S / E >= AUTO_TILED_MOE_FROM;
}

/** The tiling of the expert GEMMs of one call (all three projections share its row tiles). */
export function moeGemmTiling(rt: GpuRuntime, S: number, E: number): GemmTiling {
  // matmul_tiled_moe.wgsl also holds the tile's slot list (BM_MAX u32) and a count in workgroup memory
  const reserved = 1024;
  const forced = rt.tuning.matmulTile;
  return tilingFor(rt, forced === 'auto' ? autoMoeTile(S, E, rt.info.isFallbackAdapter) : forced, reserved);
}

/** out[s] = in(s) · w_e(s)ᵀ for every slot, one dispatch per expert-range part of w. */
export function groupedGemm(
  rt: GpuRuntime,
  t: GemmTiling,
  uniforms: UniformLayout,
  inputs: GpuTensor[],
  w: Tensor,
  plan: { order: GpuTensor; tiles: GpuTensor; nTiles: number; S: number; A: number },
): GpuTensor {
  const NOUT = w.shape[1]!;
  const out = rt.alloc([plan.S, NOUT]);
  for (const p of partsOf(w)) {
    const a = weightAccess(p.tensor);
    rt.dispatch({
      op: 'matmul_tiled_moe',
      source,
      defines: { ...gemmDefines(t, p.tensor), SWIGLU_IN: inputs.length === 2 },
      overrides: gemmOverrides(t),
      uniforms,
      params: { NOUT, A: plan.A, ...a.fields, E0: p.start, EN: p.count },
      bindings: [...inputs.map(ro), ro(p.tensor), ro(plan.order), ro(plan.tiles), rw(out)],
      workgroups: [Math.ceil(NOUT / tileDims(t.tile).bn), plan.nTiles],
      // at most min(E, S) distinct experts are read
      weightBytes: Math.round((p.tensor.byteSize * Math.min(p.count, plan.S)) / p.count),
    });
  }
  return out;
}
