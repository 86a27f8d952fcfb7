// Reads from a cache entry that check every byte against the sha256 recorded when it was written,
// as it is read for use (no separate hashing pass before a warm load). A file's segments (header,
// tensors, ≤ 16 MiB pieces: file_hasher.ts) are the unit: a read fetches the segments it overlaps,
// hashes each once, and holds the last one when the read ended inside it, so a reader walking a file
// in order reads and hashes each byte exactly once. A segment that does not match is repaired from the
// network when the entry's files are the server's (a Range request, checked against the same hash,
// written back in place), else the file is evicted and the read fails with a CacheError: the next load
// fetches it again. Either way a corrupt byte never reaches the caller.
import { KimiVLError } from '../errors.ts';
import { log } from '../log.ts';
import type { ModelCacheEntry } from './cache.ts';
import { writeAt } from './cache_writer.ts';
import { cacheIoStats, type FileSegments, segmentAt, segmentStart, segmentsCover } from './file_hasher.ts';
import { createHasher, type StreamHasher } from './hasher.ts';

/** Fetches bytes [start, end) of a cached file from where it came from. */
export type Refetch = (name: string, start: number, end: number) => Promise<Uint8Array>;

const refetchers = new WeakMap<ModelCacheEntry, Refetch>();

/** Lets reads of `entry` repair corrupt segments from the network (entries whose files are the server's). */
export function setRefetch(entry: ModelCacheEntry, refetch: Refetch): void {
  refetchers.set(entry, refetch);
}

export class VerifiedReader {
  /** Bytes read from storage (each byte of a file walked in order counts once). */
  bytesRead = 0;
  /** Bytes checked against the record (hashed) on the way out. */
  bytesHashed = 0;
  private readonly snapshots = new Map<string, Promise<File | null>>();
  private readonly held = new Map<string, { index: number; bytes: Uint8Array }>();
  private hasher: Promise<StreamHasher> | null = null;

  constructor(private readonly entry: ModelCacheEntry) {}

  /**
   * A snapshot of a complete file, taken once: a later write to the OPFS file makes it unreadable
   * (NotReadableError) rather than silently changing bytes.
   */
  file(name: string): Promise<File | null> {
    let p = this.snapshots.get(name);
    if (!p) {
      p = this.entry.record.files[name]?.complete
        ? this.entry.completeFile(name).catch(() => null)
        : Promise.resolve(null);
      this.snapshots.set(name, p);
    }
    return p;
  }

  /** The segment table reads are checked against, or null (verify: 'size' trusted the sizes only). */
  segments(name: string, size: number): FileSegments | null {
    const seg = this.entry.record.files[name]?.segments;
    return segmentsCover(seg, size) ? seg : null;
  }

  async read(name: string, file: File, start: number, end: number): Promise<Uint8Array> {
    const seg = this.segments(name, file.size);
    if (!seg || end === start) {
      const out = new Uint8Array(await file.slice(start, end).arrayBuffer());
      this.count(name, out.byteLength);
      return out;
    }
    const first = segmentAt(seg, start);
    const last = segmentAt(seg, end - 1);
    if (first === last) {
      const s0 = segmentStart(seg, first);
      const bytes = await this.segment(name, seg, first);
      if (start === s0 && end === seg.ends[first]) return bytes;
      if (end < seg.ends[first]!) this.held.set(name, { index: first, bytes });
      return bytes.slice(start - s0, end - s0);
    }
    const out = new Uint8Array(end - start);
    for (let k = first; k <= last; k++) {
      const s0 = segmentStart(seg, k);
      const s1 = seg.ends[k]!;
      const bytes = await this.segment(name, seg, k);
      const from = Math.max(start, s0);
      const to = Math.min(end, s1);
      out.set(bytes.subarray(from - s0, to - s0), from - start);
      if (k === last && end < s1) this.held.set(name, { index: k, bytes });
    }
    return out;
  }

  /** Segment `k` of the file, checked; from the held one when the previous read stopped inside it. */
  private async segment(name: string, seg: FileSegments, k: number): Promise<Uint8Array> {
    const h = this.held.get(name);
    if (h) {
      this.held.delete(name);
      if (h.index === k) return h.bytes;
    }
    const s0 = segmentStart(seg, k);
    const s1 = seg.ends[k]!;
    const file = await this.file(name); // re-taken: a repair replaces the snapshot
    if (!file) throw new KimiVLError('CacheError', `${name} left the cache of ${this.entry.record.id}.`);
    const bytes = new Uint8Array(await file.slice(s0, s1).arrayBuffer());
    this.count(name, bytes.byteLength);
    if (bytes.byteLength === s1 - s0 && (await this.hash(bytes)) === seg.sha256[k]) return bytes;
    return this.repair(name, seg, k);
  }

  private count(name: string, n: number): void {
    this.bytesRead += n;
    const key = `${this.entry.record.id}/${name}`;
    cacheIoStats.readBytes.set(key, (cacheIoStats.readBytes.get(key) ?? 0) + n);
  }

  private async hash(bytes: Uint8Array): Promise<string> {
    this.hasher ??= createHasher();
    const h = await this.hasher;
    h.update(bytes); // update + hex with no await between: concurrent reads cannot interleave
    this.bytesHashed += bytes.byteLength;
    cacheIoStats.readHashedBytes += bytes.byteLength;
    return h.hex();
  }

  private async repair(name: string, seg: FileSegments, k: number): Promise<Uint8Array> {
    const s0 = segmentStart(seg, k);
    const s1 = seg.ends[k]!;
    const what = `bytes ${s0}–${s1} do not match the sha256 recorded when they were written`;
    const refetch = refetchers.get(this.entry);
    let why = `${what}; the source cannot be asked for them again`;
    if (refetch) {
      try {
        const fresh = await refetch(name, s0, s1);
        if (fresh.byteLength === s1 - s0 && (await this.hash(fresh)) === seg.sha256[k]) {
          const handle = await this.entry.fileHandle(name);
          if (handle) await writeAt(handle, s0, fresh);
          this.snapshots.delete(name); // the old snapshot is unreadable after the write
          log.warn(
            `kimi-vl-web: cached ${name} of ${this.entry.record.id} was corrupt (${what}); repaired from the server.`,
          );
          return fresh;
        }
        why = `${what}, and the server's bytes differ from them too (the file changed?)`;
      } catch (e) {
        why = `${what}; fetching them again failed (${(e as Error)?.message ?? e})`;
      }
    }
    await this.entry.evictFile(name, why).catch(() => {});
    throw new KimiVLError(
      'CacheError',
      `Cached ${name} of ${this.entry.record.id} is corrupt (${why}). It was removed from the cache; ` +
        'loading again fetches it.',
    );
  }
}
