// HTTP transport for model files: HEAD for sizes, and a streamed GET straight into the OPFS cache that
// resumes with a Range request, hashes as it writes, times out when the server stalls and honours an
// AbortSignal. Every failure becomes a typed KimiVLError ('DownloadError' / 'AbortError'), and any
// bytes already on disk stay there as a resumable partial (see cache.ts for the trust rule).
import { KimiVLError } from '../errors.ts';
import { type ModelCacheEntry, quotaOrCacheError } from './cache.ts';
import { type CacheFileWriter, openCacheFileWriter } from './cache_writer.ts';
import {
  AttemptControl,
  fetchChecked,
  RetryableError,
  sleep,
  type TransportOptions,
  throwIfAborted,
} from './fetch_http.ts';
import { type FileHasher, layoutOf, newFileHasher } from './file_hasher.ts';

export { abortError, isNotFound, notFoundError, type TransportOptions } from './fetch_http.ts';

export interface RemoteFileInfo {
  size: number | null;
  /** sha256 the server vouches for (the Hub's X-Linked-Etag of LFS files), if any. */
  sha256: string | null;
}

/** Size (and sha256 when the server vouches for one) without downloading the body. */
export async function headFile(url: string, opts: TransportOptions): Promise<RemoteFileInfo> {
  throwIfAborted(opts.signal);
  const ctl = new AttemptControl(opts.signal, opts.stallTimeoutMs);
  try {
    const res = await fetchChecked(url, { method: 'HEAD' }, ctl, opts.fetchImpl);
    const len = res.headers.get('x-linked-size') ?? res.headers.get('content-length');
    const etag = (res.headers.get('x-linked-etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
    return {
      size: len !== null && /^\d+$/.test(len) ? Number(len) : null,
      sha256: /^[0-9a-f]{64}$/.test(etag) ? etag : null,
    };
  } finally {
    ctl.dispose();
  }
}

/** `bytes a-b/total` → its parts, or null if malformed. */
export function parseContentRange(
  v: string | null,
): { start: number; end: number; total: number | null } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v?.trim() ?? '');
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

/** The response's validator, usable as If-Range (strong ETag or Last-Modified only). */
function validatorOf(res: Response): string | null {
  const etag = res.headers.get('etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return res.headers.get('last-modified');
}

export interface DownloadTarget {
  entry: ModelCacheEntry;
  name: string;
  url: string;
  size: number | null;
  expectedSha256: string | null;
}

/**
 * Downloads `target` into its cache entry, resuming from the bytes on disk, retrying transient
 * failures, reporting progress through `events`. On return
 * the file is complete, verified and marked so in the record.
 */
export interface DownloadEvents {
  /** `bytesOnDisk` of the file are done; `networkDelta` of them just arrived over the network. */
  onBytes(bytesOnDisk: number, networkDelta: number): void;
  /** The file's size once a response tells it. */
  onSize?(size: number): void;
}

export async function downloadToCache(
  target: DownloadTarget,
  opts: TransportOptions,
  events: DownloadEvents,
): Promise<void> {
  let lastError: KimiVLError | null = null;
  for (let attempt = 0; attempt < opts.maxAttempts; attempt++) {
    throwIfAborted(opts.signal);
    if (attempt > 0) await sleep(Math.min(200 * 2 ** attempt, 3000), opts.signal);
    try {
      await downloadAttempt(target, opts, events);
      return;
    } catch (e) {
      if (!(e instanceof RetryableError)) throw e;
      lastError = e;
    }
  }
  throw new KimiVLError(
    'DownloadError',
    `${lastError?.message} Gave up after ${opts.maxAttempts} attempts; loading again resumes from the bytes already cached.`,
  );
}

/**
 * Bytes of a partial that may be continued: only for a file whose size the source states (HEAD or
 * manifest) and that the partial was written for. Anything else restarts from byte 0 (small JSON
 * files, possibly compressed in transit, are never resumed).
 */
async function resumableOffset(t: DownloadTarget): Promise<number> {
  const known = t.entry.record.files[t.name];
  const offset = await t.entry.bytesOnDisk(t.name);
  const ok =
    t.size !== null && known !== undefined && !known.complete && known.size === t.size && offset <= t.size;
  if (offset > 0 && !ok) {
    await t.entry.dropFile(t.name);
    return 0;
  }
  return offset;
}

/** Where this response's body starts in the file (offset or 0), or a RetryableError. */
async function bodyStart(res: Response, offset: number, t: DownloadTarget): Promise<number> {
  if (offset === 0) return 0;
  const range = res.status === 206 ? parseContentRange(res.headers.get('content-range')) : null;
  const before = t.entry.record.files[t.name]?.validator;
  const now = validatorOf(res);
  if (range?.start === offset && before && now && before !== now) {
    // The file changed on the server since the partial was written: its bytes cannot be continued.
    await res.body?.cancel();
    await t.entry.dropFile(t.name);
    throw new RetryableError(
      'DownloadError',
      `${t.url} changed on the server during the download; restarting.`,
    );
  }
  if (range?.start === offset) return offset;
  if (res.status === 200) return 0; // Range ignored (or If-Range saw a new version): whole file follows
  await res.body?.cancel();
  await t.entry.dropFile(t.name);
  throw new RetryableError(
    'DownloadError',
    `${t.url}: server answered a Range request with HTTP ${res.status}.`,
  );
}

/** The file's total size according to the response (null if it does not say, or says it encoded). */
function responseTotal(res: Response, start: number): number | null {
  const range = res.status === 206 ? parseContentRange(res.headers.get('content-range')) : null;
  if (range) return range.total;
  const encoding = res.headers.get('content-encoding');
  if (encoding && encoding !== 'identity') return null; // Content-Length counts compressed bytes
  const len = res.headers.get('content-length');
  return len !== null && /^\d+$/.test(len) ? start + Number(len) : null;
}

async function downloadAttempt(t: DownloadTarget, opts: TransportOptions, events: DownloadEvents) {
  const { entry, name, url } = t;
  let offset = await resumableOffset(t);
  // One pass gives the file's sha256 and its segment table (file_hasher.ts): nothing re-reads it later.
  const hasher = await newFileHasher(layoutOf(name));
  if (offset > 0) await feedHasher((await entry.fileHandle(name))!, offset, hasher, opts.signal);
  events.onBytes(offset, 0);

  const ctl = new AttemptControl(opts.signal, opts.stallTimeoutMs);
  let writer: CacheFileWriter | null = null;
  try {
    // Only `Range: bytes=N-` (a CORS-safelisted header): If-Range would cost a preflight that hubs
    // and CDNs may refuse, so the validator is compared after the response instead (bodyStart).
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const res = await fetchChecked(url, { headers }, ctl, opts.fetchImpl);
    if (res.status === 416 && offset > 0 && offset === t.size) return await finish(t, hasher, offset);
    const start = await bodyStart(res, offset, t);
    if (start !== offset) {
      offset = 0;
      hasher.reset();
      events.onBytes(0, 0);
    }
    const total = responseTotal(res, offset);
    if (t.size !== null && total !== null && total !== t.size) {
      await res.body?.cancel();
      throw new KimiVLError(
        'DownloadError',
        `${url}: server has ${total} bytes but ${t.size} were expected.`,
      );
    }
    const size = t.size ?? total;
    if (size !== null) events.onSize?.(size);
    if (!res.body) throw new RetryableError('DownloadError', `${url}: response has no body.`);
    entry.record.files[name] = {
      size: size ?? -1,
      sha256: null,
      expectedSha256: t.expectedSha256,
      validator: validatorOf(res),
      etag: res.headers.get('etag'),
      complete: false,
    };
    await entry.saveRecord();

    writer = await openCacheFileWriter((await entry.fileHandle(name, true))!, offset);
    const counted = await pump(res.body, writer, hasher, offset, ctl, t, events);
    writer = null;
    // A known size must be met exactly; an unknown one (e.g. a gzipped JSON) cannot be checked here,
    // except that fewer bytes than Content-Length announced means the connection dropped.
    if ((t.size !== null && counted !== t.size) || (t.size === null && size !== null && counted < size))
      throw new RetryableError(
        'DownloadError',
        `${url}: connection closed after ${counted} of ${size} bytes.`,
      );
    await finish(t, hasher, counted);
  } catch (e) {
    throw e instanceof KimiVLError ? e : ctl.translate(e, url);
  } finally {
    ctl.dispose();
    // Commit the bytes received so far: they are a resumable partial, not a trusted file.
    if (writer) await writer.close().catch(() => {});
  }
}

/** Streams the body into the writer (hashing it), then closes the writer. Returns the bytes on disk. */
async function pump(
  body: ReadableStream<Uint8Array>,
  writer: CacheFileWriter,
  hasher: FileHasher,
  offset: number,
  ctl: AttemptControl,
  t: DownloadTarget,
  events: DownloadEvents,
): Promise<number> {
  let counted = offset;
  const reader = body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw ctl.translate(e, t.url);
      }
      if (chunk.done) break;
      ctl.kick();
      hasher.update(chunk.value);
      try {
        await writer.write(chunk.value);
      } catch (e) {
        throw quotaOrCacheError(e, `caching ${t.name}`);
      }
      counted += chunk.value.byteLength;
      events.onBytes(counted, chunk.value.byteLength);
    }
  } finally {
    // Whatever happened, what was written is committed as a partial (never trusted by the record).
    await writer.close().catch(() => {});
  }
  return counted;
}

