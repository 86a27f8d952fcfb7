// Storage quota: checked before a download starts (a clear QuotaError instead of a failure halfway
// through gigabytes), and persistent storage requested so the browser does not evict the model.
import { KimiVLError } from '../errors.ts';

/**
 * Refuses a download that cannot fit (QuotaError) and asks for persistent storage so the browser does
 * not evict a multi-gigabyte model under pressure. `needBytes` excludes bytes already cached.
 */
export async function ensureQuota(needBytes: number, what: string): Promise<void> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!storage) return;
  if (typeof storage.persist === 'function') {
    try {
      const persisted = typeof storage.persisted === 'function' ? await storage.persisted() : false;
      if (!persisted) await storage.persist();
    } catch {
      // persist() is a request; refusal (or a context without it) is not an error
    }
  }
  if (typeof storage.estimate !== 'function' || needBytes <= 0) return;
  const { quota, usage } = await storage.estimate();
  if (quota === undefined || usage === undefined) return;
  const free = quota - usage;
  if (needBytes > free)
    throw new KimiVLError(
      'QuotaError',
      `${what} needs ${formatBytes(needBytes)} of browser storage but only ${formatBytes(free)} of the ` +
        `${formatBytes(quota)} quota is free. Delete cached models (deleteCachedModel) or free disk space.`,
    );
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
