// Loading a remote model (Hugging Face repo or HTTP folder) through the OPFS cache:
//   1. verify what the cache already holds (size + sha256 of every complete file; corrupt → dropped);
//   2. if the record is complete and nothing was dropped: no network at all;
//   3. otherwise fetch config.json (parsed at once: an unsupported model costs one small request),
//      probe the index / manifest / optional files, HEAD the shards for sizes, check the quota, and
//      download what is missing in parallel (resuming partials);
//   4. validate everything with openCheckpoint (the code Node uses) before marking the record complete.
// A validation failure (ConfigError, SafetensorsError, CheckpointError) deletes the model's entry so
// nothing untrusted stays; a transport failure (DownloadError, AbortError, QuotaError) keeps the
// partial bytes for the next attempt, with the record not complete.

import { parseConfig } from '../config/config.ts';
import { isKimiVLError, KimiVLError } from '../errors.ts';
import type { ModelCacheEntry } from './cache.ts';
import { cacheEntryFiles } from './cache_files.ts';
import { ensureQuota } from './cache_quota.ts';
import {
  CONFIG_FILE,
  type OpenedCheckpoint,
  openCheckpoint,
  PREPROCESSOR_FILE,
  SINGLE_FILE,
} from './checkpoint.ts';
import { abortError, downloadToCache, headFile, isNotFound, type TransportOptions } from './fetch.ts';
import { INDEX_FILE, parseIndexJson } from './index_json.ts';
import { type ProgressTracker, runBounded } from './load_progress.ts';
import { MANIFEST_FILE, parseManifest } from './manifest.ts';
import type { RemoteModel } from './source.ts';

/** Side files fetched when the source has them (tokenizer and generation settings). */
export const OPTIONAL_FILES = [
  PREPROCESSOR_FILE,
  'tiktoken.model',
  'tokenizer_config.json',
  'tokenizer.json',
  'special_tokens_map.json',
  'generation_config.json',
];

/** Bytes a converted copy needs per byte of bf16 original (for the quota check before downloading). */
export const CONVERTED_SIZE_RATIO = { q8: 0.54, q4: 0.29, f16: 1 } as const;

export interface RemoteContext {
  transport: TransportOptions;
  concurrency: number;
  progress: ProgressTracker;
  /** 'sha256': hash every cached file before use; 'size': trust the sizes only (faster, weaker). */
  verify: 'sha256' | 'size';
  /** Extra bytes the caller will write after the download (a converted copy), as a ratio of shard bytes. */
  extraRatio: number;
  /** The entry was complete and only corrupt files are being fetched again. */
  repair?: boolean;
}

export function isValidationError(e: unknown): boolean {
  return (
    isKimiVLError(e, 'ConfigError') ||
    isKimiVLError(e, 'SafetensorsError') ||
    isKimiVLError(e, 'CheckpointError')
  );
}

/** Checks every complete file of an entry; corrupt ones are dropped. Returns the names dropped. */
export async function verifyEntry(entry: ModelCacheEntry, ctx: RemoteContext): Promise<string[]> {
  const complete = Object.entries(entry.record.files).filter(([, f]) => f.complete);
  ctx.progress.startPhase(
    'verify',
    complete.map(([name, f]) => ({ name, size: f.size, fromCache: true })),
  );
  const dropped: string[] = [];
  for (const [name] of complete) {
    const why = await entry.verifyFile(name, ctx.verify === 'sha256', (n) => {
      // Hashing a multi-gigabyte cache takes a while: honour an abort between chunks.
      if (ctx.transport.signal?.aborted) throw abortError(ctx.transport.signal);
      ctx.progress.add(name, n);
    });
    if (why) {
      console.warn(
        `kimi-vl-web: cached ${name} of ${entry.record.id} is corrupt (${why}); fetching it again.`,
      );
      await entry.dropFile(name);
      dropped.push(name);
    }
    ctx.progress.finishFile(name);
  }
  if (dropped.length > 0 && entry.record.complete) {
    entry.record.complete = false;
    await entry.saveRecord();
  }
  return dropped;
}

/** Downloads one file unless the cache already holds it complete (verified by verifyEntry). */
async function fetchFile(
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
  if (ctx.repair && entry.record.absent.includes(name)) return false;
  try {
    await fetchFile(src, entry, ctx, name, null, null);
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
  errorName: 'ConfigError' | 'CheckpointError',
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

interface ShardToFetch {
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
    try {
      const info = await headFile(src.fileUrl(p.name), ctx.transport);
      p.size = info.size;
      p.sha256 = info.sha256;
    } catch (e) {
      if (!isNotFound(e)) throw e;
      throw new KimiVLError(
        'CheckpointError',
        hasIndex
          ? `${INDEX_FILE} names shard "${p.name}", which is missing from ${src.baseUrl} (HTTP 404).`
          : `${src.baseUrl} has no ${INDEX_FILE}, ${SINGLE_FILE} or ${MANIFEST_FILE}; is it a Kimi-VL checkpoint folder?`,
      );
    }
  });
  return plans;
}

/** Brings every file of the model into the cache (resuming partials); validation comes after. */
export async function downloadModel(
  src: RemoteModel,
  entry: ModelCacheEntry,
  ctx: RemoteContext,
): Promise<void> {
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
  parseConfig(await cachedJson(entry, CONFIG_FILE, 'ConfigError'));
  await runBounded(OPTIONAL_FILES, ctx.concurrency, async (name) => {
    await fetchOptional(src, entry, ctx, name);
  });
  const shards = await listShardsToFetch(src, entry, ctx);
  await entry.saveRecord();

  let missing = 0;
  for (const s of shards) {
    if (entry.record.files[s.name]?.complete) continue;
    missing += Math.max(0, (s.size ?? 0) - (await entry.bytesOnDisk(s.name)));
  }
  const shardBytes = shards.reduce((n, s) => n + (s.size ?? 0), 0);
  await ensureQuota(missing + Math.ceil(shardBytes * ctx.extraRatio), `Downloading ${entry.record.id}`);

  ctx.progress.startPhase(
    'download',
    shards.map((s) => ({
      name: s.name,
      size: s.size,
      fromCache: entry.record.files[s.name]?.complete ?? false,
    })),
  );
  await runBounded(shards, ctx.concurrency, async (s) => {
    try {
      await fetchFile(src, entry, ctx, s.name, s.size, s.sha256);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      throw new KimiVLError(
        'CheckpointError',
        `shard "${s.name}" is missing from ${src.baseUrl} (HTTP 404).`,
      );
    }
  });
}

/** Validates the cached files with openCheckpoint; the entry must already hold every file. */
export async function openCachedEntry(
  entry: ModelCacheEntry,
): Promise<OpenedCheckpoint & { bytesRead(): number }> {
  const files = cacheEntryFiles(entry);
  const opened = await openCheckpoint(files);
  return { ...opened, bytesRead: () => files.bytesRead };
}
