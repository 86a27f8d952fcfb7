// Persistent staging buffers for readbacks: MAP_READ buffers bucketed to powers of two (≥ 256 B), handed
// out while mapped and taken back once unmapped, so a decode loop reads its 4-byte ids without creating a
// buffer per token. Two readbacks in flight (one-step-late readback) simply hold two buffers.
export class StagingRing {
  private readonly free = new Map<number, GPUBuffer[]>();
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  static bucket(bytes: number): number {
    return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
  }

  acquire(bytes: number): GPUBuffer {
    const size = StagingRing.bucket(bytes);
    const b = this.free.get(size)?.pop();
    if (b) return b;
    this.created++;
    return this.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'staging',
    });
  }

  /** Takes back an unmapped buffer; very large ones (whole-logit reads) are destroyed instead of kept. */
  release(b: GPUBuffer): void {
    if (b.size > 1 << 24) {
      b.destroy();
      return;
    }
    const list = this.free.get(b.size) ?? [];
    if (list.length >= 4) {
      b.destroy();
      return;
    }
    list.push(b);
    this.free.set(b.size, list);
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}
