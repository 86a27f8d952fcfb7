import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { quantLayout } from '../tensor/quant_format.ts';
import { type BadCheckpoint, makeBadCheckpoints } from './fixtures/bad_checkpoints.ts';
import { openCheckpointDir } from './node_source.ts';
import {
  encodeSafetensorsHeader,
  MAX_HEADER_BYTES,
  parseSafetensorsHeader,
  safetensorsHeaderLength,
  tensorByteSize,
} from './safetensors.ts';

/** A file from a header JSON (any text) and a data section of `dataBytes` bytes. */
function file(header: string | object, dataBytes: number): Uint8Array {
  const body = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + body.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.byteLength), true);
  out.set(body, 8);
  return out;
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

const parse = (bytes: Uint8Array) => parseSafetensorsHeader(bytes, bytes.byteLength, 'x.safetensors');

describe('parseSafetensorsHeader', () => {
  it('reads tensors with absolute offsets and metadata', () => {
    const f = file(
      {
        __metadata__: { format: 'pt' },
        b: { dtype: 'F32', shape: [3], data_offsets: [4, 16] },
        a: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] },
      },
      16,
    );
    const st = parse(f);
    const h = f.byteLength - 16;
    expect(st.dataStart).toBe(h);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.tensors.get('a')).toEqual({ dtype: 'BF16', shape: [2], start: h, end: h + 4 });
    expect(st.tensors.get('b')).toEqual({ dtype: 'F32', shape: [3], start: h + 4, end: h + 16 });
  });

  it('sizes KVQ8/KVQ4 tensors by the kvq1 layout', () => {
    expect(tensorByteSize('KVQ8', [3, 40])).toBe(quantLayout('q8', [3, 40]).totalBytes);
    expect(tensorByteSize('KVQ4', [2, 3, 64])).toBe(6 * 2 * 16 + 24);
    const n = tensorByteSize('KVQ4', [5, 33]);
    const st = parse(file({ w: { dtype: 'KVQ4', shape: [5, 33], data_offsets: [0, n] } }, n));
    expect(st.tensors.get('w')!.dtype).toBe('KVQ4');
  });

  it('round-trips encodeSafetensorsHeader (8-byte aligned, spaces padding)', () => {
    const { header, offsets, fileSize } = encodeSafetensorsHeader(
      [
        { name: 'x', dtype: 'F16', shape: [3], bytes: 6 },
        { name: 'y', dtype: 'KVQ8', shape: [1, 32], bytes: tensorByteSize('KVQ8', [1, 32]) },
      ],
      { format: 'kimi-vl-web' },
    );
    expect(header.byteLength % 8).toBe(0);
    const f = new Uint8Array(fileSize);
    f.set(header);
    const st = parse(f);
    expect(st.tensors.get('x')!.start).toBe(offsets[0]);
    expect(st.tensors.get('y')!.start).toBe(offsets[1]);
    expect(st.metadata.format).toBe('kimi-vl-web');
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', () => new Uint8Array(5), /too short/],
    [
      'a header length past EOF',
      () => {
        const f = file('{}', 0);
        new DataView(f.buffer).setBigUint64(0, 100n, true);
        return f;
      },
      /runs past the end/,
    ],
    [
      'a header length above the limit',
      () => {
        const f = file('{}', 0);
        new DataView(f.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
        return f;
      },
      /exceeds the/,
    ],
    [
      'a 2^63 header length',
      () => {
        const f = file('{}', 0);
        new DataView(f.buffer).setBigUint64(0, 2n ** 63n, true);
        return f;
      },
      /exceeds the/,
    ],
    [
      'invalid UTF-8',
      () => {
        const f = file('{"a" }', 0);
        f[9] = 0xff;
        return f;
      },
      /UTF-8/,
    ],
    ['invalid JSON', () => file('{"a": ', 0), /not valid JSON/],
    ['a JSON array', () => file('[]', 0), /must be an object/],
    ['a JSON string', () => file('"x"', 0), /must be an object/],
    ['an entry that is not an object', () => file({ a: 3 }, 0), /header entry must be an object/],
    [
      'an unknown dtype',
      () => file({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, 8),
      /unsupported dtype "F64"/,
    ],
    [
      'a negative dim',
      () => file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4),
      /non-negative integers/,
    ],
    [
      'a fractional dim',
      () => file({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4),
      /non-negative integers/,
    ],
    [
      'three offsets',
      () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, 4),
      /two non-negative/,
    ],
    [
      'reversed offsets',
      () => file({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 4),
      /end before they begin/,
    ],
    [
      'size ≠ shape × dtype',
      () => file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4),
      /shape and data disagree/,
    ],
    [
      'a tensor past EOF',
      () => file({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8),
      /past the end of the/,
    ],
    [
      'overlapping tensors',
      () =>
        file(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          12,
        ),
      /overlaps "a"/,
    ],
    [
      'a hole between tensors',
      () =>
        file(
          {
            a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
          },
          12,
        ),
      /hole of 4 bytes/,
    ],
    [
      'trailing bytes',
      () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 12),
      /8 bytes after the last tensor/,
    ],
    ['non-string metadata', () => file({ __metadata__: { n: 3 } }, 0), /__metadata__\.n must be a string/],
  ];
  for (const [what, make, msg] of cases)
    it(`refuses ${what}`, () => {
      const e = errorOf(() => parse(make()));
      expect(e.name).toBe('SafetensorsError');
      expect(e.message).toMatch(msg);
      expect(e.message).toContain('x.safetensors');
    });

  it('bounds the header length before anything else is read', () => {
    const first8 = new Uint8Array(8);
    new DataView(first8.buffer).setBigUint64(0, 1000n, true);
    expect(safetensorsHeaderLength(first8, 1008, 'f')).toBe(1000);
    expect(() => safetensorsHeaderLength(first8, 1007, 'f')).toThrow(/runs past the end/);
  });
});

describe('bad checkpoint battery (from tiny-a)', () => {
  let tmp = '';
  let bad: BadCheckpoint[] = [];
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'kimi-bad-'));
    bad = await makeBadCheckpoints(`${GOLDEN_MODELS}/tiny-a`, tmp);
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('makes at least the ten required defects, each its own folder', () => {
    expect(bad.length).toBeGreaterThanOrEqual(10);
    expect(new Set(bad.map((b) => b.name)).size).toBe(bad.length);
  });

  it('every defect is refused with its own typed error', async () => {
    const seen = new Set<string>();
    for (const b of bad) {
      const e = await openCheckpointDir(b.dir).then(
        () => null,
        (err: Error) => err,
      );
      expect(e, b.name).not.toBeNull();
      expect(`${b.name}: ${e!.name}`).toBe(`${b.name}: ${b.errorName}`);
      expect(e!.message, b.name).toContain(b.messageIncludes);
      seen.add(e!.message);
    }
    // Each defect gets its own message, not one generic failure.
    expect(seen.size).toBe(bad.length);
  });
});
