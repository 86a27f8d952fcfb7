import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { headFile, isNotFound, parseContentRange } from './fetch.ts';

const opts = (fetchImpl: typeof fetch) => ({ stallTimeoutMs: 200, maxAttempts: 1, fetchImpl });

describe('parseContentRange', () => {
  it('reads start, end and total', () => {
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ start: 100, end: 199, total: 1000 });
    expect(parseContentRange('bytes 0-0/*')).toEqual({ start: 0, end: 0, total: null });
    expect(parseContentRange('bytes */1000')).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });
});

describe('headFile', () => {
  it('takes the Hub sha256 from X-Linked-Etag and the size from X-Linked-Size', async () => {
    const sha = 'a'.repeat(64);
    const f = (async () =>
      new Response(null, {
        headers: { 'x-linked-size': '1234', 'x-linked-etag': `"${sha}"`, 'content-length': '1' },
      })) as typeof fetch;
    expect(await headFile('http://x/f', opts(f))).toEqual({ size: 1234, sha256: sha });
  });

  it('ignores ETags that are not sha256 digests', async () => {
    const f = (async () =>
      new Response(null, { headers: { 'content-length': '7', etag: '"abc"' } })) as typeof fetch;
    expect(await headFile('http://x/f', opts(f))).toEqual({ size: 7, sha256: null });
  });

  it('turns 404 into a not-found DownloadError and 403 into a hint about gated repos', async () => {
    const e404 = await headFile(
      'http://x/f',
      opts((async () => new Response(null, { status: 404 })) as typeof fetch),
    ).catch((e) => e);
    expect(isNotFound(e404)).toBe(true);
    const e403 = await headFile(
      'http://x/f',
      opts((async () => new Response(null, { status: 403 })) as typeof fetch),
    ).catch((e) => e);
    expect(isKimiVLError(e403, 'DownloadError')).toBe(true);
    expect(isNotFound(e403)).toBe(false);
    expect(e403.message).toContain('gated');
  });

  it('fails a server that never answers after the stall timeout', async () => {
    const never = ((_: RequestInfo | URL, init?: RequestInit) =>
      new Promise((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      )) as typeof fetch;
    const e = await headFile('http://x/f', opts(never)).catch((x) => x);
    expect(isKimiVLError(e, 'DownloadError')).toBe(true);
    expect(e.message).toContain('stalled');
  });

  it('reports a caller abort as AbortError', async () => {
    const c = new AbortController();
    const never = ((_: RequestInfo | URL, init?: RequestInit) =>
      new Promise((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      )) as typeof fetch;
    const p = headFile('http://x/f', { ...opts(never), stallTimeoutMs: 10_000, signal: c.signal }).catch(
      (x) => x,
    );
    c.abort();
    expect(isKimiVLError(await p, 'AbortError')).toBe(true);
  });
});
