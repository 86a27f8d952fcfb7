// Local model cache in the Origin Private File System (OPFS).
//
// Why OPFS and not Cache Storage:
//   - Streaming writes: a shard is written chunk by chunk as it arrives (FileSystemWritableFileStream,
//     or a sync access handle in a worker) instead of being held as one Response body; Cache Storage
//     can only `put` a whole Response, so a partial download cannot be kept and resumed.
//   - Resume: a partial file is just a shorter file; its length is the offset of the next Range request.
//   - Random access reads: `File.slice(start, end)` reads one tensor without touching the rest of a
//     multi-gigabyte shard (Cache Storage gives back a whole Response body).
//   - No per-entry size cap other than the origin's quota; and corrupt bytes can be detected and the
//     file rewritten in place.
//
// Layout (one directory per cached model, named by a hash of the model id so any id is safe):
//   <OPFS root>/kimi-vl-cache/m-<sha256(id)[0..24]>/record.json   the CacheRecord below
//   <OPFS root>/kimi-vl-cache/m-<...>/f-<file name>                  file bytes (complete or partial)
//
// Trust rule ("atomic from the reader's view"): bytes are trusted only when record.json lists the file
// as `complete` with its size and sha256, and that entry is written only after the file was fully
// written, closed and verified. record.json itself is written through a writable stream, which
// Chromium commits atomically on close(). A file whose entry is not complete is a resumable partial:
// its current length is how many leading bytes are already on disk.
import { KimiVLError } from '../errors.ts';
import { log } from '../log.ts';
import { quotaOrCacheError } from './cache_quota.ts';
import {
  type FileSegments,
  hashBlobSegments,
  layoutOf,
  newFileHasher,
  segmentsCover,
} from './file_hasher.ts';
import { Sha256, sha256Hex } from './sha256.ts';

export { quotaOrCacheError } from './cache_quota.ts';

export const CACHE_DIR = 'kimi-vl-cache';
const RECORD_FILE = 'record.json';
const RECORD_VERSION = 1;

export interface CachedFileEntry {
  /** Expected total size in bytes. */
  size: number;
  /** Hex sha256 of the whole file; set once the file is complete (and checked against `expectedSha256`). */
  sha256: string | null;
  /** sha256 promised by the source (manifest, or the Hub's X-Linked-Etag), checked on completion. */
  expectedSha256?: string | null;
  /** Validator of the bytes on disk (ETag / Last-Modified), sent as If-Range when resuming. */
  validator?: string | null;
  /** The response's ETag as sent (weak ones too): small files are revalidated against it. */
  etag?: string | null;
  /**
   * sha256 of each segment (header, tensors, pieces of at most 16 MiB), computed in the same pass as
   * `sha256` while the file was written. Reads check it (cache_read.ts), so a warm load trusts size +
   * record and still hashes every byte it uses, once. Absent in older records: hashed once, then kept.
   */
  segments?: FileSegments;
  complete: boolean;
}

export interface CacheRecord {
  version: number;
  /** Model id, e.g. "hf:org/name@main", "url:https://host/dir/" or "<id>#q8" for a converted copy. */
  id: string;
  /** Where the bytes came from (a URL), for display. */
  source: string;
  /** 'safetensors' = an original HF checkpoint; 'manifest' = a converted kimi-vl-web model. */
  format: 'safetensors' | 'manifest';
  /** All files complete and the checkpoint validated; only then may a load skip the network. */
  complete: boolean;
  /** Optional files the source does not have (so a cached load need not ask again). */
  absent: string[];
  files: Record<string, CachedFileEntry>;
  /** When the small metadata files were last fetched or revalidated against the server (ms epoch). */
  metadataCheckedAt?: number;
  updatedAt: string;
}

export interface CachedModelInfo {
  id: string;
  source: string;
  format: CacheRecord['format'];
  complete: boolean;
  /** Bytes on disk (including partial files). */
  bytes: number;
  files: number;
  updatedAt: string;
}

function cacheError(message: string, cause?: unknown): KimiVLError {
  return new KimiVLError('CacheError', message, { cause });
}

