// CheckpointFiles (checkpoint.ts) over browser storage, so the browser validates and reads a model with
// exactly the code Node uses: over a cache entry's complete files (OPFS) or over local File objects.
// Reads are byte ranges (File.slice), so a tensor never drags its whole shard into memory.
import { KimiVLError } from '../errors.ts';
import { hashBlob, type ModelCacheEntry } from './cache.ts';
import { VerifiedReader } from './cache_read.ts';
import type { CheckpointFiles } from './checkpoint.ts';

export interface CountingFiles extends CheckpointFiles {
  /** Bytes handed out by readRange/readText since creation. */
  readonly bytesRead: number;
}

async function sliceBytes(file: Blob, name: string, start: number, end: number): Promise<Uint8Array> {
  if (start < 0 || end < start || end > file.size)
    throw new KimiVLError(
      'CheckpointError',
      `${name}: range [${start}, ${end}) is outside the ${file.size}-byte file`,
    );
  const out = new Uint8Array(await file.slice(start, end).arrayBuffer());
  if (out.byteLength !== end - start)
    throw new KimiVLError(
      'CheckpointError',
      `${name}: read ${out.byteLength} bytes, expected ${end - start}`,
    );
  return out;
}

function blobFiles(location: string, lookup: (name: string) => Promise<Blob | null>): CountingFiles {
  let bytesRead = 0;
  const need = async (name: string) => {
    const f = await lookup(name);
    if (!f) throw new KimiVLError('CheckpointError', `${name} is missing from ${location}`);
    return f;
  };
  return {
    location,
    get bytesRead() {
      return bytesRead;
    },
    async exists(name) {
      return (await lookup(name)) !== null;
    },
    async size(name) {
      return (await need(name)).size;
    },
    async readRange(name, start, end) {
      const out = await sliceBytes(await need(name), name, start, end);
      bytesRead += out.byteLength;
      return out;
    },
    async readText(name) {
      const f = await need(name);
      bytesRead += f.size;
      return f.text();
    },
    async sha256(name) {
      return hashBlob(await need(name));
    },
  };
}

/**
 * The complete files of a cache entry, every byte checked against the record as it is read
 * (cache_read.ts). `bytesRead` counts bytes read from storage; `sha256` is the recorded digest when
 * reads are checked (the bytes cannot differ from it unnoticed), else a streamed hash.
 */
export function cacheEntryFiles(entry: ModelCacheEntry): CountingFiles & { readonly bytesHashed: number } {
  const reader = new VerifiedReader(entry);
  const need = async (name: string) => {
    const f = await reader.file(name);
    if (!f)
      throw new KimiVLError(
        'CheckpointError',
        `${name} is missing from the browser cache of ${entry.record.id}`,
      );
    return f;
  };
  const read = async (name: string, start: number, end: number) => {
    const f = await need(name);
    if (start < 0 || end < start || end > f.size)
      throw new KimiVLError(
        'CheckpointError',
        `${name}: range [${start}, ${end}) is outside the ${f.size}-byte file`,
      );
    return reader.read(name, f, start, end);
  };
  return {
    location: `the browser cache of ${entry.record.id}`,
    get bytesRead() {
      return reader.bytesRead;
    },
    get bytesHashed() {
      return reader.bytesHashed;
    },
    async exists(name) {
      return (await reader.file(name)) !== null;
    },
    async size(name) {
      return (await need(name)).size;
    },
    readRange: read,
    async readText(name) {
      return new TextDecoder().decode(await read(name, 0, (await need(name)).size));
    },
    async sha256(name) {
      const f = await need(name);
      const recorded = entry.record.files[name]?.sha256;
      if (recorded && reader.segments(name, f.size)) return recorded;
      return hashBlob(f);
    },
  };
}

/** Local files picked by the user (directory handle or drag-and-drop); names are relative paths. */
export function localFiles(label: string, files: ReadonlyMap<string, File>): CountingFiles {
  return blobFiles(label, async (name) => files.get(name) ?? null);
}