async function finish(t: DownloadTarget, hasher: FileHasher, size: number) {
  const { entry } = t;
  const { sha256: sha, segments } = hasher.finish();
  const onDisk = await entry.bytesOnDisk(t.name);
  if (onDisk !== size) {
    await entry.dropFile(t.name);
    throw new RetryableError(
      'DownloadError',
      `${t.name}: ${onDisk} bytes on disk after writing ${size}; restarting.`,
    );
  }
  if (t.expectedSha256 && sha !== t.expectedSha256) {
    await entry.dropFile(t.name);
    throw new RetryableError(
      'DownloadError',
      `${t.url}: downloaded bytes have sha256 ${sha}, expected ${t.expectedSha256}.`,
    );
  }
  const e = entry.record.files[t.name]!;
  e.size = size;
  e.sha256 = sha;
  e.segments = segments;
  e.complete = true;
  await entry.saveRecord();
}

async function feedHasher(
  handle: FileSystemFileHandle,
  upTo: number,
  hasher: FileHasher,
  signal?: AbortSignal,
) {
  const reader = (await handle.getFile()).slice(0, upTo).stream().getReader();
  for (;;) {
    throwIfAborted(signal);
    const { done, value } = await reader.read();
    if (done) return;
    hasher.update(value);
  }
}

