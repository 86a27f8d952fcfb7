// Replays recorded decode steps (tape.ts) instead of walking the model. Per slot (one kind of step: the
// model's decode step, the sampler) a few tapes are kept by key: everything, besides the per-step
// values, that picks the command stream (model, cache, input tensors, sampling settings). The pipelined
// loop's ids alternate between pooled buffers, so one slot holds a tape per input buffer.
//
// A tape is replayed only once it is verified: a later walk at other step values recorded exactly what
// the tape, patched for those values, would have encoded. Until then, and whenever a replay is refused
// (a dispatch says its stream would change, a buffer it uses is held by someone, the arena was reset),
// the step walks and records afresh. So a replay is either what the walk would encode, or no replay.

import { perObject } from '../../per_object.ts';
import type { GpuRuntime } from '../runtime.ts';
import { GpuTensor } from '../tensor.ts';
import { allValuesDiffer, paramsAt, REFUSED, type StepValues, type Tape, tapeMismatch } from './tape.ts';

export interface ReplayResult {
  out: GpuTensor;
  /** True: encoded from a tape, the walk was not called. */
  replayed: boolean;
}

interface Recorded {
  key: readonly unknown[];
  tape: Tape;
  verified: boolean;
}

/** Tapes per slot (two alternating input buffers, with room for a rollback's third). */
const TAPES_PER_SLOT = 4;

export class StepReplayer {
  private readonly slots = new Map<string, Recorded[]>();
  /** Why the last walk of a slot gave no tape (tests and debugging). */
  readonly refusals = new Map<string, string>();
  /**
   * Tests: walk every step and compare it with the tape a replay would have encoded instead (matched;
   * refused by a per-step patch, so the step would have walked; or any other difference: a bug).
   */
  audit: { matched: number; refused: number; mismatches: string[] } | null = null;

  constructor(private readonly rt: GpuRuntime) {}

  /** Replays a verified tape of the slot for `key` at `at`, or calls `walk` (recording it). */
  run(slot: string, key: readonly unknown[], at: StepValues, walk: () => GpuTensor): ReplayResult {
    if (!this.rt.replay) return { out: walk(), replayed: false };
    const list = this.slots.get(slot) ?? [];
    this.slots.set(slot, list);
    const candidates = list.filter((r) => sameKey(r.key, key));
    const usable = candidates.filter((c) => c.verified && this.buffersFree(c.tape));
    for (const c of this.audit ? [] : usable) {
      const out = this.replay(c.tape, at);
      if (out) return { out, replayed: true };
    }
    if (!this.rt.startRecording(at)) return { out: walk(), replayed: false };
    let walked: GpuTensor | null = null;
    try {
      walked = walk();
      return { out: walked, replayed: false };
    } finally {
      const tape = this.rt.stopRecording(walked, inputBuffers(key));
      if (typeof tape === 'string') this.refusals.set(slot, tape);
      else {
        if (this.audit && usable[0]) this.check(usable[0].tape, tape, this.audit);
        this.remember(list, candidates, key, tape);
      }
    }
  }

  /**
   * Keeps a walked tape, replacing the candidate that predicted it exactly (same stream: the ids'
   * alternating buffers give a key two); verified where that one was, or was recorded at other values.
   */
  private remember(list: Recorded[], candidates: Recorded[], key: readonly unknown[], tape: Tape): void {
    const same = candidates.find((c) => tapeMismatch(c.tape, tape) === null);
    if (same) list.splice(list.indexOf(same), 1);
    const verified =
      same !== undefined && (same.verified || allValuesDiffer(tape.recordedAt, same.tape.recordedAt));
    list.unshift({ key, tape, verified });
    list.length = Math.min(list.length, TAPES_PER_SLOT);
  }

  /** Forgets every tape (tests). */
  clear(): void {
    this.slots.clear();
  }

  private check(tape: Tape, walked: Tape, audit: NonNullable<StepReplayer['audit']>): void {
    const why = tapeMismatch(tape, walked);
    if (why === null) audit.matched++;
    else if (why.endsWith(REFUSED)) audit.refused++;
    else audit.mismatches.push(`at ${JSON.stringify(walked.recordedAt)}: ${why}`);
  }

  /** Whether no tensor holds a pooled buffer the tape writes. */
  private buffersFree(tape: Tape): boolean {
    const { pool } = this.rt;
    return pool.isFree(tape.output.buffer) && tape.scratch.every((b) => pool.isFree(b));
  }

  private replay(tape: Tape, at: StepValues): GpuTensor | null {
    const { output } = tape;
    if (!this.encode(tape, at)) return null;
    this.rt.pool.take(output.buffer);
    return new GpuTensor(output.shape, output.dtype, output.buffer, output.byteSize, true);
  }

  /** Places the per-step uniform blocks, then encodes every dispatch; nothing is encoded on a refusal. */
  private encode(tape: Tape, at: StepValues): boolean {
    if (tape.epoch !== this.rt.arenaEpoch) return false;
    const offsets: number[] = [];
    for (const e of tape.entries) {
      const params = e.perStep ? paramsAt(e, at) : null;
      const offset = e.perStep ? params && this.rt.placeUniforms(e.layout, params) : e.offset;
      if (offset === null) return false;
      offsets.push(offset);
    }
    tape.entries.forEach((e, i) => {
      this.rt.encodeDispatch(e, offsets[i]!);
    });
    this.rt.stats.replayed += tape.entries.length;
    return true;
  }
}

/** Keys match element by element; tensors by the buffer they wrap (a replayed output is a new handle). */
function sameKey(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i] || sameTensor(x, b[i]));
}

function sameTensor(x: unknown, y: unknown): boolean {
  return (
    x instanceof GpuTensor && y instanceof GpuTensor && x.buffer === y.buffer && x.byteSize === y.byteSize
  );
}

function inputBuffers(key: readonly unknown[]): Set<GPUBuffer> {
  return new Set(key.flatMap((x) => (x instanceof GpuTensor ? [x.buffer] : [])));
}

/** The runtime's replayer (tapes live as long as the runtime: a recovered device starts with none). */
export const replayerFor: (rt: GpuRuntime) => StepReplayer = perObject((rt) => new StepReplayer(rt));
