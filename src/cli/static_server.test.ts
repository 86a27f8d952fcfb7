// The installed CLI's server: harness files, /@fs/ local files with byte ranges, 404 without fallback,
// no escape from the page folder; and the per-user cache folder's lookup.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticServer, fsUrlPath, listen } from './static_server.ts';
import { acquireProfile, userCacheDir } from './user_cache.ts';

const root = mkdtempSync(join(tmpdir(), 'static-server-'));
const pages = join(root, 'pages');
const data = join(root, 'my data');
const server = createStaticServer(pages);
let base = '';

beforeAll(async () => {
  mkdirSync(pages, { recursive: true });
  mkdirSync(data, { recursive: true });
  writeFileSync(join(pages, 'harness.html'), '<!doctype html>');
  writeFileSync(
    join(data, 'w.bin'),
    Uint8Array.from({ length: 100 }, (_, i) => i),
  );
  writeFileSync(join(root, 'secret.txt'), 'no');
  base = `http://127.0.0.1:${await listen(server, 0)}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe('createStaticServer', () => {
  it('serves the page folder, / as harness.html, with CORS open', async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('serves local files under /@fs/ with byte ranges', async () => {
    const url = `${base}${fsUrlPath(join(data, 'w.bin'))}`;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect((await whole.arrayBuffer()).byteLength).toBe(100);
    const part = await fetch(url, { headers: { Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-19/100');
    expect([...new Uint8Array(await part.arrayBuffer())]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const tail = await fetch(url, { headers: { Range: 'bytes=-5' } });
    expect([...new Uint8Array(await tail.arrayBuffer())]).toEqual([95, 96, 97, 98, 99]);
    expect((await fetch(url, { headers: { Range: 'bytes=100-' } })).status).toBe(416);
  });

  it('answers a missing file with 404, never a fallback page, and stays inside the page folder', async () => {
    expect((await fetch(`${base}/kimi-vl-manifest.json`)).status).toBe(404);
    expect((await fetch(`${base}${fsUrlPath(join(data, 'nope.json'))}`)).status).toBe(404);
    expect((await fetch(`${base}/..%2Fsecret.txt`)).status).toBe(404);
  });
});

describe('user cache', () => {
  it('KIMI_VL_CACHE, then XDG_CACHE_HOME/kimi-vl, then %LOCALAPPDATA%\\kimi-vl on Windows, then ~/.cache/kimi-vl', () => {
    expect(userCacheDir({ KIMI_VL_CACHE: '/c', XDG_CACHE_HOME: '/x' }, 'linux')).toBe('/c');
    expect(userCacheDir({ XDG_CACHE_HOME: '/x' }, 'linux')).toBe(join('/x', 'kimi-vl'));
    expect(userCacheDir({ LOCALAPPDATA: 'C:/L' }, 'win32')).toBe(join('C:/L', 'kimi-vl'));
    expect(userCacheDir({}, 'darwin')).toMatch(/\.cache[/\\]kimi-vl$/);
  });

  it('one process holds the profile; another live holder gives a temporary one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kimi-vl-cache-'));
    const mine = acquireProfile(dir);
    expect(mine).toMatchObject({ dir: join(dir, 'chromium-profile'), shared: true });
    // A lock held by another live process (our parent) means "in use".
    writeFileSync(join(dir, 'chromium-profile.lock'), String(process.ppid));
    const other = acquireProfile(dir);
    expect(other.shared).toBe(false);
    expect(other.dir).not.toBe(mine.dir);
    other.release();
  });
});