/**
 * Bytes [start, end) of a remote file in one Range request (a corrupt cached segment fetched again,
 * cache_read.ts). Retries transient failures like a download; a server that ignores Range is refused
 * rather than streamed whole for a few megabytes.
 */
export async function fetchRange(
  url: string,
  start: number,
  end: number,
  opts: TransportOptions,
): Promise<Uint8Array> {
  let lastError: KimiVLError | null = null;
  for (let attempt = 0; attempt < opts.maxAttempts; attempt++) {
    throwIfAborted(opts.signal);
    if (attempt > 0) await sleep(Math.min(200 * 2 ** attempt, 3000), opts.signal);
    const ctl = new AttemptControl(opts.signal, opts.stallTimeoutMs);
    try {
      const res = await fetchChecked(
        url,
        { headers: { Range: `bytes=${start}-${end - 1}` } },
        ctl,
        opts.fetchImpl,
      );
      const range = parseContentRange(res.headers.get('content-range'));
      if (res.status !== 206 || range?.start !== start || range.end !== end - 1) {
        await res.body?.cancel();
        throw new KimiVLError(
          'DownloadError',
          `${url}: server did not answer bytes ${start}-${end - 1} (HTTP ${res.status}).`,
        );
      }
      try {
        return new Uint8Array(await res.arrayBuffer());
      } catch (e) {
        throw ctl.translate(e, url);
      }
    } catch (e) {
      if (!(e instanceof RetryableError)) throw e;
      lastError = e;
    } finally {
      ctl.dispose();
    }
  }
  throw new KimiVLError('DownloadError', `${lastError?.message} Gave up after ${opts.maxAttempts} attempts.`);
}
