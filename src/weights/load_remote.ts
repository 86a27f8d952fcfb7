// Loading a remote model (Hugging Face repo or HTTP folder) through the OPFS cache:
//   1. check what the cache already holds: sizes against the record, whose sha256s and segment
//      tables were computed once while the files were written (verify: 'full' re-hashes instead);
//      every byte is still checked as it is read for use (cache_read.ts), where a corrupt segment is
//      fetched again;
//   2. if the record is complete and nothing was dropped: no network at all;
//   3. otherwise fetch config.json (parsed at once: an unsupported model costs one small request),
//      the Hub's file listing for a repo (sizes + sha256s the Hub vouches for: hub_tree.ts), the
//      index / manifest / optional files, HEAD the shards of plain folders for sizes, warn when the
//      reported quota looks short, and download what is missing in parallel (resuming partials);
//   4. validate everything with openCheckpoint (the code Node uses) before marking the record complete.
// A validation failure (ConfigError, SafetensorsError, CheckpointError, TokenizerError) deletes the
// model's entry so nothing untrusted stays (the next load fetches it again: no poisoned cache); a
// transport failure (DownloadError, AbortError, QuotaError) keeps the partial bytes for the next
// attempt, with the record not complete.

import { type KimiVLConfig, parseConfig } from '../config/config.ts';
import { isKimiVLError, KimiVLError } from '../errors.ts';
import { log } from '../log.ts';
import type { ModelCacheEntry } from './cache.ts';
import { cacheEntryFiles } from './cache_files.ts';
import { ensureQuota } from './cache_quota.ts';
import { setRefetch } from './cache_read.ts';
import { revalidateMetadata } from './cache_revalidate.ts';
import { quotaShortfallError } from './cache_space.ts';
import {
  CONFIG_FILE,
  type OpenedCheckpoint,
  openCheckpoint,
  PREPROCESSOR_FILE,
  SINGLE_FILE,
} from './checkpoint.ts';
import {
  abortError,
  downloadToCache,
  fetchRange,
  headFile,
  isNotFound,
  notFoundError,
  type TransportOptions,
} from './fetch.ts';
import { missingReason } from './html_answer.ts';
import { fetchHubTree, type HubFile } from './hub_tree.ts';
import { INDEX_FILE, parseIndexJson } from './index_json.ts';
import { type ProgressTracker, runBounded } from './load_progress.ts';
import { MANIFEST_FILE, parseManifest } from './manifest.ts';
import { planMemory } from './memory_plan.ts';
import type { RemoteModel } from './source.ts';

/** Side files fetched when the source has them (tokenizer and generation settings). */
export const OPTIONAL_FILES = [
  PREPROCESSOR_FILE,
  'tiktoken.model',
  'tokenizer_config.json',
  'chat_template.jinja', // a repo's own prompt format (src/text/jinja_template.ts)
  'tokenizer.json',
  'special_tokens_map.json',
  'generation_config.json',
];

/**
 * Bytes a converted copy needs per byte of bf16 original, for the storage warning before downloading
 * (the exact figure needs the shard headers: preflight). Measured on the real Kimi-VL-A3B layout:
 * q4 9.88 GB of 32.8 GB = 0.301 (the vision tower and norms stay bf16), q8 0.544 (memory_plan.ts on
 * configs/Kimi-VL-A3B-Instruct.config.json).
 */
export const CONVERTED_SIZE_RATIO = { q8: 0.545, q4: 0.302, f16: 1 } as const;

export interface RemoteContext {
  transport: TransportOptions;
  concurrency: number;
  progress: ProgressTracker;
  /**
   * 'sha256' (default): sizes + the record up front, every byte checked against its recorded sha256 as
   * it is read; 'full': also re-hash every cached file before use; 'size': as 'sha256' (kept for old
   * callers: the default now costs no extra pass).
   */
  verify: 'sha256' | 'full' | 'size';
  /** Extra bytes the caller will write after the download (a converted copy), as a ratio of shard bytes. */
  extraRatio: number;
  /** The converted form that follows the download, when any: its size is then computed from config.json. */
  convertTo?: keyof typeof CONVERTED_SIZE_RATIO;
  /** The entry was complete and only corrupt files are being fetched again. */
  repair?: boolean;
  /** The Hub's listing (sizes, LFS sha256s) for a repo source; null for plain folders. */
  hubFiles?: Map<string, HubFile> | null;
}

