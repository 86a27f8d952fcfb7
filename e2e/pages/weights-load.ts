// The load driver shared by the weights test page and its worker: runs loadModel and returns plain
// JSON (what page.evaluate and postMessage can carry) describing the load, its progress and errors.
import { CACHE_DIR } from '../../src/weights/cache.ts';
import { type LoadOptions, type LoadProgress, loadModel } from '../../src/weights/load.ts';
import { sha256Hex } from '../../src/weights/sha256.ts';
import type { ModelSource } from '../../src/weights/source.ts';

export interface LoadRequest {
  source: string | { repo: string; revision?: string; hubUrl?: string };
  quant?: LoadOptions['quant'];
  f16?: LoadOptions['f16'];
  hubUrl?: string;
  stallTimeoutMs?: number;
  maxAttempts?: number;
  concurrency?: number;
  verify?: LoadOptions['verify'];
  keepOriginal?: boolean;
  /** Abort the load once this many bytes of the download phase are done. */
  abortAfterBytes?: number;
  /** Abort the load this long after the download phase starts (progress events are throttled, and a
   *  stalled transfer sends none, so a byte trigger alone can miss). */
  abortAfterMs?: number;
  /** The phase whose start or bytes the abort triggers count from. Default 'download'. */
  abortPhase?: LoadProgress['phase'];
  /** Read every engine weight and report its dtype, shape and sha256. */
  readWeights?: boolean;
  /** Load from File objects fetched from these URLs (name → URL) instead of the network source. */
  localFiles?: Record<string, string>;
  /**
   * Emulates a full disk: once this many bytes were written to the cache during the load, every write
   * throws the browser's QuotaExceededError (sync access handles in a worker, writable streams on the
   * main thread). The writers are restored when the load ends.
   */
  quotaAfterBytes?: number;
  /**
   * Sample the cache's storage after every write, close and delete (main thread, writable streams):
   * the bytes and safetensors files of each model folder, plus bytes written to streams not yet closed.
   */
  trackStorage?: boolean;
}

/** One sample of trackStorage: per OPFS model folder (modelDirName), its safetensors files and bytes. */
export interface StorageSample {
  dirs: Record<string, { shards: number; bytes: number }>;
  /** Bytes written to writable streams not closed yet (their swap files). */
  pending: number;
  /** Bytes of the swap files seen in the folders (where the browser lists them). */
  swap: number;
}

export interface WeightSummary {
  dtype: string;
  shape: number[];
  bytes: number;
  sha256: string;
}

export interface LoadReport {
  ok: boolean;
  error?: { name: string; message: string };
  events: LoadProgress[];
  /** The context could write OPFS files in place (a worker's sync access handles). */
  syncAccessHandles: boolean;
  model?: {
    id: string;
    sourceId: string;
    format: string;
    networkBytes: number;
    files: string[];
    textLayers: number;
    visionLayers: number;
    preprocessorPatchSize: number | null;
    weights?: Record<string, WeightSummary>;
    bytesRead: number;
  };
  storage?: StorageSample[];
}

function canSync(): boolean {
  return (
    typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype
  );
}

async function localSource(map: Record<string, string>): Promise<ModelSource> {
  const files: File[] = [];
  for (const [name, url] of Object.entries(map)) {
    const blob = await (await fetch(url)).blob();
    files.push(new File([blob], name));
  }
  return { files };
}

type WriteFn = (this: unknown, data: unknown, ...rest: unknown[]) => unknown;

/** Wraps the cache writers' write() so writes past `limit` bytes fail like a full disk. */
function emulateFullDisk(limit: number): () => void {
  const restores: Array<() => void> = [];
  let written = 0;
  const size = (d: unknown) =>
    ArrayBuffer.isView(d) ? d.byteLength : d instanceof ArrayBuffer ? d.byteLength : 0;
  const wrap = (proto: { write: WriteFn } | undefined, sync: boolean) => {
    if (!proto) return;
    const original = proto.write;
    proto.write = function (this: unknown, data: unknown, ...rest: unknown[]) {
      const room = limit - written;
      written += size(data);
      if (written > limit) {
        const e = new DOMException('emulated: the origin is out of storage', 'QuotaExceededError');
        if (!sync) return Promise.reject(e); // a failed stream write keeps nothing of its swap file
        // In place (a worker's sync access handle), the disk fills midway through this write.
        if (room > 0 && data instanceof Uint8Array) original.call(this, data.subarray(0, room), ...rest);
        throw e;
      }
      return original.call(this, data, ...rest);
    };
    restores.push(() => {
      proto.write = original;
    });
  };
  const g = globalThis as unknown as Record<string, { prototype: { write: WriteFn } } | undefined>;
  wrap(g.FileSystemSyncAccessHandle?.prototype, true);
  wrap(g.FileSystemWritableFileStream?.prototype, false);
  return () => {
    for (const r of restores) r();
  };
}

