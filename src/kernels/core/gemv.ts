// gemv: y[1,N] = x[1,K] · w[N,K]ᵀ for one activation row (decode), the bandwidth-bound kernel matmul
// delegates to at M = 1 (shaders/gemv.wgsl). Optional fusions that remove whole dispatches at T = 1:
//   - norm: an rms-norm prologue, y = rmsNorm(x, nw, eps) · wᵀ (the norm's scale is applied per output);
//   - residual: an add epilogue, y = x · wᵀ + residual;
//   - bias (alone): y = x · wᵀ + bias.
// A weight held in parts (src/gpu/parted_tensor.ts) takes one dispatch per part, each writing its rows.
//
// Variants (chooseGemvVariant): the weight's 16-byte unit by storage form (q4 block, q8 half-block, 8
// halves, 4 f32, or 4 elements read one by one when rows are not 16-byte aligned), subgroup reductions
// where the adapter has them and rt.tuning.subgroups allows, native f16 loads where shader-f16 exists,
// rows per workgroup by N or forced by rt.tuning.gemvRows.

import gemvSource from '../../../shaders/gemv.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { Binding, GpuRuntime } from '../../gpu/runtime.ts';
import type { Tuning } from '../../gpu/runtime_types.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { DType, Tensor } from '../../tensor/types.ts';
import { ro, rw, WEIGHT_UNIFORMS, weightAccess } from '../dispatch.ts';
import { checkShape, numel } from '../shape_check.ts';
import { matmulShape } from './core_shapes.ts';

export type GemvRows = NonNullable<Tuning['gemvRows']>;

/** How a lane reads its 16 weight bytes: q4 block, q8 half-block, 8 halves, 4 f32, or 4 single elements. */
export type GemvFormat = 'q4' | 'q8' | 'vec16' | 'vec32' | 'elementwise';

export interface GemvVariant {
  format: GemvFormat;
  subgroups: boolean;
  /** f16 weights read as native vec4<f16> (shader-f16), else unpacked from u32. */
  shaderF16: boolean;
  rows: GemvRows;
  /** Workgroup size: lanes striding over a row's units. */
  lanes: number;
}

export interface GemvFusion {
  bias?: GpuTensor;
  /** rms-norm prologue: x is normalised by nw [K] and eps inside the GEMV. */
  norm?: { weight: GpuTensor; eps: number };
  /** add epilogue: y += residual [N]. */
  residual?: GpuTensor;
}

const Params = defineUniforms('GemvParams', { N: 'u32', ...WEIGHT_UNIFORMS, Y_OFF: 'u32', EPS: 'f32' });

const DEFINE: Record<GemvFormat, string> = {
  q4: 'W_Q4',
  q8: 'W_Q8',
  vec16: 'W_VEC16',
  vec32: 'W_VEC32',
  elementwise: 'ELEMENTWISE',
};

export function gemvFormat(dtype: DType, K: number): GemvFormat {
  if (dtype === 'q4' || dtype === 'q8') return dtype;
  if ((dtype === 'bf16' || dtype === 'f16') && K % 8 === 0) return 'vec16';
  if (dtype === 'f32' && K % 4 === 0) return 'vec32';
  return 'elementwise';
}

/** 16-byte units per weight row (the q8 half-blocks, the q4 blocks, ...). */
export function gemvUnits(format: GemvFormat, K: number): number {
  const blocks = Math.ceil(K / 32);
  return { q4: blocks, q8: 2 * blocks, vec16: K / 8, vec32: K / 4, elementwise: Math.ceil(K / 4) }[format];
}

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export function chooseGemvVariant(rt: GpuRuntime, dtype: DType, K: number, N: number): GemvVariant {
  const format = gemvFormat(dtype, K);
  // Enough rows per workgroup to reuse x well, few enough that small N still spreads over the GPU.
  const auto = Math.min(N >= 4096 ? 8 : 4, nextPow2(N)) as GemvRows;
  return {
    format,
    subgroups: rt.tuning.subgroups && rt.features.subgroups,
    shaderF16: format === 'vec16' && dtype === 'f16' && rt.features.shaderF16,
    rows: rt.tuning.gemvRows ?? auto,
    // One unit per lane per row for K ≤ 128 units (q4 K ≤ 4096), else lanes stride; 32..128 lanes.
    lanes: Math.min(128, Math.max(32, nextPow2(gemvUnits(format, K)))),
  };
}

