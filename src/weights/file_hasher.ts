// One pass over a file's bytes, as they are written to the cache, yields two things:
//   - the sha256 of the whole file (what the Hub or a manifest vouches for), and
//   - the sha256 of each *segment*: the safetensors header, then every tensor's byte range, cut
//     further every MAX_SEGMENT_BYTES (so a partial read of a huge tensor stays small).
// The segment table is recorded with the file. A warm load then trusts sizes + record and checks each
// segment as it is read for use (cache_read.ts), so every byte is hashed exactly once per load, on the
// way to the GPU, instead of in a separate pass over gigabytes before it.
import { createHasher, type StreamHasher } from './hasher.ts';
import { MAX_HEADER_BYTES } from './safetensors.ts';

/** Largest segment: a read of any range touches at most this many bytes beyond it at either end. */
export const MAX_SEGMENT_BYTES = 16 << 20;

/** Segment i covers [ends[i-1] ?? 0, ends[i]); sha256[i] is its hex digest. */
export interface FileSegments {
  ends: number[];
  sha256: string[];
}

export type FileLayout = 'safetensors' | 'blob';

export function layoutOf(name: string): FileLayout {
  return name.endsWith('.safetensors') ? 'safetensors' : 'blob';
}

/**
 * Tensor boundaries of a safetensors file from its first bytes, or null while more bytes are needed.
 * Anything that does not look like a safetensors header gives [] (fixed-size segments): validation
 * happens later, in checkpoint.ts; this only chooses where segments end.
 */
function safetensorsCuts(head: Uint8Array): number[] | null {
  if (head.byteLength < 8) return null;
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const n = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
  if (n < 2 || n > MAX_HEADER_BYTES) return [];
  if (head.byteLength < 8 + n) return null;
  const cuts = new Set<number>([8 + n]);
  try {
    const json = JSON.parse(new TextDecoder().decode(head.subarray(8, 8 + n))) as Record<string, unknown>;
    for (const v of Object.values(json)) {
      const offs = (v as { data_offsets?: unknown })?.data_offsets;
      if (!Array.isArray(offs)) continue;
      for (const o of offs) if (Number.isSafeInteger(o) && o >= 0) cuts.add(8 + n + o);
    }
  } catch {
    return [8 + n];
  }
  return [...cuts].sort((a, b) => a - b);
}

export class FileHasher {
  private pos = 0;
  private segStart = 0;
  private cuts: number[] | null;
  private cutIdx = 0;
  /** Bytes held back until the safetensors header is complete (its length is in the first 8). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly ends: number[] = [];
  private readonly shas: string[] = [];

  constructor(
    private readonly whole: StreamHasher,
    private readonly segment: StreamHasher,
    private readonly layout: FileLayout,
  ) {
    this.cuts = layout === 'blob' ? [] : null;
  }

  get kind(): StreamHasher['kind'] {
    return this.whole.kind;
  }

  /** Bytes hashed so far. */
  get length(): number {
    return this.pos + this.pendingBytes;
  }

  update(chunk: Uint8Array): void {
    this.whole.update(chunk);
    if (this.cuts !== null) {
      this.feed(chunk);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    this.cuts = safetensorsCuts(this.joinPending());
    if (this.cuts !== null) this.flushPending();
  }

  /** The whole file's sha256 and its segment table; the hasher is reset for another file. */
  finish(): { sha256: string; segments: FileSegments } {
    if (this.cuts === null) {
      this.cuts = [];
      this.flushPending();
    }
    if (this.pos > this.segStart) this.close();
    const out = { sha256: this.whole.hex(), segments: { ends: [...this.ends], sha256: [...this.shas] } };
    this.reset();
    return out;
  }

  reset(): void {
    this.whole.reset();
    this.segment.reset();
    this.pos = 0;
    this.segStart = 0;
    this.cutIdx = 0;
    this.ends.length = 0;
    this.shas.length = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.cuts = this.layout === 'blob' ? [] : null; // safetensors: the next file's header decides
  }

  private joinPending(): Uint8Array {
    if (this.pending.length === 1) return this.pending[0]!;
    const all = new Uint8Array(this.pendingBytes);
    let o = 0;
    for (const p of this.pending) {
      all.set(p, o);
      o += p.byteLength;
    }
    this.pending = [all];
    return all;
  }

  private flushPending(): void {
    const held = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const p of held) this.feed(p);
  }

  private nextBoundary(): number {
    const cuts = this.cuts!;
    while (this.cutIdx < cuts.length && cuts[this.cutIdx]! <= this.pos) this.cutIdx++;
    return Math.min(cuts[this.cutIdx] ?? Number.POSITIVE_INFINITY, this.segStart + MAX_SEGMENT_BYTES);
  }

  private feed(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.byteLength) {
      const next = this.nextBoundary();
      const take = Math.min(chunk.byteLength - off, next - this.pos);
      this.segment.update(chunk.subarray(off, off + take));
      this.pos += take;
      off += take;
      if (this.pos === next) this.close();
    }
  }

  private close(): void {
    this.ends.push(this.pos);
    this.shas.push(this.segment.hex());
    this.segStart = this.pos;
  }
}

/** Index of the segment holding byte `offset` (binary search over the ends). */
export function segmentAt(seg: FileSegments, offset: number): number {
  let lo = 0;
  let hi = seg.ends.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seg.ends[mid]! > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function segmentStart(seg: FileSegments, i: number): number {
  return i === 0 ? 0 : seg.ends[i - 1]!;
}

/** A recorded table is usable only when it tiles exactly [0, size). */
export function segmentsCover(seg: FileSegments | undefined, size: number): seg is FileSegments {
  if (!seg || seg.ends.length !== seg.sha256.length) return false;
  if (size === 0) return seg.ends.length === 0;
  let prev = 0;
  for (const e of seg.ends) {
    if (!(e > prev)) return false;
    prev = e;
  }
  return prev === size;
}

/**
 * Process-wide I/O counters of the cache (diagnostics, and the e2e proof that a warm load reads and
 * hashes each byte once): bytes hashed by whole-file passes (verify: 'full', records without segment
 * tables), and bytes read + hashed by checked reads, per "<entry id>/<file>".
 */
export const cacheIoStats = {
  fullPassBytes: 0,
  readHashedBytes: 0,
  readBytes: new Map<string, number>(),
  reset(): void {
    this.fullPassBytes = 0;
    this.readHashedBytes = 0;
    this.readBytes.clear();
  },
};

/** A FileHasher with the fastest streaming SHA-256 the page allows (hasher.ts). */
export async function newFileHasher(layout: FileLayout): Promise<FileHasher> {
  return new FileHasher(await createHasher(), await createHasher(), layout);
}

/** Hashes a blob in one streamed pass (a `verify: 'full'` check, or a record that lacks segments). */
export async function hashBlobSegments(
  blob: Blob,
  layout: FileLayout,
  onBytes?: (n: number) => void,
): Promise<{ sha256: string; segments: FileSegments }> {
  const h = await newFileHasher(layout);
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
    cacheIoStats.fullPassBytes += value.byteLength;
    onBytes?.(value.byteLength);
  }
  return h.finish();
}
