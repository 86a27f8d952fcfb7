import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { fetchHubTree, hubRepoOf, hubTreeUrl, parseHubTree } from './hub_tree.ts';

const sha = 'ab'.repeat(32);
const listing = [
  { type: 'directory', path: 'sub', oid: 'x', size: 0 },
  { type: 'file', path: 'config.json', oid: 'c0ffee', size: 1234 },
  {
    type: 'file',
    path: 'model-00001-of-00002.safetensors',
    size: 135,
    lfs: { oid: sha, size: 5e9, pointerSize: 135 },
  },
  { type: 'file', path: 'bad-size', size: -1 },
];

describe('hub tree', () => {
  it('reads repo, revision and hub from a cache id', () => {
    expect(hubRepoOf('hf:org/name@main')).toEqual({
      repo: 'org/name',
      revision: 'main',
      hubUrl: 'https://huggingface.co',
    });
    expect(hubRepoOf('hf:org/name@refs/pr/1 via http://localhost:1/x/')).toEqual({
      repo: 'org/name',
      revision: 'refs/pr/1',
      hubUrl: 'http://localhost:1/x',
    });
    expect(hubRepoOf('url:http://x/')).toBeNull();
    expect(hubTreeUrl(hubRepoOf('hf:org/name@refs/pr/1')!)).toBe(
      'https://huggingface.co/api/models/org/name/tree/refs%2Fpr%2F1?recursive=1',
    );
  });

  it('takes LFS sizes and sha256s, git sizes without a sha256, and skips directories', () => {
    const m = parseHubTree(listing);
    expect([...m.keys()]).toEqual(['config.json', 'model-00001-of-00002.safetensors']);
    expect(m.get('config.json')).toEqual({ size: 1234, sha256: null });
    expect(m.get('model-00001-of-00002.safetensors')).toEqual({ size: 5e9, sha256: sha });
    let err: unknown;
    try {
      parseHubTree({ error: 'Repository not found' });
    } catch (e) {
      err = e;
    }
    expect(isKimiVLError(err, 'DownloadError')).toBe(true);
  });

  it('follows Link pagination and gives null (HEAD fallback) when the Hub has no listing', async () => {
    const urls: string[] = [];
    const pages = (async (url: string) => {
      urls.push(url);
      if (url.endsWith('recursive=1'))
        return new Response(JSON.stringify(listing.slice(0, 2)), {
          headers: { link: '<http://h/next>; rel="next"' },
        });
      return new Response(JSON.stringify(listing.slice(2)));
    }) as typeof fetch;
    const opts = { stallTimeoutMs: 1000, maxAttempts: 1, fetchImpl: pages };
    const m = await fetchHubTree('hf:o/r@main via http://h', opts);
    expect(urls).toEqual(['http://h/api/models/o/r/tree/main?recursive=1', 'http://h/next']);
    expect(m?.size).toBe(2);
    const missing = (async () => new Response('not found', { status: 404 })) as typeof fetch;
    expect(await fetchHubTree('hf:o/r@main', { ...opts, fetchImpl: missing })).toBeNull();
    expect(await fetchHubTree('url:http://h/', opts)).toBeNull();
  });
});
