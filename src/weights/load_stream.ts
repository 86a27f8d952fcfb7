// Converting a bf16 original while its shards arrive (quant q8/q4/f16 without keepOriginal), so the
// storage peak is a bounded window of original shards beside the growing converted copy, not the whole
// original (the real Kimi-VL-A3B at q4: 32.8 GB of originals, 9.9 GB converted; convert_schedule.ts
// predicts a 17.7 GB peak instead of 42.7 GB). How:
//   1. each missing shard's safetensors header is fetched with two Range requests, so openCheckpoint
//      validates the whole checkpoint (every header, every tensor against config.json) before any
//      shard body moves;
//   2. the conversion (load_convert.ts) walks the weights in the order that follows the files; a read
//      of a shard not yet cached waits for its download (ShardFeeder), which runs in fetch order with
//      at most `window` originals held; each original is released after its last reader;
//   3. a downloaded shard's header must equal the one validated in 1.
// Failures keep today's rules: a half-written converted copy is dropped whole, the original entry
// keeps its partials and complete shards (released ones are fetched again by the next load), a
// validation error drops the original entry too (load.ts).
import { isKimiVLError, KimiVLError } from '../errors.ts';
import { type AssembleOptions, planAssembly } from './assemble.ts';
import type { ModelCacheEntry } from './cache.ts';
import { cacheEntryFiles } from './cache_files.ts';
import { ensureQuota } from './cache_quota.ts';
import { type CheckpointFiles, openCheckpoint } from './checkpoint.ts';
import { chooseFetchOrder, STREAM_WINDOW, windowBytes } from './convert_schedule.ts';
import { fetchRange } from './fetch.ts';
import { CONVERTED_SHARD_BYTES, convertIntoCache } from './load_convert.ts';
import { runBounded } from './load_progress.ts';
import {
  fetchShard,
  type PreparedDownload,
  type RemoteContext,
  type ShardToFetch,
  shardQuotaError,
} from './load_remote.ts';
import type { RemoteModel } from './source.ts';

/** Downloads shards in fetch order, at most `window` held, any shard at once when it is needed. */
export class ShardFeeder {
  private next = 0;
  private readonly started = new Map<string, Promise<void>>();
  private readonly held = new Set<string>();
  private stopped = false;

  constructor(
    private readonly order: readonly string[],
    private readonly window: number,
    private readonly download: (name: string) => Promise<void>,
  ) {}

  /** Resolves once `name` is complete in the cache (starting it, and those before it, if needed). */
  need(name: string): Promise<void> {
    while (!this.started.has(name) && this.next < this.order.length) this.startNext();
    this.fill();
    const p = this.started.get(name);
    if (!p) throw new Error(`kimi-vl-web internal error: ${name} is not a shard of this stream`);
    return p;
  }

  /** The conversion released `name`: its slot goes to the next shard. */
  released(name: string): void {
    this.held.delete(name);
    this.fill();
  }

