// The kernel-test harness and the helpers every kernel test shares: error metrics and the comparison that
// names got/want at the worst index. The test runtime and guard words are src/gpu/testing.ts (the GPU
// floor's fixture); seeded data and weight encodings are in src/testing/random.ts.
//
// One op-vs-reference test = `kernelTests({ op, cases, seed, inputs, run, ref, metric })`: per case the
// harness derives the seed, builds the host inputs, runs the op on the GPU runtime (tensors made through
// the case context are freed afterwards), reads every output, checks its guard words, compares it with the
// *.ref.ts oracle by the metric, and on failure names the op, the case, the seed and got/want at the worst
// index. Adapter-dependent cases are `skip`ped (reported as skipped), never returned from early.
//
// Tolerances by op class (design.md): elementwise allclose(atol 1e-6, rtol 1e-5); row reductions
// NMSE ≤ 1e-6; matmul/attention NMSE ≤ 5e-4; quantised matmul vs the reference on dequantised weights
// NMSE ≤ 1e-6; router ids exact.
import { expect, test } from 'vitest';
import { maxRelError } from '../golden/compare.ts';
import type { DeviceRequest } from '../gpu/device.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { GpuTensor } from '../gpu/tensor.ts';
import { expectGuardsIntact, testRuntime, withRuntime } from '../gpu/testing.ts';
import type { HostWeight } from '../tensor/types.ts';
import type { Grid } from './types.ts';
import { GpuTableCache } from './vision/gpu_table_cache.ts';
import { totalPatches } from './vision/grids.ts';

export function nmse(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i]! - want[i]!) ** 2;
    den += want[i]! ** 2;
  }
  return den === 0 ? num : num / den;
}

/** Index of the first element outside allclose(atol, rtol), or −1. */
export function firstMismatch(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): number {
  if (got.length !== want.length) return Math.min(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= atol + rtol * Math.abs(want[i]!))) return i;
  }
  return -1;
}

/** Grids written as in gridsKey: "2x6,10x14" → [{h: 2, w: 6}, {h: 10, w: 14}]. */
export function grids(spec: string): Grid[] {
  return spec.split(',').map((g) => {
    const [h, w] = g.split('x').map(Number) as [number, number];
    return { h, w };
  });
}

/** A packed-qkv vision case: `heads` × `headDim` over grids written as in gridsKey ("2x6,10x14"). */
export function qkvCase(heads: number, headDim: number, spec: string, scale = 1) {
  const g = grids(spec);
  const title = `H=${heads} d=${headDim} grids ${spec}`;
  return { heads, headDim, grids: g, scale, L: totalPatches(g), width: 3 * heads * headDim, title };
}

// ---- metrics ----

/** A bound is strict (value < max, the kernel classes' rule) or inclusive (value ≤ max, the goldens'). */
export type Metric =
  | { kind: 'nmse'; max: number; inclusive?: true }
  | { kind: 'allclose'; atol: number; rtol: number }
  | { kind: 'exact' }
  | { kind: 'rangeRel'; max: number; inclusive?: true };

/** nmse(got, want) < max. */
export const nmseBelow = (max: number): Metric => ({ kind: 'nmse', max });
/** nmse(got, want) ≤ max. */
export const nmseAtMost = (max: number): Metric => ({ kind: 'nmse', max, inclusive: true });
/** Every |got − want| ≤ atol + rtol·|want|. */
export const allclose = (atol: number, rtol: number): Metric => ({ kind: 'allclose', atol, rtol });
/** Bit-for-bit the same values (copies, ids). */
export const exact: Metric = { kind: 'exact' };
/**
 * max|got − want| / max|want| < max (for outputs whose error scales with the table's range): the goldens'
 * metric, maxRelError of src/golden/compare.ts, its one definition.
 */
export const rangeRelBelow = (max: number): Metric => ({ kind: 'rangeRel', max });
/** max|got − want| / max|want| ≤ max: the goldens' tolerance rule (README "Tolerances"). */
export const maxRelAtMost = (max: number): Metric => ({ kind: 'rangeRel', max, inclusive: true });

