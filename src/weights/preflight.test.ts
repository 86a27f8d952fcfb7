// KimiVL.check's engine (checkModel) in Node against a fake HTTP folder: the verdict, the bytes, and what
// it fetched to get them (config, preprocessor, index, one-byte probes of the shards: kilobytes).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { loadModel } from './load.ts';
import { checkModel } from './preflight.ts';

const DIR = join(GOLDEN_MODELS, 'tiny-a');
const BASE = 'http://models.test/tiny-a/';

/** A folder over HTTP with Range; `override` replaces a file's body; every request is logged. */
function folderFetch(override: Record<string, string> = {}) {
  const log: { file: string; range: string | null; bytes: number }[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const file = new URL(String(input)).pathname.split('/').pop()!;
    const range = new Headers(init?.headers).get('range');
    const path = join(DIR, file);
    let body: Uint8Array;
    if (file in override) body = new TextEncoder().encode(override[file]);
    else {
      try {
        if (!statSync(path).isFile()) throw new Error();
      } catch {
        log.push({ file, range, bytes: 0 });
        return new Response('not found', { status: 404 });
      }
      body = readFileSync(path);
    }
    const m = range ? /bytes=(\d+)-(\d+)/.exec(range) : null;
    const part = m ? body.subarray(Number(m[1]), Number(m[2]) + 1) : body;
    log.push({ file, range, bytes: part.byteLength });
    const headers: Record<string, string> = { 'content-length': String(part.byteLength) };
    if (m)
      headers['content-range'] = `bytes ${m[1]}-${Number(m[1]) + part.byteLength - 1}/${body.byteLength}`;
    return new Response(new Uint8Array(part), { status: m ? 206 : 200, headers });
  }) as typeof fetch;
  return { fetchImpl, log };
}

const shards = readdirSync(DIR).filter((n) => n.endsWith('.safetensors'));
const shardBytes = shards.reduce((a, n) => a + statSync(join(DIR, n)).size, 0);
const adapter = (binding: number) => ({
  description: 'test adapter',
  isFallbackAdapter: false,
  limits: { maxStorageBufferBindingSize: binding, maxBufferSize: 1 << 30 },
});

describe('checkModel', () => {
  it('answers from kilobytes: verdict, download/storage/GPU bytes, largest binding', async () => {
    const { fetchImpl, log } = folderFetch();
    const r = await checkModel(BASE, { quantization: 'q4', fetch: fetchImpl, adapter: adapter(1 << 30) });
    expect(r).toMatchObject({
      fits: true,
      format: 'hf',
      quantization: 'q4',
      cached: 'none',
      contextBudget: 4096,
    });
    expect(r.downloadBytes).toBe(shardBytes);
    expect(r.storageBytes).toBeGreaterThan(0);
    expect(r.storageBytes).toBeLessThan(shardBytes);
    // converted while the shards arrive: at most two of them beside the copy (tiny-a has two)
    expect(r.peakStorageBytes).toBe(shardBytes + r.storageBytes);
    expect(r.gpuBytes).toBeGreaterThan(r.storageBytes);
    expect(r.largestBinding.bytes).toBeGreaterThan(0);
    // Shards are only probed (one byte each); everything fetched is a few small files.
    for (const q of log.filter((q) => q.file.endsWith('.safetensors'))) expect(q.range).toBe('bytes=0-0');
    expect(log.reduce((a, q) => a + q.bytes, 0)).toBeLessThan(64 * 1024);
  });

  it('a small binding limit: does not fit, and says what is needed against what is available', async () => {
    const { fetchImpl } = folderFetch();
    // 16 KiB: the tiny model's larger weights are held in parts.
    const parted = await checkModel(BASE, {
      quantization: 'none',
      fetch: fetchImpl,
      adapter: adapter(16 * 1024),
    });
    expect(parted.fits).toBe(true);
    expect(parted.reasons.join(' ')).toMatch(/exceed the 16\.0 KiB buffer limit and are held in parts/);
    // 64 B: below one row of a weight, nothing can split it.
    const r = await checkModel(BASE, { quantization: 'none', fetch: fetchImpl, adapter: adapter(64) });
    expect(r.fits).toBe(false);
    expect(r.reasons.join(' ')).toMatch(/cannot be split further/);
    const capped = await checkModel(BASE, {
      fetch: fetchImpl,
      adapter: adapter(1 << 30),
      limits: { maxStorageBufferBindingSize: 64 },
    });
    expect(capped.fits).toBe(false);
  });

  it('no adapter: does not fit, with the reason first', async () => {
    const { fetchImpl } = folderFetch();
    const r = await checkModel(BASE, { fetch: fetchImpl, adapter: null });
    expect(r.fits).toBe(false);
    expect(r.reasons[0]).toMatch(/no WebGPU adapter/);
  });
});

describe('loadModel reads the small files first', () => {
  it('a malformed preprocessor is a ConfigError before any shard byte is requested', async () => {
    const { fetchImpl, log } = folderFetch({ 'preprocessor_config.json': '{"merge_kernel_size": [3, 3]}' });
    await expect(loadModel(BASE, { fetch: fetchImpl })).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/preprocessor_config\.json: merge_kernel_size/),
    });
    expect(log.some((q) => q.file === 'preprocessor_config.json')).toBe(true);
    expect(log.filter((q) => q.file.endsWith('.safetensors'))).toEqual([]);
  });

  it('beforeWeights sees the parsed files and can stop the load there', async () => {
    const { fetchImpl, log } = folderFetch();
    const stop = new Error('stop here');
    let seen: unknown = null;
    await expect(
      loadModel(BASE, {
        fetch: fetchImpl,
        beforeWeights: (meta) => {
          seen = {
            layers: meta.config.text.numLayers,
            pre: meta.preprocessor?.patchSize,
            shards: meta.shards.length,
          };
          throw stop;
        },
      }),
    ).rejects.toThrow();
    expect(seen).toEqual({ layers: expect.any(Number), pre: 14, shards: shards.length });
    expect(log.filter((q) => q.file.endsWith('.safetensors'))).toEqual([]);
  });
});
