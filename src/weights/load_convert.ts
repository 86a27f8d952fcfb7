// On-the-fly conversion cache: when an original bf16 Hugging Face checkpoint is loaded with quant q8/q4
// (or f16), the assembled engine weights are written into the cache as a converted kimi-vl-web model
// (shards + kimi-vl-manifest.json, manifest.ts format) under the id "<source id>#<form>", so the next
// load reads the small form and never re-quantises. The converted entry is marked complete only after
// every shard is written, hashed, re-read and validated by openCheckpoint (the same check as Node).
import { KimiVLError } from '../errors.ts';
import { type AssembleOptions, assembleOne, planAssembly } from './assemble.ts';
import { ModelCacheEntry } from './cache.ts';
import { cacheEntryFiles } from './cache_files.ts';
import { openCachedFileWriter, releaseCachedFile } from './cache_put.ts';
import { ensureQuota } from './cache_quota.ts';
import { CONFIG_FILE, type OpenedCheckpoint, openCheckpoint, PREPROCESSOR_FILE } from './checkpoint.ts';
import { releaseSchedule } from './convert_release.ts';
import { followFiles } from './convert_schedule.ts';
import type { ProgressTracker } from './load_progress.ts';
import {
  type ConvertQuant,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestTensor,
} from './manifest.ts';
import { encodeSafetensorsHeader } from './safetensors.ts';
import { planShards, type ShardPlan } from './shard_plan.ts';

/** Converted shards are cut at about this size so no single OPFS file or read grows unwieldy. */
export const CONVERTED_SHARD_BYTES = 1 << 30;

export function convertedForm(opts: AssembleOptions): ConvertQuant | null {
  if (opts.quant !== 'none') return opts.quant;
  return opts.f16 === 'all' || opts.f16 === 'vision' ? 'f16' : null;
}

/** Cache id of the converted copy ("<id>#q8", "<id>#q4+f16vision", ...). */
export function convertedId(sourceId: string, opts: AssembleOptions): string {
  const f16 = opts.f16 && opts.f16 !== 'none' ? `+f16${opts.f16}` : '';
  return `${sourceId}#${opts.quant === 'none' ? 'bf16' : opts.quant}${f16}`;
}

export interface ConvertArgs {
  original: OpenedCheckpoint;
  /** The complete cache entry of the original (side files are copied from it). */
  originalEntry: ModelCacheEntry;
  assemble: AssembleOptions;
  progress: ProgressTracker;
  signal?: AbortSignal;
  shardBytes?: number;
  /**
   * Delete each original shard from the cache once its last weight is converted (convert_release.ts):
   * set when the original is not kept. A failed conversion then leaves a partial original (resumable).
   */
  releaseOriginal?: boolean;
  /**
   * Converting while the shards arrive (load_stream.ts): the original files in fetch order; the
   * weights are then converted in the order that follows them (convert_schedule.ts followFiles).
   */
  followFiles?: readonly string[];
  /** Told after each original file is released (the stream then fetches the next). */
  onReleased?: (file: string) => void;
  /** Files shown in the convert phase besides the converted shards (the originals being fetched). */
  alsoTrack?: ReadonlyArray<{ name: string; size: number | null }>;
}

/** When, in the conversion's weight order, each original shard can go (releaseOriginal). */
interface Releases {
  schedule: Map<number, string[]>;
  next: number;
}

