// No poisoned cache, part two: the small metadata files of a cached original (config, tokenizer,
// preprocessor, index, generation settings) are revalidated against the server when online, so a
// file fixed on the server replaces the cached one. One HEAD per file (CORS-simple, no preflight:
// If-None-Match would need one), its ETag (or Last-Modified) compared with the one recorded at
// download; a changed file is dropped and the load fetches it again. At most once per
// METADATA_MAX_AGE_MS, so a warm load right after another makes no request at all; offline (or a
// server that does not answer) the cached files are used as they are.
import type { ModelCacheEntry } from './cache.ts';
import { AttemptControl, fetchChecked, type TransportOptions } from './fetch_http.ts';

/** How long fetched or revalidated metadata is trusted without asking the server again. */
export const METADATA_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Metadata is small; anything larger (shards, tiktoken.model is ~2.5 MB) is covered by its sha256. */
const METADATA_MAX_BYTES = 16 << 20;

function isMetadata(name: string, size: number): boolean {
  return !name.endsWith('.safetensors') && size <= METADATA_MAX_BYTES;
}

async function headValidators(url: string, opts: TransportOptions) {
  const ctl = new AttemptControl(opts.signal, opts.stallTimeoutMs);
  try {
    const res = await fetchChecked(url, { method: 'HEAD' }, ctl, opts.fetchImpl);
    return { etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
  } finally {
    ctl.dispose();
  }
}

/**
 * Revalidates the metadata of `entry` when it is due; returns the names dropped because the server
 * now has other bytes. Only originals are revalidated (a converted copy has no server copy).
 */
export async function revalidateMetadata(
  entry: ModelCacheEntry,
  transport: TransportOptions,
  now = Date.now(),
): Promise<string[]> {
  const r = entry.record;
  if (r.id.includes('#') || !/^https?:/.test(r.source)) return [];
  if (typeof navigator !== 'undefined' && navigator.onLine === false) return [];
  if (now - (r.metadataCheckedAt ?? 0) < METADATA_MAX_AGE_MS) return [];
  const dropped: string[] = [];
  let answered = false;
  for (const [name, f] of Object.entries(r.files)) {
    if (!f.complete || !isMetadata(name, f.size)) continue;
    const recorded = f.etag ?? f.validator;
    if (!recorded) continue;
    let server: { etag: string | null; lastModified: string | null };
    try {
      server = await headValidators(new URL(encodeURI(name), r.source).href, transport);
    } catch (e) {
      if (transport.signal?.aborted) throw e;
      break; // offline or the server is down: keep what is cached, ask again next time
    }
    answered = true;
    const isTag = f.etag != null || /^(W\/)?"/.test(recorded);
    const current = isTag ? server.etag : server.lastModified;
    if (current && current !== recorded) {
      console.warn(`kimi-vl-web: ${name} of ${r.id} changed on the server; fetching it again.`);
      await entry.dropFile(name);
      delete r.files[name];
      dropped.push(name);
    }
  }
  if (answered) {
    r.metadataCheckedAt = now;
    await entry.saveRecord();
  }
  return dropped;
}
