import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseByteSize } from '../cli/convert.ts';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { widenToF32 } from '../tensor/half.ts';
import { assembleOptionsFor, convertCheckpoint } from './convert_node.ts';
import { MANIFEST_FILE } from './manifest.ts';
import { loadHostWeights, openCheckpointDir } from './node_source.ts';
import { toF16 } from './quantize_weights.ts';

const GOLDEN = GOLDEN_MODELS;
const ROOT = new URL('../../', import.meta.url).pathname;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kimi-convert-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe.each(['tiny-a', 'tiny-b'])('convert %s', (model) => {
  const src = `${GOLDEN}/${model}`;
  it.each(['q8', 'q4', 'f16'] as const)('--quant %s loads back as the same engine weights', async (quant) => {
    const out = join(tmp, `${model}-${quant}`);
    const progress: number[] = [];
    const m = await convertCheckpoint(src, out, {
      quant,
      shardBytes: 200_000,
      onProgress: (p) => progress.push(p.index),
    });
    expect(m.shards.length).toBeGreaterThan(1); // the small shard size forces several shards
    expect(progress.length).toBe(m.tensors.length);
    expect(m.files).toEqual(['config.json', 'preprocessor_config.json']);

    const ck = await openCheckpointDir(out, { verifySha256: true });
    expect(ck.format).toBe('kimi-vl-web');
    expect(ck.checks).toContain('sha256 of every shard verified');
    const back = await loadHostWeights(out);
    const ref = await loadHostWeights(src);
    const direct = await loadHostWeights(src, 'none', {});
    const expected =
      quant === 'f16' ? direct : await loadHostWeights(src, quant, { f16: assembleOptionsFor(quant).f16 });
    expect([...back.keys()]).toEqual([...ref.keys()]);
    for (const [name, w] of back) {
      const r = ref.get(name)!;
      expect(w.shape, name).toEqual(r.shape);
      if (quant === 'f16') {
        // bf16 → f16 everywhere (f32 router biases stay f32), values kept to f16 precision.
        expect(w.dtype, name).toBe(r.dtype === 'bf16' ? 'f16' : r.dtype);
        if (r.dtype === 'bf16') {
          expect(same(w.bytes, toF16('bf16', r.bytes, name)), name).toBe(true);
          const a = widenToF32('f16', w.bytes);
          const b = widenToF32('bf16', r.bytes);
          let worst = 0;
          for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
          // bf16 has fewer mantissa bits than f16: only values in f16's subnormal range round (≤ 2^-25).
          expect(worst, name).toBeLessThanOrEqual(2 ** -25);
        }
      } else {
        const e = expected.get(name)!;
        expect(w.dtype, name).toBe(e.dtype);
        expect(same(w.bytes, e.bytes), name).toBe(true);
        if (name.startsWith('vision.') || name.startsWith('projector.')) expect(w.dtype).toBe('f16');
      }
    }
  });
});

describe('converted folder checks', () => {
  it('refuses a shard whose bytes changed when sha256 is verified, and a manifest that lies', async () => {
    const out = join(tmp, 'tamper');
    const m = await convertCheckpoint(`${GOLDEN}/tiny-a`, out, { quant: 'q8' });
    const shard = join(out, m.shards[0]!.file);
    const buf = await readFile(shard);
    buf[buf.byteLength - 1] ^= 1;
    await writeFile(shard, buf);
    await expect(openCheckpointDir(out)).resolves.toBeTruthy(); // headers are still fine
    await expect(openCheckpointDir(out, { verifySha256: true })).rejects.toThrow(
      /sha256 .* differs from the manifest/,
    );

    const j = JSON.parse(await readFile(join(out, MANIFEST_FILE), 'utf8'));
    j.tensors[3].offset += 2;
    await writeFile(join(out, MANIFEST_FILE), JSON.stringify(j));
    await expect(openCheckpointDir(out)).rejects.toMatchObject({ name: 'CheckpointError' });
    j.tensors[3].offset -= 2;
    j.version = 2;
    await writeFile(join(out, MANIFEST_FILE), JSON.stringify(j));
    await expect(openCheckpointDir(out)).rejects.toThrow(/version 2 is not supported/);
  });

  it('refuses to overwrite without --force and to convert a converted folder', async () => {
    const out = join(tmp, 'twice');
    await convertCheckpoint(`${GOLDEN}/tiny-a`, out, { quant: 'q4' });
    await expect(convertCheckpoint(`${GOLDEN}/tiny-a`, out, { quant: 'q4' })).rejects.toThrow(/--force/);
    await expect(
      convertCheckpoint(`${GOLDEN}/tiny-a`, out, { quant: 'q8', force: true }),
    ).resolves.toBeTruthy();
    await expect(convertCheckpoint(out, join(tmp, 'x'), { quant: 'q8' })).rejects.toThrow(
      /already converted/,
    );
  });

  it('runs from the CLI with progress lines', () => {
    const out = join(tmp, 'cli');
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin/kimi-vl.mjs'),
        'convert',
        `${GOLDEN}/tiny-b`,
        out,
        '--quant',
        'q8',
        '--shard-size',
        '256k',
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\[1\/108\] vision\.patch_embed\.weight f16 /m);
    expect(r.stdout).toMatch(/MB\/s/);
    expect(r.stdout).toMatch(/wrote 108 tensors in \d+ shard\(s\)/);
    const bad = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/kimi-vl.mjs'), 'convert', `${GOLDEN}/tiny-b`, out, '--quant', 'q3'],
      {
        encoding: 'utf8',
      },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('ConfigError: --quant must be q4, q8 or f16');
  });

  it('parses shard sizes', () => {
    expect(parseByteSize('200000')).toBe(200000);
    expect(parseByteSize('256k')).toBe(262144);
    expect(parseByteSize('1G')).toBe(2 ** 30);
    expect(parseByteSize('1.5MB')).toBe(1.5 * 2 ** 20);
    expect(() => parseByteSize('lots')).toThrow(/--shard-size/);
  });
});