async function sampleStorage(pending: number): Promise<StorageSample> {
  const dirs: StorageSample['dirs'] = {};
  let swap = 0;
  const root = await navigator.storage.getDirectory();
  const cache = await root.getDirectoryHandle(CACHE_DIR).catch(() => null);
  if (cache)
    for await (const [name, h] of cache as unknown as AsyncIterable<[string, FileSystemHandle]>) {
      if (h.kind !== 'directory') continue;
      const d = { shards: 0, bytes: 0 };
      for await (const [f, fh] of h as unknown as AsyncIterable<[string, FileSystemHandle]>) {
        if (fh.kind !== 'file') continue;
        const size = await (fh as FileSystemFileHandle)
          .getFile()
          .then((x) => x.size)
          .catch(() => 0);
        if (f.endsWith('.crswap'))
          swap += size; // a writable stream's swap file (Chromium)
        else d.bytes += size;
        if (f.endsWith('.safetensors')) d.shards++;
      }
      dirs[name] = d;
    }
  return { dirs, pending, swap };
}

type AnyFn = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/** Wraps stream write/close and removeEntry so each is followed by a storage sample. */
function trackStorage(samples: StorageSample[]): () => void {
  const open = new Map<unknown, number>();
  const pendingBytes = () => [...open.values()].reduce((a, b) => a + b, 0);
  const restores: Array<() => void> = [];
  const wrap = (
    proto: Record<string, AnyFn>,
    method: string,
    before?: (self: unknown, args: unknown[]) => void,
  ) => {
    const original = proto[method]!;
    proto[method] = async function (this: unknown, ...args: unknown[]) {
      const out = await original.apply(this, args);
      before?.(this, args);
      samples.push(await sampleStorage(pendingBytes()));
      return out;
    };
    restores.push(() => {
      proto[method] = original;
    });
  };
  const size = (d: unknown) =>
    ArrayBuffer.isView(d) ? d.byteLength : d instanceof ArrayBuffer ? d.byteLength : 0;
  const ws = FileSystemWritableFileStream.prototype as unknown as Record<string, AnyFn>;
  wrap(ws, 'write', (self, [data]) => open.set(self, (open.get(self) ?? 0) + size(data)));
  wrap(ws, 'close', (self) => open.delete(self));
  wrap(ws, 'abort', (self) => open.delete(self));
  wrap(FileSystemDirectoryHandle.prototype as unknown as Record<string, AnyFn>, 'removeEntry');
  return () => {
    for (const r of restores) r();
  };
}

export async function load(req: LoadRequest): Promise<LoadReport> {
  const restoreDisk = req.quotaAfterBytes !== undefined ? emulateFullDisk(req.quotaAfterBytes) : () => {};
  const samples: StorageSample[] = [];
  const restoreTrack = req.trackStorage ? trackStorage(samples) : () => {};
  try {
    const r = await loadOnce(req);
    return req.trackStorage ? { ...r, storage: samples } : r;
  } finally {
    restoreTrack();
    restoreDisk();
  }
}

async function loadOnce(req: LoadRequest): Promise<LoadReport> {
  const events: LoadProgress[] = [];
  const controller = new AbortController();
  let timerStarted = false;
  const opts: LoadOptions = {
    quant: req.quant,
    f16: req.f16,
    hubUrl: req.hubUrl,
    stallTimeoutMs: req.stallTimeoutMs,
    maxAttempts: req.maxAttempts,
    concurrency: req.concurrency,
    verify: req.verify,
    keepOriginal: req.keepOriginal,
    signal: controller.signal,
    onProgress: (p) => {
      events.push(p);
      const phase = req.abortPhase ?? 'download';
      if (req.abortAfterMs !== undefined && p.phase === phase && !timerStarted) {
        timerStarted = true;
        setTimeout(() => controller.abort(new Error('test abort')), req.abortAfterMs);
      }
      if (req.abortAfterBytes !== undefined && p.phase === phase && p.bytesDone >= req.abortAfterBytes)
        controller.abort(new Error('test abort'));
    },
  };
  try {
    const source = req.localFiles ? await localSource(req.localFiles) : (req.source as ModelSource);
    const m = await loadModel(source, opts);
    let weights: Record<string, WeightSummary> | undefined;
    if (req.readWeights) {
      weights = {};
      for await (const [name, w] of m.weights())
        weights[name] = {
          dtype: w.dtype,
          shape: w.shape,
          bytes: w.bytes.byteLength,
          sha256: sha256Hex(w.bytes),
        };
    }
    return {
      ok: true,
      events,
      syncAccessHandles: canSync(),
      model: {
        id: m.id,
        sourceId: m.sourceId,
        format: m.format,
        networkBytes: m.networkBytes,
        files: m.files,
        textLayers: m.config.text.numLayers,
        visionLayers: m.config.vision.numLayers,
        preprocessorPatchSize: m.preprocessor?.patchSize ?? null,
        weights,
        bytesRead: m.bytesRead(),
      },
    };
  } catch (e) {
    const err = e as Error;
    return {
      ok: false,
      events,
      syncAccessHandles: canSync(),
      error: { name: err?.name ?? 'unknown', message: err?.message ?? String(e) },
    };
  }
}
