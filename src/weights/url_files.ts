// Checkpoint files behind an HTTP(S) base URL, read with Range requests: `kimi-vl inspect <url>`
// checks every header of a multi-GB checkpoint while downloading only a few kilobytes per shard.
// Uses the global fetch (Node ≥ 20, browsers).
import { KimiVLError } from '../errors.ts';
import type { CheckpointFiles } from './checkpoint.ts';
import { expectedContent, htmlAnswerError, isHtmlAnswer } from './html_answer.ts';
import { isPlainFileName } from './index_json.ts';

function downloadError(message: string, cause?: unknown): KimiVLError {
  return new KimiVLError('DownloadError', message, { cause });
}

/** Total size from "Content-Range: bytes a-b/TOTAL". */
function totalFromContentRange(h: string | null): number | null {
  const m = h ? /\/(\d+)\s*$/.exec(h) : null;
  return m ? Number(m[1]) : null;
}

export function urlFiles(baseUrl: string, fetchFn: typeof fetch = fetch): CheckpointFiles {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const sizes = new Map<string, number>();
  const urlOf = (file: string) => {
    if (!isPlainFileName(file))
      throw new KimiVLError('CheckpointError', `refusing file name "${file}" outside ${base}`);
    return new URL(file, base).href;
  };
  const get = async (file: string, range?: string): Promise<Response> => {
    try {
      return await fetchFn(urlOf(file), range ? { headers: { Range: range } } : {});
    } catch (e) {
      if (e instanceof KimiVLError) throw e;
      throw downloadError(
        `could not fetch ${urlOf(file)} (${(e as Error).message}); check the URL and the network`,
        e,
      );
    }
  };
  /** One Range request for byte 0 tells existence and total size. */
  const probe = async (file: string): Promise<number | null> => {
    if (sizes.has(file)) return sizes.get(file)!;
    const r = await get(file, 'bytes=0-0');
    await r.body?.cancel();
    if (r.status === 404 || r.status === 410) return null;
    // An SPA fallback answers every missing file with its index.html: absent, not a file.
    if (r.ok && isHtmlAnswer(r)) return null;
    // 416 for "bytes=0-0" means an empty file (Content-Range: bytes */0).
    const ranged = r.status === 206 || r.status === 416;
    if (!r.ok && r.status !== 416) throw downloadError(`${urlOf(file)}: HTTP ${r.status}`);
    const total = ranged
      ? totalFromContentRange(r.headers.get('content-range'))
      : Number(r.headers.get('content-length'));
    if (total === null || !Number.isSafeInteger(total))
      throw downloadError(
        `${urlOf(file)}: the server did not report the file size (no Content-Range/Content-Length)`,
      );
    sizes.set(file, total);
    return total;
  };
  return {
    location: base,
    async exists(file) {
      return (await probe(file)) !== null;
    },
    async size(file) {
      const s = await probe(file);
      if (s === null)
        throw new KimiVLError(
          'CheckpointError',
          `${file} is missing from ${base} (HTTP 404, or an HTML page instead of ${expectedContent(file)})`,
        );
      return s;
    },
    async readRange(file, start, end) {
      if (end <= start) return new Uint8Array(0);
      const r = await get(file, `bytes=${start}-${end - 1}`);
      if (r.status === 404)
        throw new KimiVLError('CheckpointError', `${file} is missing from ${base} (HTTP 404)`);
      if (!r.ok) throw downloadError(`${urlOf(file)}: HTTP ${r.status} for bytes ${start}-${end - 1}`);
      if (isHtmlAnswer(r)) throw htmlAnswerError(urlOf(file));
      const body = new Uint8Array(await r.arrayBuffer());
      // A server without Range support answers 200 with the whole file: slice it (small files only).
      const bytes = r.status === 206 ? body : body.subarray(start, end);
      if (bytes.byteLength !== end - start)
        throw downloadError(
          `${urlOf(file)}: asked for ${end - start} bytes at ${start}, got ${bytes.byteLength}`,
        );
      return bytes;
    },
    async readText(file) {
      const r = await get(file);
      if (r.status === 404)
        throw new KimiVLError('CheckpointError', `${file} is missing from ${base} (HTTP 404)`);
      if (!r.ok) throw downloadError(`${urlOf(file)}: HTTP ${r.status}`);
      if (isHtmlAnswer(r)) throw htmlAnswerError(urlOf(file));
      return r.text();
    },
  };
}
