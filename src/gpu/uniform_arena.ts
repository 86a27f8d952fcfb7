// The uniform arena: every dispatch's uniform struct lives in ONE persistent uniform buffer, bound with a
// dynamic offset. Blocks are content-addressed: a dispatch whose values equal a block already in the arena
// (the same matmul shape in every layer, the same norm, every token of a decode step) reuses that block's
// offset, and nothing is uploaded for it. Only new contents — in decode the position-dependent ones — are
// appended and written at the next flush. So a decode step, after the first, uploads just the few blocks
// whose values changed with the position, and the bind groups never change (the buffer never does).
//
// Blocks are never rewritten in place: a block a submitted pass reads keeps its bytes until reset(), which
// the runtime calls only between submissions (queue order then puts the new writes after that pass).
import type { UniformLayout } from './uniforms.ts';

export class UniformArena {
  readonly buffer: GPUBuffer;
  private readonly host: ArrayBuffer;
  private readonly view: DataView;
  private readonly words: Uint32Array;
  private readonly scratch: DataView;
  private readonly scratchWords: Uint32Array;
  /** hash of (size, words) → offsets of blocks with that hash */
  private readonly index = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private used = 0;
  /** End of the last block's data (used is that rounded up to the alignment: padding is never written). */
  private end = 0;
  private uploadedTo = 0;
  /** Bumped by reset(): an offset handed out in one epoch is meaningless in the next (replay tapes check). */
  epoch = 0;

  constructor(
    device: GPUDevice,
    readonly capacity: number,
    private readonly align: number,
  ) {
    this.buffer = device.createBuffer({
      size: capacity,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'uniform-arena',
    });
    this.host = new ArrayBuffer(capacity);
    this.view = new DataView(this.host);
    this.words = new Uint32Array(this.host);
    this.scratch = new DataView(new ArrayBuffer(4096));
    this.scratchWords = new Uint32Array(this.scratch.buffer);
  }

  /** The offset of a block holding `params` packed by `layout`, or null when the arena is full. */
  place<P extends Record<string, number>>(layout: UniformLayout, params: P): number | null {
    const size = layout.size;
    const n = size >>> 2;
    // the struct's padding words are hashed and compared too: zero them, or equal params would miss
    this.scratchWords.fill(0, 0, n);
    layout.pack(params, this.scratch, 0);
    // FNV-1a over the words and the size: a hash, verified word by word below
    let h = 0x811c9dc5 ^ size;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ this.scratchWords[i]!, 16777619);
    const hits = this.index.get(h);
    if (hits) {
      for (const at of hits) {
        if (this.sizes.get(at) !== size) continue;
        const w = at >>> 2;
        let same = true;
        for (let i = 0; i < n && same; i++) same = this.words[w + i] === this.scratchWords[i];
        if (same) return at;
      }
    }
    const at = this.used;
    if (at + size > this.capacity) return null;
    new Uint8Array(this.host, at, size).set(new Uint8Array(this.scratch.buffer, 0, size));
    this.end = at + size;
    this.used = Math.ceil(this.end / this.align) * this.align;
    if (hits) hits.push(at);
    else this.index.set(h, [at]);
    this.sizes.set(at, size);
    return at;
  }

  /** Writes the blocks appended since the last upload; returns the bytes written. */
  upload(queue: GPUQueue): number {
    const from = this.uploadedTo;
    const to = this.end;
    if (to <= from) return 0;
    queue.writeBuffer(this.buffer, from, this.host, from, to - from);
    this.uploadedTo = this.used;
    return to - from;
  }

  /** Forgets every block (only between submissions: nothing unsubmitted may point into the arena). */
  reset(): void {
    this.index.clear();
    this.sizes.clear();
    this.used = 0;
    this.end = 0;
    this.uploadedTo = 0;
    this.epoch++;
  }

  /** Bytes in use (blocks incl. alignment padding). */
  get bytesUsed(): number {
    return this.used;
  }

  /** A view of the host copy (tests). */
  hostView(): DataView {
    return this.view;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