export function isValidationError(e: unknown): boolean {
  return (
    isKimiVLError(e, 'ConfigError') ||
    isKimiVLError(e, 'SafetensorsError') ||
    isKimiVLError(e, 'CheckpointError') ||
    isKimiVLError(e, 'TokenizerError')
  );
}

/**
 * Bytes of the converted copy that follows the download: the memory plan's weight bytes (exact, from
 * config.json's shapes, safetensors headers aside) when the form is known, else the ratio.
 */
function convertedBytes(config: KimiVLConfig, ctx: RemoteContext, shardBytes: number): number {
  if (ctx.extraRatio <= 0) return 0;
  const form =
    ctx.convertTo ??
    (Object.keys(CONVERTED_SIZE_RATIO) as (keyof typeof CONVERTED_SIZE_RATIO)[]).find(
      (k) => CONVERTED_SIZE_RATIO[k] === ctx.extraRatio,
    );
  if (!form) return Math.ceil(shardBytes * ctx.extraRatio);
  return planMemory(config, { quant: form, context: 1 }).weightBytes;
}

/** The URL of a cached file of a remote entry (source.ts's rule: `<baseUrl><name>`). */
function fileUrlOf(entry: ModelCacheEntry, name: string): string {
  return new URL(encodeURI(name), entry.record.source).href;
}

/**
 * Checks every complete file of an entry; corrupt ones are dropped. Returns the names dropped.
 * Sizes + record only, unless `verify: 'full'` (or a record from before segment tables, hashed once).
 */
export async function verifyEntry(entry: ModelCacheEntry, ctx: RemoteContext): Promise<string[]> {
  // An original's files are the server's: a corrupt segment found while reading is fetched again.
  // A converted copy ("<id>#q4") has no server copy: its corrupt file is evicted instead.
  if (!entry.record.id.includes('#') && /^https?:/.test(entry.record.source))
    setRefetch(entry, (name, start, end) => fetchRange(fileUrlOf(entry, name), start, end, ctx.transport));
  const complete = Object.entries(entry.record.files).filter(([, f]) => f.complete);
  ctx.progress.startPhase(
    'verify',
    complete.map(([name, f]) => ({ name, size: f.size, fromCache: true })),
  );
  const dropped: string[] = [];
  const hadSegments = new Set(complete.filter(([, f]) => f.segments).map(([n]) => n));
  for (const [name] of complete) {
    const why = await entry.verifyFile(name, ctx.verify === 'full', (n) => {
      // Hashing a multi-gigabyte cache takes a while: honour an abort between chunks.
      if (ctx.transport.signal?.aborted) throw abortError(ctx.transport.signal);
      ctx.progress.add(name, n);
    });
    if (why) {
      log.warn(`kimi-vl-web: cached ${name} of ${entry.record.id} is corrupt (${why}); fetching it again.`);
      await entry.dropFile(name);
      dropped.push(name);
    }
    ctx.progress.finishFile(name);
  }
  // Small files fixed on the server since are picked up (due once a day, when online).
  dropped.push(...(await revalidateMetadata(entry, ctx.transport)));
  if (dropped.length > 0 && entry.record.complete) entry.record.complete = false;
  const gained = complete.some(([n, f]) => f.segments && !hadSegments.has(n));
  if (dropped.length > 0 || gained) await entry.saveRecord();
  return dropped;
}

/** Downloads one file unless the cache already holds it complete (verified by verifyEntry). */
export async function fetchFile(
  src: RemoteModel,
  entry: ModelCacheEntry,
  ctx: RemoteContext,
  name: string,
  size: number | null,
  sha256: string | null,
): Promise<void> {
  if (entry.record.files[name]?.complete) {
    ctx.progress.finishFile(name);
    return;
  }
  const listed = ctx.hubFiles?.get(name);
  size ??= listed?.size ?? null;
  sha256 ??= listed?.sha256 ?? null;
  await downloadToCache(
    { entry, name, url: src.fileUrl(name), size, expectedSha256: sha256 },
    ctx.transport,
    {
      onBytes: (done, net) => ctx.progress.set(name, done, net),
      onSize: (n) => ctx.progress.setTotal(name, n),
    },
  );
  ctx.progress.finishFile(name);
}

