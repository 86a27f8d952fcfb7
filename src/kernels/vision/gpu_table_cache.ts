// Small host-built tables the vision kernels read (RoPE cos/sin, attention tiles, merge source rows) are
// the same for every layer of one encoder call, so they are uploaded once per grids and kept here. The
// cache owns its tensors: eviction (oldest first) and clear() return them to the runtime's pool.
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';

export class GpuTableCache {
  private readonly tables = new Map<string, GpuTensor>();

  constructor(
    private readonly rt: GpuRuntime,
    private readonly capacity = 8,
  ) {}

  get(key: string, build: () => { data: Float32Array | Uint32Array; shape: number[] }): GpuTensor {
    const hit = this.tables.get(key);
    if (hit) {
      // Re-insert so eviction drops the least recently used table.
      this.tables.delete(key);
      this.tables.set(key, hit);
      return hit;
    }
    const { data, shape } = build();
    const t = this.rt.upload(data, shape);
    this.tables.set(key, t);
    if (this.tables.size > this.capacity) {
      const [oldKey, old] = this.tables.entries().next().value as [string, GpuTensor];
      this.tables.delete(oldKey);
      this.rt.free(old);
    }
    return t;
  }

  get size(): number {
    return this.tables.size;
  }

  clear(): void {
    for (const t of this.tables.values()) this.rt.free(t);
    this.tables.clear();
  }
}
