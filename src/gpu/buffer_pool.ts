// Pooled storage buffers for activations. Sizes are bucketed to powers of two (≥ 256 B) so a decode step,
// which allocates and releases the same sizes in the same order every token, gets the same buffers back —
// and therefore hits the bind-group cache instead of creating new groups.
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private live = 0;
  bytesAllocated = 0;
  /**
   * Tests: every buffer is new, gets ≥ `bytes` of slack filled with `word` (to catch stray writes) and is
   * never reused (so leftovers of an earlier, larger tensor cannot hide or fake a stray write).
   */
  guard: { bytes: number; word: number } | null = null;
  private retired: GPUBuffer[] = [];
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
  ) {}

  static bucket(bytes: number): number {
    return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
  }

  acquire(bytes: number, label: string): GPUBuffer {
    const size = BufferPool.bucket(bytes + (this.guard?.bytes ?? 0));
    const list = this.free.get(size);
    this.live++;
    // Lowest id first (lists are kept sorted): which buffer an allocation gets depends only on the set of
    // free buffers, not on the order they were released in — so identical decode steps bind identical buffers.
    const reused = this.guard ? undefined : list?.shift();
    if (reused) return reused;
    this.bytesAllocated += size;
    const buffer = this.device.createBuffer({ size, usage: this.usage, label });
    this.ids.set(buffer, this.nextId++);
    if (this.guard) this.device.queue.writeBuffer(buffer, 0, new Uint32Array(size / 4).fill(this.guard.word));
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.live--;
    if (this.guard) {
      this.retired.push(buffer);
      return;
    }
    const list = this.free.get(buffer.size) ?? [];
    const id = this.ids.get(buffer)!;
    let at = list.length;
    while (at > 0 && this.ids.get(list[at - 1]!)! > id) at--;
    list.splice(at, 0, buffer);
    this.free.set(buffer.size, list);
  }

  /** Whether `buffer` sits in the free lists (no tensor holds it; a replay tape may use it). */
  isFree(buffer: GPUBuffer): boolean {
    return this.free.get(buffer.size)?.includes(buffer) ?? false;
  }

  /** Acquires exactly `buffer`, which must be free (a replayed step's output). */
  take(buffer: GPUBuffer): void {
    const list = this.free.get(buffer.size)!;
    list.splice(list.indexOf(buffer), 1);
    this.live++;
  }

  /** Guard mode: destroys released buffers once their last use has been submitted. */
  destroyRetired(): void {
    for (const b of this.retired.splice(0)) b.destroy();
  }

  get liveCount(): number {
    return this.live;
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.bytesAllocated = 0;
  }
}