/** Fetches an optional file; false (and remembered in the record) when the source lacks it. */
async function fetchOptional(src: RemoteModel, entry: ModelCacheEntry, ctx: RemoteContext, name: string) {
  // Repairing a once-complete entry: what was absent then is still absent (no request needed).
  // A Hub listing says what exists: no request (and no 404) for what it does not list.
  const unlisted = ctx.hubFiles && !ctx.hubFiles.has(name);
  if ((ctx.repair && entry.record.absent.includes(name)) || unlisted) {
    if (!entry.record.absent.includes(name)) entry.record.absent.push(name);
    return false;
  }
  try {
    await fetchFile(src, entry, ctx, name, null, null);
    if (name.endsWith('.json') && name !== MANIFEST_FILE && name !== INDEX_FILE)
      await cachedJson(entry, name, name.startsWith('tokenizer') ? 'TokenizerError' : 'ConfigError');
    return true;
  } catch (e) {
    if (!isNotFound(e)) throw e;
    if (!entry.record.absent.includes(name)) entry.record.absent.push(name);
    return false;
  }
}

async function cachedJson(
  entry: ModelCacheEntry,
  name: string,
  errorName: 'ConfigError' | 'CheckpointError' | 'TokenizerError',
) {
  const text = await (await entry.completeFile(name)).text();
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new KimiVLError(
      errorName,
      `${name} in ${entry.record.source} is not valid JSON (${(e as Error).message})`,
    );
  }
}

export interface ShardToFetch {
  name: string;
  size: number | null;
  sha256: string | null;
}

/** The shard list: from the converted manifest, the sharding index, or the single model.safetensors. */
async function listShardsToFetch(
  src: RemoteModel,
  entry: ModelCacheEntry,
  ctx: RemoteContext,
): Promise<ShardToFetch[]> {
  const [hasManifest, hasIndex] = await Promise.all([
    fetchOptional(src, entry, ctx, MANIFEST_FILE),
    fetchOptional(src, entry, ctx, INDEX_FILE),
  ]);
  if (hasManifest) {
    const m = parseManifest(await cachedJson(entry, MANIFEST_FILE, 'CheckpointError'));
    entry.record.format = 'manifest';
    return m.shards.map((s) => ({ name: s.file, size: s.bytes, sha256: s.sha256 }));
  }
  const names = hasIndex
    ? parseIndexJson(await cachedJson(entry, INDEX_FILE, 'CheckpointError')).shards
    : [SINGLE_FILE];
  const plans: ShardToFetch[] = names.map((name) => ({ name, size: null, sha256: null }));
  await runBounded(plans, ctx.concurrency, async (p) => {
    const known = entry.record.files[p.name];
    if (known?.complete) {
      p.size = known.size;
      return;
    }
    const listed = ctx.hubFiles?.get(p.name);
    if (listed) {
      p.size = listed.size;
      p.sha256 = listed.sha256;
      return;
    }
    try {
      if (ctx.hubFiles) throw notFoundError(src.fileUrl(p.name), 404); // the listing has no such file
      const info = await headFile(src.fileUrl(p.name), ctx.transport);
      p.size = info.size;
      p.sha256 = info.sha256;
    } catch (e) {
      if (!isNotFound(e)) throw e;
      throw new KimiVLError(
        'CheckpointError',
        hasIndex
          ? `${INDEX_FILE} names shard "${p.name}", which is missing from ${src.baseUrl} (${missingReason(e)}).`
          : `${src.baseUrl} has no ${INDEX_FILE}, ${SINGLE_FILE} or ${MANIFEST_FILE}; is it a Kimi-VL checkpoint folder?`,
      );
    }
  });
  return plans;
}

/** What the metadata step found: the parsed config and the shards to bring in. */
export interface PreparedDownload {
  config: KimiVLConfig;
  shards: ShardToFetch[];
  /** Bytes of the shards not yet cached. */
  missing: number;
  /** Bytes of the converted copy that follows, 0 when none. */
  converted: number;
}

