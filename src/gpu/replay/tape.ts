// A tape: one decode step's command stream captured as plain data while the model walk records it, so a
// later step can encode the same dispatches without walking the model, packing, hashing or looking up.
//
// What may change between the step a tape was recorded at and the step it is replayed at is named, per
// dispatch, by the kernel that recorded it (DispatchSpec.perStep): a function of the step's values
// (position, sampler step) that returns the uniform fields to rewrite, or null where the command stream
// itself would differ (another split count, another cache part, a grown rope table): then the step walks.
import type { UniformLayout } from '../uniforms.ts';

/** Per-step values a tape is replayed at; a slot passes the ones its kernels read (absent: not known). */
export interface StepValues {
  /** The position of the token being decoded (KvCache.pos before the step). */
  readonly pos?: number;
  /** The sampler's step (its draw U depends on it). */
  readonly step?: number;
}

/** Uniform fields to rewrite for a step, or null: this dispatch cannot be replayed at these values. */
export type PerStepPatch = (at: StepValues) => Readonly<Record<string, number>> | null;

/** What encoding a dispatch takes once its pipeline and bind group are known (and its stats). */
export interface EncodedDispatch {
  readonly pipeline: GPUComputePipeline;
  readonly group: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
  readonly weightBytes: number;
  readonly bytesRead: number;
}

export interface TapeEntry extends EncodedDispatch {
  readonly op: string;
  /** The uniform block's arena offset as recorded (valid while the arena's epoch is the tape's). */
  readonly offset: number;
  readonly layout: UniformLayout;
  readonly params: Readonly<Record<string, number>>;
  readonly perStep?: PerStepPatch;
}

export interface TapeOutput {
  readonly shape: readonly number[];
  readonly dtype: 'f32' | 'u32';
  readonly buffer: GPUBuffer;
  readonly byteSize: number;
}

export interface Tape {
  readonly entries: readonly TapeEntry[];
  /** The uniform arena's epoch while recording: static offsets point into that arena's blocks. */
  readonly epoch: number;
  /** Pooled buffers the walk acquired and released again: they must be free in the pool to replay. */
  readonly scratch: readonly GPUBuffer[];
  /** The pooled tensor the walk returned (taken from the pool again on replay). */
  readonly output: TapeOutput;
  readonly recordedAt: StepValues;
}

/** The params an entry dispatches at `at`: its recorded ones with the per-step fields rewritten (null: cannot). */
export function paramsAt(e: TapeEntry, at: StepValues): Readonly<Record<string, number>> | null {
  if (!e.perStep) return e.params;
  const patch = e.perStep(at);
  return patch && { ...e.params, ...patch };
}

/** Whether every value of `at` differs from `before` (a check at equal values would prove nothing). */
export function allValuesDiffer(at: StepValues, before: StepValues): boolean {
  const keys = Object.keys(at) as (keyof StepValues)[];
  return keys.length > 0 && keys.every((k) => at[k] !== before[k]);
}

/** tapeMismatch's answer where a dispatch's per-step patch says its stream would change. */
export const REFUSED = 'its per-step patch refuses these values';

/**
 * How `tape` replayed at `walked.recordedAt` differs from what the walk recorded in `walked` (pipelines,
 * bind groups, static blocks, workgroup counts, output, params field by field), or null: it does not.
 */
export function tapeMismatch(tape: Tape, walked: Tape): string | null {
  const at = walked.recordedAt;
  if (tape.epoch !== walked.epoch) return 'the uniform arena was reset';
  if (tape.entries.length !== walked.entries.length) return 'another number of dispatches';
  for (const [i, e] of tape.entries.entries()) {
    const w = walked.entries[i]!;
    const p = paramsAt(e, at);
    const why =
      p === null
        ? REFUSED
        : e.pipeline !== w.pipeline || e.layout !== w.layout
          ? 'another pipeline'
          : e.group !== w.group
            ? 'another bind group'
            : (e.perStep === undefined) !== (w.perStep === undefined) || (!e.perStep && e.offset !== w.offset)
              ? 'another uniform block'
              : e.workgroups.some((n, j) => n !== w.workgroups[j])
                ? 'other workgroup counts'
                : e.weightBytes !== w.weightBytes || e.bytesRead !== w.bytesRead
                  ? 'other byte counts'
                  : paramsDiff(p, w.params);
    if (why) return `dispatch ${i} (${e.op}): ${why}`;
  }
  if (tape.output.buffer !== walked.output.buffer || tape.output.byteSize !== walked.output.byteSize)
    return 'another output buffer';
  return sameSet(tape.scratch, walked.scratch) ? null : 'other scratch buffers';
}

function paramsDiff(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): string | null {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!Object.is(a[k], b[k])) return `param ${k}: ${a[k]} predicted, ${b[k]} walked`;
  return null;
}

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  const s = new Set(a);
  return a.length === b.length && b.every((x) => s.has(x));
}
