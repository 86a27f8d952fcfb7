// Local model folders (local_models.ts): served at /local/<folder key>/v-<version>/ from a server that
// reaches only that folder; the version follows every file's size and mtime, so a folder retrained in
// place (same names, same sizes) gets a new URL, hence a new cache id, and the old URL stops answering;
// the page drops the copies cached under older versions (pages/local_cache.ts staleLocalIds).
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderKey, folderUrlPath, folderVersion } from './local_models.ts';
import { staleLocalIds } from './pages/local_cache.ts';
import { createStaticServer, fsUrlPath, listen } from './static_server.ts';

const root = mkdtempSync(join(tmpdir(), 'local-models-'));
const folder = join(root, 'model');
const shard = join(folder, 'model.safetensors');
const server = createStaticServer(folder, { dir: folder, prefix: () => folderUrlPath(folder) });
let base = '';

beforeAll(async () => {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(folder);
  writeFileSync(join(folder, 'config.json'), '{}');
  writeFileSync(
    shard,
    Uint8Array.from({ length: 64 }, (_, i) => i),
  );
  utimesSync(shard, 1_700_000_000, 1_700_000_000);
  writeFileSync(join(root, 'secret.txt'), 'no');
  base = `http://127.0.0.1:${await listen(server, 0)}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe('local model folders', () => {
  it('a folder changed in place (same size) gets a new URL that serves the new bytes; the old URL is gone', async () => {
    const before = folderUrlPath(folder);
    const old = await fetch(`${base}${before}model.safetensors`, { headers: { Range: 'bytes=0-3' } });
    expect(old.status).toBe(206);
    expect([...new Uint8Array(await old.arrayBuffer())]).toEqual([0, 1, 2, 3]);

    writeFileSync(
      shard,
      Uint8Array.from({ length: 64 }, (_, i) => 100 + i),
    ); // "retrained": same size
    utimesSync(shard, 1_700_000_100, 1_700_000_100);
    const after = folderUrlPath(folder);
    expect(after).not.toBe(before);
    expect(after.startsWith(`/local/${folderKey(folder)}/v-`)).toBe(true);
    const now = await fetch(`${base}${after}model.safetensors`, { headers: { Range: 'bytes=0-3' } });
    expect([...new Uint8Array(await now.arrayBuffer())]).toEqual([100, 101, 102, 103]);
    expect((await fetch(`${base}${before}model.safetensors`)).status).toBe(404);
  });

  it('the version follows size and mtime and nothing else changes it', () => {
    const v = folderVersion(folder);
    expect(folderVersion(folder)).toBe(v);
    utimesSync(shard, 1_700_000_200, 1_700_000_200);
    expect(folderVersion(folder)).not.toBe(v);
  });

  it('serves only the folder: no /@fs/ path, no escape', async () => {
    const p = folderUrlPath(folder);
    expect((await fetch(`${base}${p}config.json`)).status).toBe(200);
    expect((await fetch(`${base}${p}..%2F..%2Fsecret.txt`)).status).toBe(404);
    expect((await fetch(`${base}${fsUrlPath(join(root, 'secret.txt'))}`)).status).toBe(404);
  });

  it('the page drops the cached copies of older versions of the same folder only', () => {
    const url = (port: number, key: string, v: string) => `http://127.0.0.1:${port}/local/${key}/v-${v}/`;
    const current = url(31000, 'aaaa1111', 'cccc3333');
    const ids = [
      `url:${current}`,
      `url:${current}#q4`,
      `url:${url(31000, 'aaaa1111', 'bbbb2222')}`, // older version
      `url:${url(42000, 'aaaa1111', 'bbbb2222')}#q4`, // older version on another port
      `url:${url(31000, 'dddd4444', 'bbbb2222')}`, // another folder
      'hf:moonshotai/Kimi-VL-A3B-Instruct@main',
    ];
    expect(staleLocalIds(current, ids)).toEqual([ids[2], ids[3]]);
    expect(staleLocalIds('https://huggingface.co/x/y/resolve/main/', ids)).toEqual([]);
  });
});
