// gemv: y[1,N] = x[1,K] · w[N,K]ᵀ for one activation row (decode), the bandwidth-bound kernel matmul
// delegates to at M = 1 (shaders/gemv.wgsl). Optional fusions that remove whole dispatches at T = 1:
//   - norm: an rms-norm prologue, y = rmsNorm(x, nw, eps) · wᵀ (the norm's scale is applied per output);
//   - residual: an add epilogue, y = x · wᵀ + residual;
//   - bias (alone): y = x · wᵀ + bias.
// A weight held in parts (src/gpu/parted_tensor.ts) takes one dispatch per part, each writing its rows.
// gemvDispatch can also read a second weight in the same dispatch (gemv_dual.ts: MLA's q + kv_a pair, the
// SwiGLU's gate·up with silu(gate)·up in the epilogue), and read the rows of routed experts chosen by
// device-side ids (GemvExperts: src/kernels/language/moe_decode.ts).
//
// Variants (chooseGemvVariant): the weight's unit by storage form (q4 block, q8 block (32 bytes), 8
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
import type { RmsNormWeight } from '../types.ts';
import { matmulShape } from './core_shapes.ts';

export type GemvRows = NonNullable<Tuning['gemvRows']>;

/** How a lane reads its unit: q4 block (16 bytes), q8 block (32), 8 halves, 4 f32, or 4 single elements. */
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
  norm?: RmsNormWeight<GpuTensor>;
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

/** Units per weight row (the q4 and q8 blocks, 8 halves, 4 f32, ...). */
export function gemvUnits(format: GemvFormat, K: number): number {
  const blocks = Math.ceil(K / 32);
  return { q4: blocks, q8: blocks, vec16: K / 8, vec32: K / 4, elementwise: Math.ceil(K / 4) }[format];
}

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export function chooseGemvVariant(
  rt: GpuRuntime,
  dtype: DType,
  K: number,
  N: number,
  glu = false,
): GemvVariant {
  const format = gemvFormat(dtype, K);
  // Enough rows per workgroup to reuse x well, few enough that small N still spreads over the GPU; GLU
  // rows read two weight rows each, so half as many.
  const auto = (Math.min(N >= 4096 ? 8 : 4, nextPow2(N)) / (glu && N > 1 ? 2 : 1)) as GemvRows;
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
    gemvDispatch(rt, x, { w: p.tensor, y, N: p.count * rowsPerSlice, off: p.start * rowsPerSlice }, f);
  return y;
}

const array = (t: string) => `array<${t}>`;

/** One weight part and the rows [off, off + N) of the output y it writes. */
export interface GemvJob {
  w: GpuTensor;
  y: GpuTensor;
  N: number;
  off: number;
}

/**
 * A second weight in the same dispatch (shaders/gemv.wgsl DUAL): 'pair' computes its rows after the
 * first job's (into its own y), 'glu' computes its row n beside the first's and writes silu(first) · second
 * into the first job's y. Same dtype and K as the first; the variant must not be the per-element path.
 */
export interface GemvSecond {
  mode: 'pair' | 'glu';
  job: GemvJob;
}

const DUAL_FIELDS = { N2: 'u32', SCALE_OFF2: 'u32', Y_OFF2: 'u32', G1: 'u32' } as const;
const DualParams = defineUniforms('GemvDualParams', {
  N: 'u32',
  ...WEIGHT_UNIFORMS,
  Y_OFF: 'u32',
  EPS: 'f32',
  ...DUAL_FIELDS,
});
const ExpertParams = defineUniforms('GemvExpertParams', {
  N: 'u32',
  ...WEIGHT_UNIFORMS,
  Y_OFF: 'u32',
  EPS: 'f32',
  ...DUAL_FIELDS,
  A: 'u32',
  GPS: 'u32',
  E0: 'u32',
  EN: 'u32',
});

/**
 * Routed experts by device-side ids (shaders/gemv.wgsl EXPERT_ROWS / SLOT_SUM). The job's weight is an
 * expert stack (part) [EN·N, K] holding experts E0 .. E0+EN; N is the rows of one expert.
 *   - without `weights`: the rows of expert ids[a] for every slot a < slots, into y[a·N ..];
 *   - with `weights` [slots]: y[n] = Σ_a weights[a] · (x[a] · w_{ids[a]}[n]), x = [slots, K].
 */
export interface GemvExperts {
  ids: GpuTensor;
  weights?: GpuTensor;
  slots: number;
  E0: number;
  EN: number;
  /** Experts in the whole stack (all parts): the bytes a part reports are its share of `slots` experts. */
  E: number;
}

