import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { openCheckpoint } from './checkpoint.ts';
import { urlFiles } from './url_files.ts';

const DIR = `${GOLDEN_MODELS}/tiny-a`;

/** A fetch over the golden folder; `ranges` false plays a server that ignores Range headers. */
function fakeFetch(ranges: boolean, seen: string[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const name = url.pathname.split('/').pop()!;
    const range = new Headers(init?.headers).get('range');
    seen.push(`${name} ${range ?? '-'}`);
    let body: Buffer;
    try {
      body = await readFile(`${DIR}/${name}`);
    } catch {
      return new Response(null, { status: 404 });
    }
    const m = range && ranges ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if (!m)
      return new Response(new Uint8Array(body), {
        status: 200,
        headers: { 'content-length': String(body.byteLength) },
      });
    const [a, b] = [Number(m[1]), Math.min(Number(m[2]), body.byteLength - 1)];
    return new Response(new Uint8Array(body.subarray(a, b + 1)), {
      status: 206,
      headers: { 'content-range': `bytes ${a}-${b}/${body.byteLength}` },
    });
  }) as typeof fetch;
}

describe('urlFiles', () => {
  it('opens a checkpoint reading only header ranges of the shards', async () => {
    const seen: string[] = [];
    const ck = await openCheckpoint(urlFiles('https://example.test/m/tiny-a', fakeFetch(true, seen)));
    expect(ck.source.list().length).toBe(123);
    const shardReads = seen.filter((s) => s.includes('.safetensors '));
    expect(shardReads.every((s) => /bytes=\d+-\d+$/.test(s))).toBe(true);
    // Tensor reads fetch exactly the tensor's range.
    const info = ck.source.info('language_model.model.norm.weight');
    const bytes = await ck.source.read('language_model.model.norm.weight');
    expect(bytes.byteLength).toBe(info.end - info.start);
    expect(seen[seen.length - 1]).toBe(`${info.file} bytes=${info.start}-${info.end - 1}`);
  });

  it('copes with a server that ignores Range (200 with the whole file)', async () => {
    const ck = await openCheckpoint(urlFiles('https://example.test/m/tiny-a/', fakeFetch(false, [])));
    const whole = await readFile(`${DIR}/${ck.source.info('language_model.lm_head.weight').file}`);
    const i = ck.source.info('language_model.lm_head.weight');
    expect(
      Buffer.from(await ck.source.read('language_model.lm_head.weight')).equals(
        whole.subarray(i.start, i.end),
      ),
    ).toBe(true);
  });

  it('refuses file names that would leave the folder', async () => {
    const files = urlFiles('https://example.test/m/', fakeFetch(true, []));
    await expect(files.readText('../secret.json')).rejects.toMatchObject({ name: 'CheckpointError' });
  });

  it('turns network failures into DownloadError', async () => {
    const files = urlFiles('https://example.test/m/', (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch);
    await expect(files.exists('config.json')).rejects.toMatchObject({ name: 'DownloadError' });
  });
});
