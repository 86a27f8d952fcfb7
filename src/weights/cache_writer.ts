// Streaming writes into a cached OPFS file, by the best means the context offers (see below).

/** Sequential writer of one cached file, starting at `offset` (earlier bytes kept, later ones cut). */
export interface CacheFileWriter {
  readonly kind: 'sync-access-handle' | 'writable-stream';
  write(bytes: Uint8Array): Promise<void>;
  /** Makes everything written durable and releases the file. */
  close(): Promise<void>;
}

/** Bytes between durability points of a sync access handle (a crash loses at most this much). */
const FLUSH_EVERY = 16 << 20;

interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/**
 * In a dedicated worker, a sync access handle writes in place and `flush()` makes the prefix durable,
 * so even a killed tab keeps its partial download. On the main thread only the writable stream exists;
 * it writes to a swap file committed on close() — done on every error and abort, so only a crash
 * mid-file loses that session's bytes of the file.
 */
export async function openCacheFileWriter(
  handle: FileSystemFileHandle,
  offset: number,
): Promise<CacheFileWriter> {
  const createSync = (handle as unknown as { createSyncAccessHandle?: () => Promise<SyncAccessHandle> })
    .createSyncAccessHandle;
  if (typeof createSync === 'function') {
    const h = await createSync.call(handle);
    h.truncate(offset);
    let at = offset;
    let unflushed = 0;
    return {
      kind: 'sync-access-handle',
      async write(bytes) {
        let done = 0;
        while (done < bytes.byteLength) done += h.write(bytes.subarray(done), { at: at + done });
        at += bytes.byteLength;
        unflushed += bytes.byteLength;
        if (unflushed >= FLUSH_EVERY) {
          h.flush();
          unflushed = 0;
        }
      },
      async close() {
        try {
          h.flush();
        } finally {
          h.close();
        }
      },
    };
  }
  const w = await handle.createWritable({ keepExistingData: offset > 0 });
  if (offset > 0) {
    await w.truncate(offset);
    await w.seek(offset);
  }
  return {
    kind: 'writable-stream',
    write: (bytes) => w.write(bytes as Uint8Array<ArrayBuffer>),
    close: () => w.close(),
  };
}

/**
 * Overwrites `bytes` at `offset` of an existing file, keeping the rest (a corrupt segment repaired in
 * place, cache_read.ts). The main thread's writable stream copies the file to a swap file first, which
 * is slow for gigabytes but rare; a worker writes in place.
 */
export async function writeAt(
  handle: FileSystemFileHandle,
  offset: number,
  bytes: Uint8Array,
): Promise<void> {
  const createSync = (handle as unknown as { createSyncAccessHandle?: () => Promise<SyncAccessHandle> })
    .createSyncAccessHandle;
  if (typeof createSync === 'function') {
    const h = await createSync.call(handle);
    try {
      let done = 0;
      while (done < bytes.byteLength) done += h.write(bytes.subarray(done), { at: offset + done });
      h.flush();
    } finally {
      h.close();
    }
    return;
  }
  const w = await handle.createWritable({ keepExistingData: true });
  try {
    await w.seek(offset);
    await w.write(bytes as Uint8Array<ArrayBuffer>);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    throw e;
  }
}
