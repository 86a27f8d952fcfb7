// Test page for the browser weights loader: exposes `window.weightsTest` for e2e/weights*.spec.ts.
// `load` runs on the main thread (writable streams); `loadInWorker` runs the same driver in a
// dedicated worker, where the cache writes through sync access handles.
import {
  CACHE_DIR,
  dataFileName,
  deleteCachedModel,
  listCachedModels,
  ModelCacheEntry,
  modelDirName,
} from '../../src/weights/cache.ts';
import { cacheIoStats } from '../../src/weights/file_hasher.ts';
import { hasherKind } from '../../src/weights/hasher.ts';
import { type LoadReport, type LoadRequest, load } from './weights-load.ts';

export type { LoadReport, LoadRequest, WeightSummary } from './weights-load.ts';

const uncaught: string[] = [];
addEventListener('error', (e) => uncaught.push(`error: ${e.message}`));
addEventListener('unhandledrejection', (e) =>
  uncaught.push(`unhandledrejection: ${String(e.reason?.message ?? e.reason)}`),
);

function loadInWorker(req: LoadRequest): Promise<LoadReport> {
  const worker = new Worker(new URL('./weights-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<LoadReport>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<LoadReport>) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
    worker.postMessage(req);
  }).finally(() => worker.terminate());
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

/** The cache's read/hash counters (file_hasher.ts) as plain JSON. */
function ioStats() {
  return {
    fullPassBytes: cacheIoStats.fullPassBytes,
    readHashedBytes: cacheIoStats.readHashedBytes,
    readBytes: Object.fromEntries(cacheIoStats.readBytes),
  };
}

/** Makes a cached model's metadata look a day old, so the next load revalidates it. */
async function ageMetadata(id: string): Promise<void> {
  const entry = await ModelCacheEntry.find(id);
  if (!entry) throw new Error(`${id} is not cached`);
  entry.record.metadataCheckedAt = 0;
  await entry.saveRecord();
}

const api = {
  load,
  ageMetadata,
  ioStats,
  hasherKind,
  resetIoStats: () => cacheIoStats.reset(),
  loadInWorker,
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