export interface Comparison {
  pass: boolean;
  /** The metric's value (NMSE, relative max error; 0 or 1 for exact/allclose; ∞ on a length mismatch). */
  value: number;
  /** The index that decides the verdict: the first mismatch, or the largest |got − want|. */
  worst: number;
  text: string;
}

function worstIndex(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let at = -1;
  let m = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= m)) [at, m] = [i, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d];
  }
  return at;
}

export function compare(got: ArrayLike<number>, want: ArrayLike<number>, m: Metric): Comparison {
  let pass: boolean;
  let value: number;
  let worst: number;
  let rule: string;
  if (got.length !== want.length) {
    [pass, value, worst, rule] = [
      false,
      Number.POSITIVE_INFINITY,
      Math.min(got.length, want.length),
      'length',
    ];
  } else if (m.kind === 'nmse' || m.kind === 'rangeRel') {
    worst = worstIndex(got, want);
    value = m.kind === 'nmse' ? nmse(got, want) : maxRelError(got, want);
    pass = m.inclusive ? value <= m.max : value < m.max;
    const name = m.kind === 'nmse' ? 'NMSE' : 'max|Δ|/max|want|';
    rule = `${name} ${value.toExponential(3)} (must be ${m.inclusive ? '≤' : '<'} ${m.max})`;
  } else if (m.kind === 'allclose') {
    worst = firstMismatch(got, want, m.atol, m.rtol);
    [pass, value, rule] = [worst < 0, worst < 0 ? 0 : 1, `allclose(atol ${m.atol}, rtol ${m.rtol})`];
  } else {
    worst = -1; // NaN copied is NaN kept: equal unless exactly one side is NaN or the values differ
    for (let i = 0; i < want.length && worst < 0; i++)
      if (got[i] !== want[i] && !(Number.isNaN(got[i]!) && Number.isNaN(want[i]!))) worst = i;
    [pass, value, rule] = [worst < 0, worst < 0 ? 0 : 1, 'exact'];
  }
  const at = worst >= 0 ? `; at [${worst}] got ${got[worst]} want ${want[worst]}` : '';
  const len = got.length !== want.length ? ` (${got.length} values, want ${want.length})` : '';
  return { pass, value, worst, text: `${rule}${len}${at}` };
}

// ---- the harness ----

/** What a case's `run` records the op with; every tensor made here is freed after the case. */
export interface CaseGpu {
  readonly rt: GpuRuntime;
  upload(data: Float32Array | Uint32Array, shape: readonly number[]): GpuTensor;
  uploadWeight(w: HostWeight): GpuTensor;
  /** Frees `t` with the case's other tensors (for tensors the op makes beyond its outputs). */
  own<T extends GpuTensor>(t: T): T;
  /** The vision ops' per-grids table cache, created on first use and cleared after the case. */
  readonly tables: GpuTableCache;
}

type Outputs = GpuTensor | Record<string, GpuTensor>;
type Values = ArrayLike<number>;
/** What the oracle returns: one array for a single output, else by output name (outputs it omits are only
 * read and guard-checked, for `check`). */
type Wants<O> = O extends GpuTensor ? Values : { [K in keyof O]?: Values };
type Gots<O> = O extends GpuTensor
  ? Float32Array | Uint32Array
  : { [K in keyof O]: Float32Array | Uint32Array };

export interface KernelTestSpec<C, I, O extends Outputs> {
  /** The op under test, as its wrapper and reference are named. */
  op: string;
  cases: readonly C[];
  /** The case in the test's title (the harness adds the seed). */
  name: (c: C) => string;
  /** The data seed of a case (per trial where `trials` > 1). */
  seed: (c: C, trial: number) => number;
  /** Host inputs from the seed (src/testing/random.ts). */
  inputs: (c: C, seed: number, trial: number) => I;
  /** Records the op; returns its output(s). */
  run: (g: CaseGpu, inputs: I, c: C) => O;
  /** The *.ref.ts oracle on the same inputs. */
  ref: (inputs: I, c: C) => Wants<O>;
  /** One metric for every output, or one per output name. */
  metric: Metric | { [K in keyof O]?: Metric };
  /** Extra assertions on the read outputs (and the case's GPU context). */
  check?: (got: Gots<O>, g: CaseGpu, inputs: I, c: C) => void | Promise<void>;
  /** A reason to skip the case on this adapter (shown as skipped), or false. */
  skip?: (c: C) => string | false;
  /** Draws per case, each with its own seed and inputs (default 1). */
  trials?: (c: C) => number;
  /** Device request for a fresh runtime per case (destroyed after it) instead of the shared one. */
  runtime?: (c: C) => DeviceRequest;
}

