// Records a tape while the model walk runs (GpuRuntime calls in here from dispatch, alloc, free, upload
// and readbacks). It keeps what replay needs and refuses, with a reason, any walk replay could not
// reproduce: host uploads or readbacks inside it, an arena reset (the recorded offsets would be stale),
// pooled tensors it keeps beyond its output, or pooled buffers it reads that nobody named as an input.
import type { GpuTensor } from '../tensor.ts';
import type { StepValues, Tape, TapeEntry } from './tape.ts';

export class TapeRecorder {
  private readonly entries: TapeEntry[] = [];
  /** Pooled buffers acquired during the walk → holds not yet released. */
  private readonly holds = new Map<GPUBuffer, number>();
  /** Pooled buffers bound but not acquired during the walk (must be named inputs). */
  private readonly foreign = new Set<GPUBuffer>();
  private refusal: string | null = null;

  constructor(
    readonly at: StepValues,
    private readonly epoch: number,
  ) {}

  dispatched(entry: TapeEntry, bound: readonly { tensor: GpuTensor }[]): void {
    this.entries.push(entry);
    for (const { tensor: t } of bound) if (t.pooled && !this.holds.has(t.buffer)) this.foreign.add(t.buffer);
  }

  acquired(buffer: GPUBuffer): void {
    this.holds.set(buffer, (this.holds.get(buffer) ?? 0) + 1);
  }

  released(buffer: GPUBuffer): void {
    const n = this.holds.get(buffer);
    if (n === undefined) this.refuse('it releases a pooled tensor it did not allocate');
    else this.holds.set(buffer, n - 1);
  }

  refuse(reason: string): void {
    this.refusal ??= reason;
  }

  /** The tape, or why this walk cannot be one (`inputs`: the pooled buffers the caller vouches for). */
  finish(out: GpuTensor, epoch: number, inputs: ReadonlySet<GPUBuffer>): Tape | string {
    if (this.refusal) return this.refusal;
    if (epoch !== this.epoch) return 'the uniform arena was reset during the walk';
    if (!out.pooled || (out.dtype !== 'f32' && out.dtype !== 'u32'))
      return 'its output is not a pooled tensor';
    if (this.holds.get(out.buffer) !== 1) return 'its output was not allocated by the walk';
    const scratch: GPUBuffer[] = [];
    for (const [buffer, n] of this.holds) {
      if (buffer === out.buffer) continue;
      if (n !== 0) return 'it keeps pooled tensors besides its output';
      scratch.push(buffer);
    }
    for (const b of this.foreign) if (!inputs.has(b)) return 'it reads a pooled tensor not named as an input';
    return {
      entries: this.entries,
      epoch,
      scratch,
      output: { shape: out.shape, dtype: out.dtype, buffer: out.buffer, byteSize: out.byteSize },
      recordedAt: this.at,
    };
  }
}
