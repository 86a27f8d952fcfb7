// Writing files this library produces into a cache entry (converted shards, a manifest): streamed,
// hashed in the same pass (whole sha256 + segment table, file_hasher.ts) and marked complete in the
// record only on commit, so a warm load of a converted copy trusts its record and re-hashes nothing.
// And the other half of "cache only the converted form": an original's shard can be released as
// soon as its tensors are converted (the original entry is then partial, never trusted as complete).
import { KimiVLError } from '../errors.ts';
import type { ModelCacheEntry } from './cache.ts';
import { quotaOrCacheError } from './cache_quota.ts';
import { type CacheFileWriter, openCacheFileWriter } from './cache_writer.ts';
import { layoutOf, newFileHasher } from './file_hasher.ts';

export interface CachedFileWriter {
  /** Bytes written so far. */
  readonly written: number;
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the file, checks its size (`expectedSize` when given) and marks it complete in the record. */
  commit(): Promise<{ size: number; sha256: string }>;
  /** Closes the file without trusting it (a resumable partial at most). */
  abort(): Promise<void>;
}

/** Opens `name` of `entry` for a sequential write from byte 0 (an earlier copy is replaced). */
export async function openCachedFileWriter(
  entry: ModelCacheEntry,
  name: string,
  opts: { expectedSize?: number; expectedSha256?: string | null } = {},
): Promise<CachedFileWriter> {
  entry.record.files[name] = {
    size: opts.expectedSize ?? -1,
    sha256: null,
    expectedSha256: opts.expectedSha256 ?? null,
    complete: false,
  };
  const handle = await entry.fileHandle(name, true);
  if (!handle)
    throw new KimiVLError('CacheError', `Cannot create ${name} in the cache of ${entry.record.id}.`);
  const hasher = await newFileHasher(layoutOf(name));
  let writer: CacheFileWriter | null = await openCacheFileWriter(handle, 0);
  let written = 0;
  const close = async () => {
    const w = writer;
    writer = null;
    if (w) await w.close();
  };
  return {
    get written() {
      return written;
    },
    async write(bytes) {
      if (!writer) throw new KimiVLError('CacheError', `${name}: write after commit or abort.`);
      hasher.update(bytes);
      try {
        await writer.write(bytes);
      } catch (e) {
        throw quotaOrCacheError(e, `writing ${name}`);
      }
      written += bytes.byteLength;
    },
    async commit() {
      try {
        await close();
      } catch (e) {
        throw quotaOrCacheError(e, `closing ${name}`);
      }
      const { sha256, segments } = hasher.finish();
      const onDisk = await entry.bytesOnDisk(name);
      const want = opts.expectedSize ?? written;
      if (onDisk !== written || written !== want)
        throw new KimiVLError(
          'CacheError',
          `${name}: ${onDisk} bytes on disk, ${written} written, ${want} planned.`,
        );
      if (opts.expectedSha256 && opts.expectedSha256 !== sha256)
        throw new KimiVLError('CacheError', `${name}: sha256 ${sha256}, expected ${opts.expectedSha256}.`);
      entry.record.files[name] = {
        size: written,
        sha256,
        expectedSha256: opts.expectedSha256 ?? null,
        segments,
        complete: true,
      };
      await entry.saveRecord();
      return { size: written, sha256 };
    },
    async abort() {
      await close().catch(() => {});
    },
  };
}

/**
 * Deletes one file of an original once it is no longer needed (a bf16 shard whose tensors are all
 * converted): bytes and record entry go, and the entry is no longer complete (a later load of the
 * original as stored fetches the file again). Storage peaks at about one original shard plus the
 * converted copy instead of both whole models.
 */
export async function releaseCachedFile(entry: ModelCacheEntry, name: string): Promise<void> {
  await entry.dropFile(name);
  delete entry.record.files[name];
  entry.record.complete = false;
  await entry.saveRecord();
}