/** One gemv dispatch: the first job, optionally a second weight beside it (see GemvSecond). */
export function gemvDispatch(
  rt: GpuRuntime,
  x: GpuTensor,
  a: GemvJob,
  f: GemvFusion,
  second?: GemvSecond,
  experts?: GemvExperts,
): void {
  const access = weightAccess(a.w);
  const K = access.fields.K;
  const b = second?.job;
  const mode = second?.mode;
  // GLU reduces two dot products per row: half the rows per workgroup keeps its weight bytes per workgroup.
  const rowsFor = mode === 'pair' ? a.N + b!.N : a.N;
  const v = chooseGemvVariant(rt, a.w.dtype, K, rowsFor, mode === 'glu');
  checkShape(
    !b || (b.w.dtype === a.w.dtype && weightAccess(b.w).fields.K === K && v.format !== 'elementwise'),
    'gemv',
    "a second weight needs the first one's storage form and K, in 16-byte units",
  );
  checkShape(!b || (!f.bias && !f.residual), 'gemv', 'a second weight is not fused with bias or residual');
  const slotSum = !!experts?.weights;
  checkShape(
    !experts || (mode !== 'pair' && !f.bias && (slotSum ? !b && !f.norm : !f.residual)),
    'gemv',
    'experts by id take GLU and norm (rows) or a residual (slot sum)',
  );
  const xVec4 = K % 4 === 0;
  const wv = !v.shaderF16 && v.format !== 'elementwise';
  const view = v.shaderF16 ? 'wh' : 'wv';
  const viewType = array(v.shaderF16 ? 'vec4<f16>' : 'vec4<u32>');
  // Bindings in shader order; the shader's declarations are generated from this list (one source of truth).
  const slots: Array<[string, string, Binding]> = [
    ['x', array(xVec4 ? 'vec4<f32>' : 'f32'), ro(x)],
    ['w', array('u32'), ro(a.w)],
  ];
  if (v.format !== 'elementwise') slots.push([view, viewType, ro(a.w)]);
  slots.push(['y', array('f32'), rw(a.y)]);
  if (b) slots.push(['w2', array('u32'), ro(b.w)], [`${view}2`, viewType, ro(b.w)]);
  if (mode === 'pair') slots.push(['y2', array('f32'), rw(b!.y)]);
  if (f.bias) slots.push(['bias', array('f32'), ro(f.bias)]);
  if (f.norm) slots.push(['nw', array('f32'), ro(f.norm.weight)]);
  if (f.residual) slots.push(['residual', array('f32'), ro(f.residual)]);
  if (experts) slots.push(['ids', array('u32'), ro(experts.ids)]);
  if (experts?.weights) slots.push(['wts', array('f32'), ro(experts.weights)]);
  const header = [
    `const ROWS: u32 = ${v.rows}u;`,
    ...slots.map(
      ([name, type, bd], i) =>
        `@group(0) @binding(${i + 1}) var<storage, ${bd.access === 'rw' ? 'read_write' : 'read'}> ${name}: ${type};`,
    ),
  ].join('\n');
  const groups1 = Math.ceil(a.N / v.rows);
  const perSlot = experts && !slotSum ? experts.slots : 1; // EXPERT_ROWS: every slot's rows
  const groups = groups1 * perSlot + (mode === 'pair' ? Math.ceil(b!.N / v.rows) : 0);
  const grid = gemvGrid(groups, rt.device.limits.maxComputeWorkgroupsPerDimension);
  const params = { N: a.N, ...access.fields, Y_OFF: a.off, EPS: f.norm?.eps ?? 0 };
  rt.dispatch<Record<string, number>>({
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
      WV: wv,
      QUANT: v.format === 'q4' || v.format === 'q8',
      DUAL: !!b,
      PAIR: mode === 'pair',
      GLU: mode === 'glu',
      HAS_BIAS: !!f.bias,
      NORM: !!f.norm,
      RESIDUAL: !!f.residual,
      EXPERT_ROWS: !!experts && !slotSum,
      SLOT_SUM: slotSum,
    },
    overrides: { WG: v.lanes },
    uniforms: experts ? ExpertParams : b ? DualParams : Params,
    params: experts
      ? { ...params, ...dualFields(b ?? a, groups1), ...expertFields(experts, groups1) }
      : b
        ? { ...params, ...dualFields(b, groups1) }
        : params,
    bindings: slots.map(([, , bd]) => bd),
    workgroups: [grid.x, grid.y],
    // the norm scale too: each dispatch that fuses a norm reads it
    weightBytes:
      weightBytesRead(a.w, experts) + (b ? weightBytesRead(b.w, experts) : 0) + (f.norm ? 4 * K : 0),
  });
}

/**
 * The bytes a dispatch reads of w: all of it, or of an expert-stack part its share of the `slots` experts
 * read in all (which part holds which id is only known on the device): summed over the parts, exactly
 * min(slots, E) experts' rows, however the stack is split.
 */
function weightBytesRead(w: GpuTensor, experts?: GemvExperts): number {
  const bytes = storageBytes(w.shape, w.dtype);
  return experts ? Math.round((bytes * Math.min(experts.slots, experts.E)) / experts.E) : bytes;
}

function expertFields(e: GemvExperts, groupsPerSlot: number) {
  return { A: e.slots, GPS: groupsPerSlot, E0: e.E0, EN: e.EN };
}

/** The second weight's uniform fields (GemvDualParams beyond GemvParams). */
function dualFields(b: GemvJob, groups1: number) {
  return { N2: b.N, SCALE_OFF2: weightAccess(b.w).fields.SCALE_OFF, Y_OFF2: b.off, G1: groups1 };
}