/** True when this context has OPFS (secure context, not an opaque origin). */
export function opfsAvailable(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

async function cacheRoot(create: boolean): Promise<FileSystemDirectoryHandle | null> {
  if (!opfsAvailable())
    throw cacheError(
      'This browser context has no Origin Private File System (needs a secure context, and some private ' +
        'modes disable it); use another browser window or load the model from local files.',
    );
  const root = await navigator.storage.getDirectory();
  try {
    return await root.getDirectoryHandle(CACHE_DIR, { create });
  } catch (e) {
    if (!create && (e as DOMException).name === 'NotFoundError') return null;
    throw cacheError(`Cannot open the model cache (${(e as Error).message}).`, e);
  }
}

export function modelDirName(id: string): string {
  return `m-${sha256Hex(new TextEncoder().encode(id)).slice(0, 24)}`;
}

/** OPFS names may not contain "/" and a few other characters; escape the file name reversibly. */
export function dataFileName(name: string): string {
  return `f-${encodeURIComponent(name)}`;
}

async function* entries(dir: FileSystemDirectoryHandle): AsyncGenerator<[string, FileSystemHandle]> {
  // `entries()` is in Chromium but missing from TypeScript's DOM lib.
  yield* (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries();
}

async function readJsonFile(dir: FileSystemDirectoryHandle, name: string): Promise<unknown | null> {
  let handle: FileSystemFileHandle;
  try {
    handle = await dir.getFileHandle(name);
  } catch {
    return null;
  }
  try {
    return JSON.parse(await (await handle.getFile()).text());
  } catch {
    return null; // unreadable or torn record: treated as "not cached"
  }
}

async function writeWhole(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const w = await handle.createWritable({ keepExistingData: false });
  try {
    await w.write(bytes as Uint8Array<ArrayBuffer>);
    await w.close(); // commits atomically: a reader sees the old or the new contents, never a mix
  } catch (e) {
    await w.abort().catch(() => {});
    throw quotaOrCacheError(e, `writing ${name}`);
  }
}

function isRecord(v: unknown): v is CacheRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<CacheRecord>;
  return (
    r.version === RECORD_VERSION &&
    typeof r.id === 'string' &&
    typeof r.files === 'object' &&
    r.files !== null
  );
}

/** One cached model's directory: its record and its data files. */
export class ModelCacheEntry {
  private writeChain: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: FileSystemDirectoryHandle,
    public record: CacheRecord,
  ) {}

  /** Opens (creating when needed) the entry for `id`; an unreadable record starts afresh. */
  static async open(
    id: string,
    init: Omit<CacheRecord, 'version' | 'id' | 'updatedAt' | 'files' | 'complete' | 'absent'>,
  ) {
    const root = (await cacheRoot(true))!;
    const dir = await root.getDirectoryHandle(modelDirName(id), { create: true });
    const found = await readJsonFile(dir, RECORD_FILE);
    const record: CacheRecord =
      isRecord(found) && found.id === id
        ? found
        : { version: RECORD_VERSION, id, ...init, complete: false, absent: [], files: {}, updatedAt: '' };
    return new ModelCacheEntry(dir, record);
  }

  /** The entry for `id` if its record exists, without creating anything. */
  static async find(id: string): Promise<ModelCacheEntry | null> {
    const root = await cacheRoot(false);
    if (!root) return null;
    let dir: FileSystemDirectoryHandle;
    try {
      dir = await root.getDirectoryHandle(modelDirName(id));
    } catch {
      return null;
    }
    const found = await readJsonFile(dir, RECORD_FILE);
    return isRecord(found) && found.id === id ? new ModelCacheEntry(dir, found) : null;
  }

  /** Persists the record; writes are serialised so concurrent file completions cannot interleave. */
  saveRecord(): Promise<void> {
    const next = this.writeChain.then(async () => {
      this.record.updatedAt = new Date().toISOString();
      await writeWhole(this.dir, RECORD_FILE, new TextEncoder().encode(JSON.stringify(this.record, null, 1)));
    });
    this.writeChain = next.catch(() => {});
    return next;
  }

  async fileHandle(name: string, create = false): Promise<FileSystemFileHandle | null> {
    try {
      return await this.dir.getFileHandle(dataFileName(name), { create });
    } catch (e) {
      if ((e as DOMException).name === 'NotFoundError') return null;
      throw quotaOrCacheError(e, `opening ${name}`);
    }
  }

  /** Bytes of `name` on disk (0 when absent). */
  async bytesOnDisk(name: string): Promise<number> {
    const h = await this.fileHandle(name);
    return h ? (await h.getFile()).size : 0;
  }

  /** A snapshot of a complete file for reading; throws if the record does not trust it. */
  async completeFile(name: string): Promise<File> {
    const e = this.record.files[name];
    const h = await this.fileHandle(name);
    if (!e?.complete || !h) throw cacheError(`Cached file ${name} of ${this.record.id} is not complete.`);
    return h.getFile();
  }

  /** Writes a small file in one go and marks it complete (used for JSON files and converted shards). */
  async putFile(name: string, bytes: Uint8Array, expectedSha256: string | null = null): Promise<void> {
    const hasher = await newFileHasher(layoutOf(name));
    hasher.update(bytes);
    const { sha256: sha, segments } = hasher.finish();
    if (expectedSha256 && expectedSha256 !== sha)
      throw new KimiVLError(
        'DownloadError',
        `${name}: sha256 ${sha} does not match the expected ${expectedSha256}.`,
      );
    this.record.files[name] = { size: bytes.byteLength, sha256: null, expectedSha256, complete: false };
    await writeWhole(this.dir, dataFileName(name), bytes);
    this.record.files[name] = {
      size: bytes.byteLength,
      sha256: sha,
      expectedSha256,
      segments,
      complete: true,
    };
    await this.saveRecord();
  }

  /** Forgets a file's bytes (after corruption or a server that ignored Range). */
  async dropFile(name: string): Promise<void> {
    const e = this.record.files[name];
    if (e) {
      e.complete = false;
      e.sha256 = null;
      delete e.segments;
    }
    await this.dir.removeEntry(dataFileName(name)).catch(() => {});
  }

  /**
   * Evicts a file that failed a check (corrupt bytes, invalid content): its bytes and its record entry
   * go, the model is no longer complete, and the next load fetches the file again (no poisoned cache).
   */
  async evictFile(name: string, why: string): Promise<void> {
    log.warn(`kimi-vl-web: cached ${name} of ${this.record.id} was evicted (${why}); it is fetched again.`);
    await this.dropFile(name);
    delete this.record.files[name];
    this.record.complete = false;
    await this.saveRecord();
  }

  /**
   * Checks a complete file against its record. `full` re-hashes it (a `verify: 'full'` load); otherwise
   * size + a segment table suffice, because reads check every segment they use (cache_read.ts). A
   * record without a usable table is hashed once and gains one. Returns null when good, else why not.
   */
  async verifyFile(name: string, full: boolean, onBytes?: (n: number) => void): Promise<string | null> {
    const e = this.record.files[name];
    if (!e?.complete || !e.sha256) return 'not complete';
    const h = await this.fileHandle(name);
    if (!h) return 'missing from the cache';
    const file = await h.getFile();
    if (file.size !== e.size) return `size ${file.size}, record says ${e.size}`;
    if (!full && segmentsCover(e.segments, e.size)) return null;
    const got = await hashBlobSegments(file, layoutOf(name), onBytes);
    if (got.sha256 !== e.sha256) return `sha256 ${got.sha256}, record says ${e.sha256}`;
    e.segments = got.segments;
    return null;
  }

  async remove(): Promise<void> {
    await this.writeChain;
    const root = await cacheRoot(false);
    await root?.removeEntry(this.dir.name, { recursive: true }).catch((e) => {
      if ((e as DOMException).name !== 'NotFoundError')
        throw cacheError(`Cannot delete ${this.record.id}.`, e);
    });
  }
}