/** The small files (config first: an unsupported model costs one request), then the shard list. */
export async function prepareDownload(
  src: RemoteModel,
  entry: ModelCacheEntry,
  ctx: RemoteContext,
): Promise<PreparedDownload> {
  if (!ctx.repair) entry.record.absent = [];
  entry.record.source = src.baseUrl;
  const metadata = [CONFIG_FILE, MANIFEST_FILE, INDEX_FILE, ...OPTIONAL_FILES];
  ctx.progress.startPhase(
    'metadata',
    metadata.map((name) => ({ name, size: null })),
  );
  try {
    await fetchFile(src, entry, ctx, CONFIG_FILE, null, null);
  } catch (e) {
    if (isNotFound(e))
      throw new KimiVLError(
        'CheckpointError',
        `${src.baseUrl} has no ${CONFIG_FILE}; is it a Kimi-VL model folder?`,
      );
    throw e;
  }
  // Refuse an unsupported model before downloading gigabytes of it.
  const config = parseConfig(await cachedJson(entry, CONFIG_FILE, 'ConfigError'));
  await runBounded(OPTIONAL_FILES, ctx.concurrency, async (name) => {
    await fetchOptional(src, entry, ctx, name);
  });
  const shards = await listShardsToFetch(src, entry, ctx);
  entry.record.metadataCheckedAt = Date.now();
  await entry.saveRecord();

  let missing = 0;
  for (const s of shards) {
    if (entry.record.files[s.name]?.complete) continue;
    missing += Math.max(0, (s.size ?? 0) - (await entry.bytesOnDisk(s.name)));
  }
  const shardBytes = shards.reduce((n, s) => n + (s.size ?? 0), 0);
  return { config, shards, missing, converted: convertedBytes(config, ctx, shardBytes) };
}

/** The Hub's listing for a repo source, once per load (null for plain folders). */
export async function withHubFiles(src: RemoteModel, ctx: RemoteContext): Promise<RemoteContext> {
  return ctx.hubFiles !== undefined ? ctx : { ...ctx, hubFiles: await fetchHubTree(src.id, ctx.transport) };
}

/** Downloads one shard; a 404 names the shard. */
export async function fetchShard(
  src: RemoteModel,
  entry: ModelCacheEntry,
  ctx: RemoteContext,
  s: ShardToFetch,
): Promise<void> {
  try {
    await fetchFile(src, entry, ctx, s.name, s.size, s.sha256);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    throw new KimiVLError(
      'CheckpointError',
      `shard "${s.name}" is missing from ${src.baseUrl} (${missingReason(e)}).`,
    );
  }
}

/** A QuotaError while writing, worded with how much more is needed (the partials stay for a resume). */
export async function shardQuotaError(
  e: unknown,
  entry: ModelCacheEntry,
  shards: readonly ShardToFetch[],
  converted: number,
): Promise<unknown> {
  if (!isKimiVLError(e, 'QuotaError')) return e;
  let kept = 0;
  let left = converted;
  for (const s of shards) {
    const onDisk = await entry.bytesOnDisk(s.name).catch(() => 0);
    kept += onDisk;
    if (!entry.record.files[s.name]?.complete) left += Math.max(0, (s.size ?? 0) - onDisk);
  }
  return quotaShortfallError(e, { id: entry.record.id, stillNeeded: left, kept });
}

/** Brings every file of the model into the cache (resuming partials); validation comes after. */
export async function downloadModel(
  src: RemoteModel,
  entry: ModelCacheEntry,
  ctx: RemoteContext,
  prepared?: PreparedDownload,
): Promise<void> {
  ctx = await withHubFiles(src, ctx);
  const { shards, missing, converted } = prepared ?? (await prepareDownload(src, entry, ctx));
  await ensureQuota(missing + converted, `Downloading ${entry.record.id}`);

  ctx.progress.startPhase(
    'download',
    shards.map((s) => ({
      name: s.name,
      size: s.size,
      fromCache: entry.record.files[s.name]?.complete ?? false,
    })),
  );
  try {
    await runBounded(shards, ctx.concurrency, (s) => fetchShard(src, entry, ctx, s));
  } catch (e) {
    // The real limit, not the estimate: say how much more is needed; the partials stay for a resume.
    throw await shardQuotaError(e, entry, shards, converted);
  }
}

/** Validates the cached files with openCheckpoint; the entry must already hold every file. */
export async function openCachedEntry(
  entry: ModelCacheEntry,
): Promise<OpenedCheckpoint & { bytesRead(): number }> {
  const files = cacheEntryFiles(entry);
  const opened = await openCheckpoint(files);
  return { ...opened, bytesRead: () => files.bytesRead };
}
