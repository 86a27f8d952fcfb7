// Test page for the browser weights loader: exposes `window.weightsTest`, whose methods return plain
// JSON (what page.evaluate can carry) describing a load, its progress events and its errors.
import {
  CACHE_DIR,
  dataFileName,
  deleteCachedModel,
  listCachedModels,
  modelDirName,
} from '../../src/weights/cache.ts';
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
  /** Abort the load once this many bytes of the download phase are done. */
  abortAfterBytes?: number;
  /** Abort the load this long after the download phase starts (progress events are throttled, and a
   *  stalled transfer sends none, so a byte trigger alone can miss). */
  abortAfterMs?: number;
  /** Read every engine weight and report its dtype, shape and sha256. */
  readWeights?: boolean;
  /** Load from File objects fetched from these URLs (name → URL) instead of the network source. */
  localFiles?: Record<string, string>;
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
}

const uncaught: string[] = [];
addEventListener('error', (e) => uncaught.push(`error: ${e.message}`));
addEventListener('unhandledrejection', (e) =>
  uncaught.push(`unhandledrejection: ${String(e.reason?.message ?? e.reason)}`),
);

async function localSource(map: Record<string, string>): Promise<ModelSource> {
  const files: File[] = [];
  for (const [name, url] of Object.entries(map)) {
    const blob = await (await fetch(url)).blob();
    files.push(new File([blob], name));
  }
  return { files };
}

async function load(req: LoadRequest): Promise<LoadReport> {
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
    signal: controller.signal,
    onProgress: (p) => {
      events.push(p);
      if (req.abortAfterMs !== undefined && p.phase === 'download' && !timerStarted) {
        timerStarted = true;
        setTimeout(() => controller.abort(new Error('test abort')), req.abortAfterMs);
      }
      if (req.abortAfterBytes !== undefined && p.phase === 'download' && p.bytesDone >= req.abortAfterBytes)
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
    return { ok: false, events, error: { name: err?.name ?? 'unknown', message: err?.message ?? String(e) } };
  }
}

async function modelDir(id: string): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return (await root.getDirectoryHandle(CACHE_DIR)).getDirectoryHandle(modelDirName(id));
}

/** Flips `count` bytes of a cached file at `offset` (same size, different content). */
async function corruptCachedFile(id: string, file: string, offset: number, count = 16): Promise<void> {
  const handle = await (await modelDir(id)).getFileHandle(dataFileName(file));
  const bytes = new Uint8Array(await (await handle.getFile()).slice(offset, offset + count).arrayBuffer());
  const w = await handle.createWritable({ keepExistingData: true });
  await w.seek(offset);
  await w.write(bytes.map((b) => b ^ 0xff));
  await w.close();
}

async function cachedFileSize(id: string, file: string): Promise<number | null> {
  try {
    return (await (await (await modelDir(id)).getFileHandle(dataFileName(file))).getFile()).size;
  } catch {
    return null;
  }
}

async function clearCache(): Promise<void> {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(CACHE_DIR, { recursive: true }).catch(() => {});
}

const api = {
  load,
  listCachedModels,
  deleteCachedModel,
  corruptCachedFile,
  cachedFileSize,
  clearCache,
  uncaught: () => [...uncaught],
};

declare global {
  interface Window {
    weightsTest: typeof api;
  }
}

window.weightsTest = api;
document.title = 'weights-test ready';