/** sha256 of a blob, streamed so a multi-gigabyte file never sits in memory. */
export async function hashBlob(
  blob: Blob,
  onBytes?: (n: number) => void,
  hasher = new Sha256(),
): Promise<string> {
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
    onBytes?.(value.byteLength);
  }
  return hasher.hex();
}

/** Every model in the cache (complete or partial) with its size on disk. */
export async function listCachedModels(): Promise<CachedModelInfo[]> {
  const root = await cacheRoot(false);
  if (!root) return [];
  const out: CachedModelInfo[] = [];
  for await (const [name, handle] of entries(root)) {
    if (handle.kind !== 'directory') continue;
    const dir = handle as FileSystemDirectoryHandle;
    const rec = await readJsonFile(dir, RECORD_FILE);
    let bytes = 0;
    let files = 0;
    for await (const [fname, fh] of entries(dir)) {
      if (fh.kind !== 'file' || fname === RECORD_FILE) continue;
      bytes += (await (fh as FileSystemFileHandle).getFile()).size;
      files++;
    }
    if (isRecord(rec)) {
      out.push({
        id: rec.id,
        source: rec.source,
        format: rec.format,
        complete: rec.complete,
        bytes,
        files,
        updatedAt: rec.updatedAt,
      });
    } else {
      // A directory without a readable record holds nothing trusted; report it so it can be deleted.
      out.push({
        id: `unknown:${name}`,
        source: '',
        format: 'safetensors',
        complete: false,
        bytes,
        files,
        updatedAt: '',
      });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface DeleteCachedOptions {
  /** Also delete the converted copies "<id>#q8"/"#q4"/... of an original. Default true. */
  converted?: boolean;
}

/**
 * Deletes a cached model. The original and each converted copy are separate entries: pass
 * "<id>#q4" to delete only that copy, or `{ converted: false }` to delete only the original (a q4
 * copy stands alone: it holds its own config and tokenizer). Returns whether anything was removed.
 */
export async function deleteCachedModel(id: string, opts: DeleteCachedOptions = {}): Promise<boolean> {
  const root = await cacheRoot(false);
  if (!root) return false;
  const names = new Set([modelDirName(id)]);
  if (id.startsWith('unknown:')) names.add(id.slice('unknown:'.length));
  if (opts.converted !== false)
    for (const m of await listCachedModels()) if (m.id.startsWith(`${id}#`)) names.add(modelDirName(m.id));
  let removed = false;
  for (const n of names) {
    try {
      await root.removeEntry(n, { recursive: true });
      removed = true;
    } catch (e) {
      if ((e as DOMException).name !== 'NotFoundError')
        throw cacheError(`Cannot delete cached model ${id}.`, e);
    }
  }
  return removed;
}
