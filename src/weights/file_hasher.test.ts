import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../testing/random.ts';
import {
  FileHasher,
  hashBlobSegments,
  MAX_SEGMENT_BYTES,
  newFileHasher,
  segmentAt,
  segmentStart,
  segmentsCover,
} from './file_hasher.ts';
import { createHasher, createJsHasher, setHasherPreference } from './hasher.ts';
import { encodeSafetensorsHeader } from './safetensors.ts';

const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A safetensors file of tensors with these byte sizes (random data). */
function safetensorsFile(sizes: number[]): { bytes: Uint8Array; headerEnd: number } {
  const entries = sizes.map((n, i) => ({ name: `t${i}`, dtype: 'F16' as const, shape: [n / 2], bytes: n }));
  const { header, fileSize } = encodeSafetensorsHeader(entries);
  const bytes = new Uint8Array(fileSize);
  bytes.set(header);
  bytes.set(randomBytes(fileSize - header.byteLength, 11), header.byteLength);
  return { bytes, headerEnd: header.byteLength };
}

function feed(h: FileHasher, bytes: Uint8Array, chunk: number) {
  for (let i = 0; i < bytes.byteLength; i += chunk) h.update(bytes.subarray(i, i + chunk));
  return h.finish();
}

describe('FileHasher', () => {
  it('gives the whole sha256 and one segment for the header and each tensor, however it is chunked', () => {
    const sizes = [64, 2, 1000, 4096, 30];
    const { bytes, headerEnd } = safetensorsFile(sizes);
    const ends = [headerEnd];
    for (const n of sizes) ends.push(ends[ends.length - 1]! + n);
    for (const chunk of [1, 7, 100, 5000, bytes.byteLength]) {
      const got = feed(new FileHasher(createJsHasher(), createJsHasher(), 'safetensors'), bytes, chunk);
      expect(got.sha256, `chunk ${chunk}`).toBe(nodeSha(bytes));
      expect(got.segments.ends).toEqual(ends);
      got.segments.ends.forEach((e, i) => {
        expect(got.segments.sha256[i]).toBe(nodeSha(bytes.subarray(segmentStart(got.segments, i), e)));
      });
      expect(segmentsCover(got.segments, bytes.byteLength)).toBe(true);
    }
  });

  it('cuts a tensor larger than MAX_SEGMENT_BYTES into pieces of at most that size', async () => {
    const big = MAX_SEGMENT_BYTES * 2 + 10;
    const { bytes, headerEnd } = safetensorsFile([big, 8]);
    const got = feed(await newFileHasher('safetensors'), bytes, 1 << 20);
    expect(got.segments.ends).toEqual([
      headerEnd,
      headerEnd + MAX_SEGMENT_BYTES,
      headerEnd + 2 * MAX_SEGMENT_BYTES,
      headerEnd + big,
      headerEnd + big + 8,
    ]);
  });

  it('falls back to fixed-size segments for bytes that are not safetensors, and can be reused', async () => {
    const junk = randomBytes(1000, 3);
    const h = await newFileHasher('safetensors');
    const a = feed(h, junk, 33);
    expect(a.segments.ends).toEqual([1000]);
    expect(a.sha256).toBe(nodeSha(junk));
    const b = feed(h, junk.subarray(0, 10), 3);
    expect(b.sha256).toBe(nodeSha(junk.subarray(0, 10)));
    const empty = feed(h, new Uint8Array(0), 1);
    expect(empty.segments.ends).toEqual([]);
    expect(segmentsCover(empty.segments, 0)).toBe(true);
  });

  it('hashes a blob in one streamed pass with the same table', async () => {
    const { bytes } = safetensorsFile([10, 20, 30]);
    const direct = feed(new FileHasher(createJsHasher(), createJsHasher(), 'safetensors'), bytes, 5);
    let seen = 0;
    expect(
      await hashBlobSegments(new Blob([bytes as Uint8Array<ArrayBuffer>]), 'safetensors', (n) => (seen += n)),
    ).toEqual(direct);
    expect(seen).toBe(bytes.byteLength);
  });

  it('finds the segment of an offset and rejects tables that do not tile the file', () => {
    const seg = { ends: [10, 20, 35], sha256: ['a', 'b', 'c'] };
    expect([0, 9, 10, 19, 20, 34].map((o) => segmentAt(seg, o))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(segmentsCover(seg, 35)).toBe(true);
    expect(segmentsCover(seg, 36)).toBe(false);
    expect(segmentsCover({ ends: [10, 10, 35], sha256: ['a', 'b', 'c'] }, 35)).toBe(false);
    expect(segmentsCover(undefined, 35)).toBe(false);
  });
});

describe('createHasher', () => {
  it('uses wasm where it instantiates, JS when told to, and both agree', async () => {
    const data = randomBytes(100_000, 5);
    const wasm = await createHasher();
    expect(wasm.kind).toBe('wasm');
    setHasherPreference('js');
    const js = await createHasher();
    setHasherPreference('auto');
    expect(js.kind).toBe('js');
    for (const h of [wasm, js]) {
      h.update(data.subarray(0, 777));
      h.update(data.subarray(777));
      expect(h.hex(), h.kind).toBe(nodeSha(data));
      h.update(data.subarray(0, 5)); // hex() resets
      expect(h.hex(), h.kind).toBe(nodeSha(data.subarray(0, 5)));
    }
  });
});
