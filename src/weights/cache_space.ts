// Words a real out-of-space failure (the browser's QuotaExceededError while writing) for the user:
// how much more the load needs, what is already kept for a resume, and which cached models could be
// deleted to make room. The estimate is not trusted for this (cache_quota.ts); the failure is real.
import { isKimiVLError, KimiVLError } from '../errors.ts';
import { listCachedModels } from './cache.ts';
import { formatBytes } from './summary.ts';

export interface Shortfall {
  /** The cache entry being written. */
  id: string;
  /** Bytes still to write to finish the load (download + converted copy), as planned. */
  stillNeeded: number;
  /** Bytes of this entry already on disk (kept as a resumable partial). */
  kept: number;
}

/** The QuotaError to throw for `e` (a QuotaError from a write), with the shortfall spelled out. */
export async function quotaShortfallError(e: unknown, s: Shortfall): Promise<KimiVLError> {
  if (!isKimiVLError(e, 'QuotaError')) return e as KimiVLError;
  let others: string[] = [];
  try {
    others = (await listCachedModels())
      .filter((m) => m.id !== s.id && !m.id.startsWith(`${s.id}#`) && m.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes)
      .map((m) => `${m.id} (${formatBytes(m.bytes)}${m.complete ? '' : ', partial'})`);
  } catch {
    // listing is a courtesy; the shortfall itself is the message
  }
  const deletable =
    others.length > 0
      ? ` Cached models that could be deleted with deleteCachedModel(id): ${others.join(', ')}.`
      : ' No other cached model could be deleted; free disk space or allow the site more storage.';
  return new KimiVLError(
    'QuotaError',
    `The browser's storage is full: ${formatBytes(s.stillNeeded)} more is needed to finish ${s.id} ` +
      `(${formatBytes(s.kept)} already written is kept, and the next load resumes from it).${deletable}`,
    { cause: (e as KimiVLError).cause ?? e },
  );
}
