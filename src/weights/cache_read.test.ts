// VerifiedReader over a fake cache entry (Node has Blob/File, not OPFS): reads walk segments, each
// byte read and hashed once in order, and a corrupt segment is repaired from the source or evicted.
import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { randomBytes } from '../testing/random.ts';
import type { CachedFileEntry, ModelCacheEntry } from './cache.ts';
import { setRefetch, VerifiedReader } from './cache_read.ts';
import { FileHasher, segmentStart } from './file_hasher.ts';
import { createJsHasher } from './hasher.ts';
import { encodeSafetensorsHeader } from './safetensors.ts';

const NAME = 'model.safetensors';

function fakeEntry(bytes: Uint8Array) {
  const h = new FileHasher(createJsHasher(), createJsHasher(), 'safetensors');
  h.update(bytes);
  const { sha256, segments } = h.finish();
  const file: CachedFileEntry = { size: bytes.byteLength, sha256, segments, complete: true };
  let onDisk = bytes.slice();
  const evicted: string[] = [];
  const entry = {
    record: { id: 'url:http://x/', source: 'http://x/', files: { [NAME]: file } },
    completeFile: async () => new File([onDisk as Uint8Array<ArrayBuffer>], NAME),
    fileHandle: async () => null, // the repaired bytes are not written back in this fake
    evictFile: async (name: string) => {
      evicted.push(name);
    },
  } as unknown as ModelCacheEntry;
  return {
    entry,
    segments,
    evicted,
    corrupt(at: number) {
      onDisk = onDisk.slice();
      onDisk[at] = onDisk[at]! ^ 0xff;
    },
  };
}

function tensorFile(sizes: number[]): Uint8Array {
  const entries = sizes.map((n, i) => ({ name: `t${i}`, dtype: 'F16' as const, shape: [n / 2], bytes: n }));
  const { header, fileSize } = encodeSafetensorsHeader(entries);
  const out = new Uint8Array(fileSize);
  out.set(header);
  out.set(randomBytes(fileSize - header.byteLength, 9), header.byteLength);
  return out;
}

async function read(r: VerifiedReader, start: number, end: number) {
  return r.read(NAME, (await r.file(NAME))!, start, end);
}

describe('VerifiedReader', () => {
  it('reads header then tensors in order, each byte read and hashed once', async () => {
    const bytes = tensorFile([100, 2000, 64]);
    const f = fakeEntry(bytes);
    const r = new VerifiedReader(f.entry);
    const ends = f.segments.ends;
    expect(await read(r, 0, 8)).toEqual(bytes.subarray(0, 8)); // the header's length prefix
    expect(await read(r, 0, ends[0]!)).toEqual(bytes.subarray(0, ends[0]!));
    for (let k = 1; k < ends.length; k++) {
      const s0 = segmentStart(f.segments, k);
      expect(await read(r, s0, ends[k]!)).toEqual(bytes.subarray(s0, ends[k]!));
    }
    expect(r.bytesRead).toBe(bytes.byteLength);
    expect(r.bytesHashed).toBe(bytes.byteLength);
  });

  it('serves a range across segments and a tensor split into parts without reading twice', async () => {
    const bytes = tensorFile([1000, 1000]);
    const f = fakeEntry(bytes);
    const r = new VerifiedReader(f.entry);
    const h = f.segments.ends[0]!;
    expect(await read(r, 0, h)).toEqual(bytes.subarray(0, h));
    expect(await read(r, h, h + 300)).toEqual(bytes.subarray(h, h + 300));
    expect(await read(r, h + 300, h + 1500)).toEqual(bytes.subarray(h + 300, h + 1500));
    expect(await read(r, h + 1500, h + 2000)).toEqual(bytes.subarray(h + 1500, h + 2000));
    expect(r.bytesRead).toBe(bytes.byteLength);
  });

  it('repairs a corrupt segment from the source, and evicts the file when it cannot', async () => {
    const bytes = tensorFile([500, 500]);
    const f = fakeEntry(bytes);
    const h = f.segments.ends[0]!;
    f.corrupt(h + 700);
    const asked: Array<[number, number]> = [];
    setRefetch(f.entry, async (_name, s, e) => {
      asked.push([s, e]);
      return bytes.slice(s, e);
    });
    const repaired = new VerifiedReader(f.entry);
    expect(await read(repaired, h, h + 1000)).toEqual(bytes.subarray(h, h + 1000));
    expect(asked).toEqual([[h + 500, h + 1000]]);
    expect(f.evicted).toEqual([]);

    const g = fakeEntry(bytes);
    g.corrupt(3);
    let err: unknown;
    try {
      await read(new VerifiedReader(g.entry), 0, 8);
    } catch (e) {
      err = e;
    }
    expect(isKimiVLError(err, 'CacheError')).toBe(true);
    expect((err as Error).message).toContain('removed from the cache');
    expect(g.evicted).toEqual([NAME]);
  });
});