/** Writes the converted model into the cache and returns its (complete) entry. */
export async function convertIntoCache(a: ConvertArgs): Promise<ModelCacheEntry> {
  const form = convertedForm(a.assemble);
  if (!form) throw new Error('kimi-vl-web internal error: nothing to convert');
  const id = convertedId(a.originalEntry.record.id, a.assemble);
  await (await ModelCacheEntry.find(id))?.remove();
  const planned = planAssembly(a.original.config, a.original.source, a.assemble);
  const plan = a.followFiles ? followFiles(planned, a.original.source, a.followFiles) : planned;
  const shards = planShards(plan, a.shardBytes ?? CONVERTED_SHARD_BYTES);
  const headers = shards.map((s) => encodeSafetensorsHeader(s.entries, { format: MANIFEST_FORMAT }));
  const total = headers.reduce((n, h) => n + h.fileSize, 0);
  await ensureQuota(total, `Caching the ${form} form of ${a.originalEntry.record.id}`);

  const entry = await ModelCacheEntry.open(id, { source: a.originalEntry.record.source, format: 'manifest' });
  try {
    a.progress.startPhase('convert', [
      ...shards.map((s, i) => ({ name: s.file, size: headers[i]!.fileSize })),
      ...(a.alsoTrack ?? []).filter((t) => !shards.some((s) => s.file === t.name)),
    ]);
    const tensors: ManifestTensor[] = [];
    const manifestShards: Manifest['shards'] = [];
    const order = shards.flatMap((s) => s.weights);
    const releases = a.releaseOriginal
      ? { schedule: releaseSchedule(order, a.original.source), next: 0 }
      : null;
    for (const [i, shard] of shards.entries()) {
      const { header, offsets, fileSize } = headers[i]!;
      const sha = await writeShard(entry, shard, header, fileSize, a, releases);
      manifestShards.push({ file: shard.file, bytes: fileSize, sha256: sha });
      for (const [j, e] of shard.entries.entries()) {
        const dtype = shard.weights[j]!.dtype;
        tensors.push({
          name: e.name,
          dtype,
          shape: e.shape,
          shard: shard.file,
          offset: offsets[j]!,
          bytes: e.bytes,
        });
      }
    }
    const side = await copySideFiles(a.originalEntry, entry);
    const rawConfig = JSON.parse(await (await a.originalEntry.completeFile(CONFIG_FILE)).text());
    const rawPre = a.originalEntry.record.files[PREPROCESSOR_FILE]?.complete
      ? JSON.parse(await (await a.originalEntry.completeFile(PREPROCESSOR_FILE)).text())
      : null;
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      quant: form,
      quantFormat: 'kvq1',
      config: rawConfig,
      preprocessor: rawPre,
      files: side,
      tensors,
      shards: manifestShards,
    };
    await entry.putFile(MANIFEST_FILE, new TextEncoder().encode(JSON.stringify(manifest)));
    // The converted copy must pass the same validation as any downloaded one before it is trusted.
    await openCheckpoint(cacheEntryFiles(entry));
    entry.record.complete = true;
    await entry.saveRecord();
    return entry;
  } catch (e) {
    // A half-converted copy is never trusted: drop it whole (the original stays cached, partial when
    // releaseOriginal already deleted some of its shards: the next load fetches those again).
    await entry.remove().catch(() => {});
    if (e instanceof KimiVLError) throw e;
    throw new KimiVLError(
      'CacheError',
      `Converting ${a.originalEntry.record.id} to ${form} failed: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

async function writeShard(
  entry: ModelCacheEntry,
  shard: ShardPlan,
  header: Uint8Array,
  fileSize: number,
  a: ConvertArgs,
  releases: Releases | null,
): Promise<string> {
  // Hashed as written (sha256 + segment table, cache_put.ts): a warm load of this copy re-hashes nothing.
  const writer = await openCachedFileWriter(entry, shard.file, { expectedSize: fileSize });
  const put = async (bytes: Uint8Array) => {
    await writer.write(bytes);
    a.progress.add(shard.file, bytes.byteLength);
  };
  try {
    await put(header);
    for (const [j, p] of shard.weights.entries()) {
      if (a.signal?.aborted)
        throw new KimiVLError('AbortError', 'Model loading was cancelled during conversion.');
      const w = await assembleOne(p, a.original.source);
      if (w.bytes.byteLength !== shard.entries[j]!.bytes)
        throw new Error(
          `${p.spec.name}: assembled ${w.bytes.byteLength} bytes, planned ${shard.entries[j]!.bytes}`,
        );
      await put(w.bytes);
      if (releases) {
        // every byte this weight read is in the converted shard's writer: its last-read originals can go
        for (const file of releases.schedule.get(releases.next) ?? []) {
          await releaseCachedFile(a.originalEntry, file);
          a.onReleased?.(file);
        }
        releases.next++;
      }
    }
  } catch (e) {
    await writer.abort(); // the record never marks this shard complete
    throw e;
  }
  const { sha256: sha } = await writer.commit();
  a.progress.finishFile(shard.file);
  return sha;
}

/** config, preprocessor and tokenizer files travel with the converted copy so it stands alone. */
async function copySideFiles(from: ModelCacheEntry, to: ModelCacheEntry): Promise<string[]> {
  const out: string[] = [];
  for (const [name, f] of Object.entries(from.record.files)) {
    if (!f.complete || name.endsWith('.safetensors') || name.endsWith('.index.json')) continue;
    const bytes = new Uint8Array(await (await from.completeFile(name)).arrayBuffer());
    await to.putFile(name, bytes, f.sha256);
    out.push(name);
  }
  return out;
}