  /** Stops prefetching and waits for what is in flight (after a failure or at the end). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.started.values());
  }

  fill(): void {
    while (!this.stopped && this.next < this.order.length && this.held.size < this.window) this.startNext();
  }

  private startNext(): void {
    const name = this.order[this.next++]!;
    this.held.add(name);
    const p = this.download(name);
    p.catch(() => {}); // observed by need(); a prefetch nobody awaits must not be an unhandled rejection
    this.started.set(name, p);
  }
}

async function fetchHeader(src: RemoteModel, s: ShardToFetch, ctx: RemoteContext): Promise<Uint8Array> {
  const size = s.size!;
  const first8 = await fetchRange(src.fileUrl(s.name), 0, Math.min(8, size), ctx.transport);
  if (first8.byteLength < 8) return first8; // parseSafetensorsHeader says what is wrong
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  return fetchRange(src.fileUrl(s.name), 0, Math.min(size, 8 + n), ctx.transport);
}

/**
 * The entry's files, with the shards not yet cached present by their size and header: reading past
 * the header waits for the shard's download.
 */
function streamingFiles(
  entry: ModelCacheEntry,
  pending: ReadonlyMap<string, { size: number; header: Uint8Array }>,
  feeder: () => ShardFeeder,
): CheckpointFiles {
  const base = cacheEntryFiles(entry);
  const fresh = new Map<string, CheckpointFiles>(); // a reader made after the download (snapshots)
  const ready = async (name: string): Promise<CheckpointFiles> => {
    await feeder().need(name);
    let f = fresh.get(name);
    if (!f) {
      f = cacheEntryFiles(entry);
      const h = pending.get(name)!.header;
      const got = await f.readRange(name, 0, h.byteLength);
      if (got.some((b, i) => b !== h[i]))
        throw new KimiVLError(
          'CheckpointError',
          `shard "${name}" changed on the server while it was loaded (its header differs); load again.`,
        );
      fresh.set(name, f);
    }
    return f;
  };
  return {
    location: base.location,
    exists: async (name) => pending.has(name) || base.exists(name),
    size: async (name) => pending.get(name)?.size ?? base.size(name),
    async readRange(name, start, end) {
      const p = pending.get(name);
      if (!p) return base.readRange(name, start, end);
      if (end <= p.header.byteLength && start >= 0 && start <= end) return p.header.slice(start, end);
      return (await ready(name)).readRange(name, start, end);
    },
    readText: (name) => base.readText(name),
  };
}

/**
 * Downloads and converts at once; returns the complete converted entry (the original is not kept), or
 * null, before anything is written, when the server cannot serve the headers by Range.
 */
export async function streamConvert(
  src: RemoteModel,
  entry: ModelCacheEntry,
  ctx: RemoteContext,
  prepared: PreparedDownload,
  assemble: AssembleOptions,
): Promise<ModelCacheEntry | null> {
  const { shards, converted } = prepared;
  const missing = shards.filter((s) => !entry.record.files[s.name]?.complete);
  // Advisory (cache_quota.ts): the window of originals beside the converted copy.
  await ensureQuota(
    converted + windowBytes(missing.map((s) => s.size ?? 0)),
    `Downloading and converting ${entry.record.id}`,
  );
  ctx.progress.startPhase('validate', []);
  const pending = new Map<string, { size: number; header: Uint8Array }>();
  try {
    await runBounded(missing, ctx.concurrency, async (s) => {
      pending.set(s.name, { size: s.size!, header: await fetchHeader(src, s, ctx) });
    });
  } catch (e) {
    // A server that does not answer Range requests: download whole files first instead (load.ts).
    if (isKimiVLError(e, 'DownloadError') && /did not answer bytes/.test((e as Error).message)) return null;
    throw e;
  }
  const original = await openCheckpoint(streamingFiles(entry, pending, () => feeder));
  if (original.format !== 'hf')
    throw new Error('kimi-vl-web internal error: only a Hugging Face original is converted while streaming');
  const plan = planAssembly(original.config, original.source, assemble);
  const sizes = new Map(shards.map((s) => [s.name, s.size ?? 0]));
  const { fileOrder } = chooseFetchOrder(
    plan,
    original.source,
    sizes,
    CONVERTED_SHARD_BYTES,
    shards.map((s) => s.name),
  );
  const byName = new Map(shards.map((s) => [s.name, s]));
  // Downloads stop with the conversion: a failed conversion must not leave a 5 GB fetch running.
  const stop = new AbortController();
  const user = ctx.transport.signal;
  const own: RemoteContext = {
    ...ctx,
    transport: { ...ctx.transport, signal: user ? AbortSignal.any([user, stop.signal]) : stop.signal },
  };
  const feeder = new ShardFeeder(
    fileOrder.filter((f) => pending.has(f)),
    STREAM_WINDOW,
    (name) => fetchShard(src, entry, own, byName.get(name)!),
  );
  try {
    const conv = await convertIntoCache({
      original,
      originalEntry: entry,
      assemble,
      progress: ctx.progress,
      signal: ctx.transport.signal,
      releaseOriginal: true,
      followFiles: fileOrder,
      onReleased: (file) => feeder.released(file),
      alsoTrack: missing.map((s) => ({ name: s.name, size: s.size })),
    });
    await feeder.stop();
    return conv;
  } catch (e) {
    stop.abort();
    await feeder.stop();
    throw await shardQuotaError(e, entry, shards, converted);
  }
}