async function readAny(rt: GpuRuntime, t: GpuTensor): Promise<Float32Array | Uint32Array> {
  return t.dtype === 'u32' ? rt.readU32(t) : rt.read(t);
}

function metricFor(m: Metric | Record<string, Metric | undefined>, name: string): Metric {
  if ('kind' in m) return m as Metric;
  const per = (m as Record<string, Metric | undefined>)[name];
  if (!per) throw new Error(`no metric for output "${name}"`);
  return per;
}

/** Runs one case of a spec once (one trial): the loop every *.gpu.test.ts used to copy. */
async function runCase<C, I, O extends Outputs>(
  spec: KernelTestSpec<C, I, O>,
  rt: GpuRuntime,
  c: C,
  trial: number,
): Promise<void> {
  const seed = spec.seed(c, trial);
  const owned = new Set<GpuTensor>();
  let tables: GpuTableCache | null = null;
  const own = <T extends GpuTensor>(t: T): T => {
    owned.add(t);
    return t;
  };
  const g: CaseGpu = {
    rt,
    upload: (data, shape) => own(rt.upload(data, shape)),
    uploadWeight: (w) => own(rt.uploadWeight(w)),
    own,
    get tables() {
      tables ??= new GpuTableCache(rt);
      return tables;
    },
  };
  try {
    const inputs = spec.inputs(c, seed, trial);
    const out = spec.run(g, inputs, c);
    const single = out instanceof GpuTensor;
    const outs = (single ? { [spec.op]: out } : out) as Record<string, GpuTensor>;
    const wantAll = spec.ref(inputs, c);
    const wants = (single ? { [spec.op]: wantAll } : wantAll) as Record<string, Values | undefined>;
    const got: Record<string, Float32Array | Uint32Array> = {};
    const where = `${spec.op} ${spec.name(c)} seed=${seed}${trial ? ` trial ${trial}` : ''}`;
    let compared = 0;
    for (const [name, t] of Object.entries(outs)) {
      own(t);
      got[name] = await readAny(rt, t);
      await expectGuardsIntact(rt, t, `${where} output ${name}`);
      const want = wants[name];
      if (!want) continue;
      const r = compare(got[name]!, want, metricFor(spec.metric as Record<string, Metric>, name));
      expect(r.pass, `${where} output ${name}: ${r.text}`).toBe(true);
      compared++;
    }
    // A case must assert something: an output against the oracle, at the least.
    if (compared === 0) throw new Error(`${where}: the oracle gave no output to compare`);
    await spec.check?.((single ? got[spec.op] : got) as Gots<O>, g, inputs, c);
  } finally {
    (tables as GpuTableCache | null)?.clear();
    rt.free(...owned);
  }
}

/** Declares one test per case: op vs reference on the GPU, guard words on every output. */
export function kernelTests<C, I, O extends Outputs>(spec: KernelTestSpec<C, I, O>): void {
  for (const c of spec.cases) {
    const trials = spec.trials?.(c) ?? 1;
    const title = `${spec.name(c)}${trials === 1 ? ` seed=${spec.seed(c, 0)}` : ''}`;
    const reason = spec.skip?.(c) || false;
    test.skipIf(!!reason)(reason ? `${title} (skipped: ${reason})` : title, async () => {
      const all = async (rt: GpuRuntime) => {
        for (let trial = 0; trial < trials; trial++) await runCase(spec, rt, c, trial);
      };
      await (spec.runtime ? withRuntime(spec.runtime(c), all) : testRuntime().then(all));
    });
  }
}