/**
 * The 2-D grid for `count` workgroups: exact (x·y = count) when count fits one dimension or factors
 * within the limit, else y = ⌈count / max⌉ rows of x, the < y padding workgroups exiting at once.
 */
export function gemvGrid(count: number, max: number): { x: number; y: number } {
  if (count <= max) return { x: count, y: 1 };
  const y0 = Math.ceil(count / max);
  for (let y = y0; y < y0 + 64 && y <= max; y++) if (count % y === 0) return { x: count / y, y };
  return { x: Math.ceil(count / y0), y: y0 };
}

/** y[1, N] = (x or rmsNorm(x)) · wᵀ (+ bias | + residual). w [N, K] (or [S, n, K]), any storage form. */
export function gemv(rt: GpuRuntime, x: GpuTensor, w: Tensor, f: GemvFusion = {}): GpuTensor {
  const { M, K, N } = matmulShape(x, w, f.bias);
  checkShape(M === 1 && x.dtype === 'f32', 'gemv', `one f32 activation row, got [${x.shape}] ${x.dtype}`);
  checkShape(!f.bias || (!f.norm && !f.residual), 'gemv', 'bias is not fused with norm or residual');
  checkShape(!f.norm || numel(f.norm.weight.shape) === K, 'gemv', `norm weight for K=${K}`);
  checkShape(!f.norm || f.norm.weight.dtype === 'f32', 'gemv', 'norm weight must be f32');
  checkShape(!f.residual || numel(f.residual.shape) === N, 'gemv', `residual for N=${N}`);
  const y = rt.alloc([...x.shape.slice(0, -1), N]);
  const rowsPerSlice = N / (w.shape[0] ?? 1); // output rows per dim-0 slice of w (1 for [N, K])
  for (const p of partsOf(w))
    gemvPart(rt, x, p.tensor, y, { N: p.count * rowsPerSlice, off: p.start * rowsPerSlice }, f);
  return y;
}

const array = (t: string) => `array<${t}>`;

/** y[off .. off + N) for one weight part w [N, K]. */
function gemvPart(
  rt: GpuRuntime,
  x: GpuTensor,
  w: GpuTensor,
  y: GpuTensor,
  s: { N: number; off: number },
  f: GemvFusion,
): void {
  const access = weightAccess(w);
  const K = access.fields.K;
  const v = chooseGemvVariant(rt, w.dtype, K, s.N);
  const xVec4 = K % 4 === 0;
  // Bindings in shader order; the shader's declarations are generated from this list (one source of truth).
  const slots: Array<[string, string, Binding]> = [
    ['x', array(xVec4 ? 'vec4<f32>' : 'f32'), ro(x)],
    ['w', array('u32'), ro(w)],
  ];
  if (v.shaderF16) slots.push(['wh', array('vec4<f16>'), ro(w)]);
  else if (v.format !== 'elementwise') slots.push(['wv', array('vec4<u32>'), ro(w)]);
  slots.push(['y', array('f32'), rw(y)]);
  if (f.bias) slots.push(['bias', array('f32'), ro(f.bias)]);
  if (f.norm) slots.push(['nw', array('f32'), ro(f.norm.weight)]);
  if (f.residual) slots.push(['residual', array('f32'), ro(f.residual)]);
  const header = [
    `const ROWS: u32 = ${v.rows}u;`,
    ...slots.map(
      ([name, type, b], i) =>
        `@group(0) @binding(${i + 1}) var<storage, ${b.access === 'rw' ? 'read_write' : 'read'}> ${name}: ${type};`,
    ),
  ].join('\n');
  const grid = gemvGrid(Math.ceil(s.N / v.rows), rt.device.limits.maxComputeWorkgroupsPerDimension);
  rt.dispatch({
    op: 'gemv',
    source: `${header}\n${gemvSource}`,
    // Everything the generated header depends on is a define, so the pipeline key tells variants apart.
    defines: {
      [access.define]: true,
      [DEFINE[v.format]]: true,
      ROWS: v.rows,
      X_VEC4: xVec4,
      SUBGROUPS: v.subgroups,
      SHADER_F16: v.shaderF16,
      HAS_BIAS: !!f.bias,
      NORM: !!f.norm,
      RESIDUAL: !!f.residual,
    },
    overrides: { WG: v.lanes },
    uniforms: Params,
    params: { N: s.N, ...access.fields, Y_OFF: s.off, EPS: f.norm?.eps ?? 0 },
    bindings: slots.map(([, , b]) => b),
    workgroups: [grid.x, grid.y],
    weightBytes: storageBytes(w.shape, w.dtype),
  });
}
