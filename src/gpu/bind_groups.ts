// Bind groups cached by what they bind, looked up without building a string per dispatch: a trie keyed by
// the pipeline's layout, then per storage binding one number (buffer id · 2^32 + bound size). The uniform
// binding is the arena (one buffer for the runtime's life, dynamic offset), so it is not part of the key.
export interface BoundBuffer {
  buffer: GPUBuffer;
  size: number;
}

interface Node {
  kids: Map<number, Node>;
  group?: GPUBindGroup;
}

/** Prefill shapes vary with the prompt; the cache is cleared past this many groups (decode re-creates once). */
const MAX_GROUPS = 8192;

export class BindGroupCache {
  private roots = new Map<GPUBindGroupLayout, Node>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private count = 0;
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  private id(b: GPUBuffer): number {
    let id = this.ids.get(b);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(b, id);
    }
    return id;
  }

  get(layout: GPUBindGroupLayout, uniform: GPUBufferBinding, bound: readonly BoundBuffer[]): GPUBindGroup {
    let node: Node | undefined = this.roots.get(layout);
    if (!node) {
      node = { kids: new Map() };
      this.roots.set(layout, node);
    }
    for (const b of bound) {
      const key = this.id(b.buffer) * 4294967296 + b.size;
      let next: Node | undefined = node.kids.get(key);
      if (!next) {
        next = { kids: new Map() };
        node.kids.set(key, next);
      }
      node = next;
    }
    if (node.group) return node.group;
    if (this.count >= MAX_GROUPS) {
      this.roots = new Map();
      this.count = 0;
      return this.get(layout, uniform, bound);
    }
    const group = this.device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: uniform },
        ...bound.map((b, i) => ({ binding: i + 1, resource: { buffer: b.buffer, size: b.size } })),
      ],
    });
    node.group = group;
    this.count++;
    this.created++;
    return group;
  }

  clear(): void {
    this.roots = new Map();
    this.count = 0;
  }
}
