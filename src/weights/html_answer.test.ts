// An SPA fallback (HTML for every missing path) must read as "absent" for optional files and as a
// DownloadError naming the URL and the expected content for required ones (issue #15, vite preview).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { openCheckpoint } from './checkpoint.ts';
import { headFile, isNotFound, notFoundError } from './fetch.ts';
import { expectedContent, htmlAnswerError, isHtmlAnswer, missingReason } from './html_answer.ts';
import { urlFiles } from './url_files.ts';

const DIR = `${GOLDEN_MODELS}/tiny-a`;
const INDEX_HTML = '<!doctype html><html><body><div id="app"></div></body></html>';
const html = () => new Response(INDEX_HTML, { headers: { 'content-type': 'text/html; charset=utf-8' } });

/** The golden folder behind an SPA server: files it has are served, anything else gets index.html. */
function spaFetch(seen: string[] = [], drop: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const name = new URL(String(input)).pathname.split('/').pop()!;
    seen.push(name);
    let body: Buffer;
    try {
      if (drop.includes(name)) throw new Error('dropped');
      body = await readFile(`${DIR}/${name}`);
    } catch {
      return html();
    }
    const range = new Headers(init?.headers).get('range');
    const m = range ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if (!m)
      return new Response(new Uint8Array(body), { headers: { 'content-length': String(body.byteLength) } });
    const [a, b] = [Number(m[1]), Math.min(Number(m[2]), body.byteLength - 1)];
    return new Response(new Uint8Array(body.subarray(a, b + 1)), {
      status: 206,
      headers: { 'content-range': `bytes ${a}-${b}/${body.byteLength}` },
    });
  }) as typeof fetch;
}

describe('HTML answers', () => {
  it('recognises HTML by Content-Type and says what was expected', () => {
    expect(isHtmlAnswer(html())).toBe(true);
    expect(isHtmlAnswer(new Response('{}', { headers: { 'content-type': 'application/json' } }))).toBe(false);
    expect(expectedContent('https://x/m/kimi-vl-manifest.json')).toBe('kimi-vl-manifest.json (JSON)');
    const e = htmlAnswerError('https://x/m/config.json');
    expect(e).toMatchObject({ name: 'DownloadError' });
    expect(e.message).toMatch(
      /https:\/\/x\/m\/config\.json answered with an HTML page .* instead of config\.json \(JSON\)/,
    );
    expect(isNotFound(e)).toBe(true); // so optional-file probes read it as absent
  });

  it('a required shard answered with HTML is reported as an HTML answer, not as a plain 404', () => {
    expect(missingReason(htmlAnswerError('https://x/m/model.safetensors'))).toMatch(/HTML page/);
    expect(missingReason(notFoundError('https://x/m/model.safetensors', 404))).toBe('HTTP 404');
  });

  it('urlFiles: optional files answered with HTML are absent; the checkpoint still opens', async () => {
    const seen: string[] = [];
    const ck = await openCheckpoint(urlFiles('https://app.test/models/tiny-a', spaFetch(seen)));
    expect(ck.source.list().length).toBeGreaterThan(0);
    expect(seen).toContain('kimi-vl-manifest.json'); // probed, answered with index.html, skipped
  });

  it('urlFiles: a required file answered with HTML is a typed error naming it', async () => {
    const files = urlFiles('https://app.test/models/tiny-a', spaFetch([], ['config.json']));
    await expect(files.readText('config.json')).rejects.toMatchObject({
      name: 'DownloadError',
      message: expect.stringMatching(
        /https:\/\/app\.test\/models\/tiny-a\/config\.json answered with an HTML page .*config\.json \(JSON\)/,
      ),
    });
    expect(await files.exists('config.json')).toBe(false);
    await expect(files.size('config.json')).rejects.toMatchObject({
      name: 'CheckpointError',
      message: expect.stringMatching(/config\.json is missing .*HTML page instead of config\.json \(JSON\)/),
    });
  });

  it('the browser transport: a HEAD answered with HTML is a not-found DownloadError naming the URL', async () => {
    const opts = { stallTimeoutMs: 5000, maxAttempts: 1, fetchImpl: (async () => html()) as typeof fetch };
    const e = await headFile('https://app.test/m/model.safetensors', opts).catch((x) => x);
    expect(isNotFound(e)).toBe(true);
    expect(e.message).toMatch(/model\.safetensors answered with an HTML page .*safetensors weights/);
  });
});
