// Storage quota. `navigator.storage.estimate()` is advisory only: Chromium ≥ 138 reports
// usage + min(10 GiB, real quota) ("predictable reported storage quota", against fingerprinting)
// while it enforces the real quota, so a 33 GB model on a disk with 77 GB free is reported as "does
// not fit". A low estimate is therefore a warning, never a refusal; the refusal comes from the
// browser itself, as a QuotaExceededError while writing, which becomes a QuotaError (cache_space.ts
// words it with how much more is needed and what could be deleted). Persistent storage is requested
// so the browser does not evict a multi-gigabyte model under pressure.
import { KimiVLError } from '../errors.ts';
import { log } from '../log.ts';
import { formatBytes } from './summary.ts';

export interface QuotaEstimate {
  usage: number;
  quota: number;
  free: number;
}

/** What estimate() reports, or null where the context has no estimate. */
export async function storageEstimate(): Promise<QuotaEstimate | null> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (typeof storage?.estimate !== 'function') return null;
  try {
    const { quota, usage } = await storage.estimate();
    if (quota === undefined || usage === undefined) return null;
    return { usage, quota, free: quota - usage };
  } catch {
    return null;
  }
}

/**
 * Asks for persistent storage and warns (console, and the returned text) when the reported estimate
 * is below `needBytes`; never throws for the estimate: the write itself finds out for real.
 * `needBytes` excludes bytes already cached. Returns the warning, or null.
 */
export async function ensureQuota(needBytes: number, what: string): Promise<string | null> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!storage) return null;
  if (typeof storage.persist === 'function') {
    try {
      const persisted = typeof storage.persisted === 'function' ? await storage.persisted() : false;
      if (!persisted) await storage.persist();
    } catch {
      // persist() is a request; refusal (or a context without it) is not an error
    }
  }
  if (needBytes <= 0) return null;
  const est = await storageEstimate();
  if (!est || needBytes <= est.free) return null;
  const warning =
    `kimi-vl-web: ${what} needs ${formatBytes(needBytes)} of browser storage and the browser reports ` +
    `${formatBytes(est.free)} free of a ${formatBytes(est.quota)} quota. Chromium reports at most ` +
    'usage + 10 GiB whatever the disk holds, so the download goes ahead; if the disk really is full, ' +
    'writing fails with a QuotaError and what was written stays cached for a resume.';
  log.warn(warning);
  return warning;
}

/** True for the browser's own "origin is full" failure (DOMException QuotaExceededError). */
export function isQuotaExceeded(e: unknown): boolean {
  return (e as DOMException | undefined)?.name === 'QuotaExceededError';
}

/** Maps a storage write failure to QuotaError when the browser says the origin is full. */
export function quotaOrCacheError(e: unknown, what: string): KimiVLError {
  if (e instanceof KimiVLError) return e;
  if (isQuotaExceeded(e))
    return new KimiVLError(
      'QuotaError',
      `The browser's storage quota ran out while ${what}. Free space with deleteCachedModel() or allow more storage.`,
      { cause: e },
    );
  return new KimiVLError(
    'CacheError',
    `Model cache write failed while ${what} (${(e as Error)?.message ?? e}).`,
    { cause: e },
  );
}
