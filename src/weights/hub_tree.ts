// What the Hugging Face Hub vouches for: every file's size, and the sha256 of each LFS file, from the
// repo's tree listing, `GET {hub}/api/models/{repo}/tree/{rev}?recursive=1` (one CORS request; what
// @huggingface/hub's listFiles wraps). The X-Linked-Etag / X-Linked-Size headers that a HEAD of
// `resolve/` carries sit on the 302 to the CDN, which a browser fetch follows invisibly (a HEAD from a
// page sees the CDN's headers), so the listing is the only place a page can learn the sha256s. It also
// says which optional files exist, so a load need not probe for them (no 404 noise).
// Sources that are not Hub repos (plain folders) have no listing: their files are sized by HEAD.
import { KimiVLError } from '../errors.ts';
import { log } from '../log.ts';
import { AttemptControl, fetchChecked, type TransportOptions } from './fetch_http.ts';
import { DEFAULT_HUB_URL } from './source.ts';

export interface HubFile {
  size: number;
  /** sha256 of the content for LFS files (lfs.oid), null for small git-stored files. */
  sha256: string | null;
}

export interface HubRepoRef {
  repo: string;
  revision: string;
  hubUrl: string;
}

/** The repo behind a cache id "hf:org/name@rev" or "hf:org/name@rev via <hub>" (source.ts), else null. */
export function hubRepoOf(id: string): HubRepoRef | null {
  const m = /^hf:([^@\s]+)@(.+?)(?: via (\S+))?$/.exec(id);
  if (!m) return null;
  return { repo: m[1]!, revision: m[2]!, hubUrl: (m[3] ?? DEFAULT_HUB_URL).replace(/\/+$/, '') };
}

export function hubTreeUrl(r: HubRepoRef): string {
  return `${r.hubUrl}/api/models/${r.repo}/tree/${encodeURIComponent(r.revision)}?recursive=1`;
}

interface TreeItem {
  type?: unknown;
  path?: unknown;
  size?: unknown;
  lfs?: { oid?: unknown; size?: unknown } | null;
}

/** Parses one page of the listing; throws a DownloadError for anything that is not one. */
export function parseHubTree(json: unknown, into = new Map<string, HubFile>()): Map<string, HubFile> {
  if (!Array.isArray(json))
    throw new KimiVLError('DownloadError', 'the Hub tree listing is not a JSON array of files');
  for (const raw of json as TreeItem[]) {
    if (raw?.type !== 'file' || typeof raw.path !== 'string') continue;
    const lfsSize = raw.lfs?.size;
    const size = typeof lfsSize === 'number' ? lfsSize : raw.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) continue;
    const oid = typeof raw.lfs?.oid === 'string' ? raw.lfs.oid.replace(/^sha256:/, '') : '';
    into.set(raw.path, { size, sha256: /^[0-9a-f]{64}$/.test(oid) ? oid : null });
  }
  return into;
}

/** `Link: <url>; rel="next"` (the listing's pagination), when the server exposes it. */
function nextPage(res: Response): string | null {
  const link = res.headers.get('link');
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  return m ? m[1]! : null;
}

/**
 * The listing of the repo behind `id`, or null when `id` is not a Hub repo or the Hub does not answer
 * with one (an older mirror, a private repo without a token): the load then falls back to HEAD
 * requests. An abort is rethrown.
 */
export async function fetchHubTree(id: string, opts: TransportOptions): Promise<Map<string, HubFile> | null> {
  const ref = hubRepoOf(id);
  if (!ref) return null;
  const files = new Map<string, HubFile>();
  let url: string | null = hubTreeUrl(ref);
  for (let page = 0; url && page < 100; page++) {
    const ctl = new AttemptControl(opts.signal, opts.stallTimeoutMs);
    try {
      const res = await fetchChecked(url, {}, ctl, opts.fetchImpl);
      parseHubTree(await res.json(), files);
      url = nextPage(res);
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      log.warn(
        `kimi-vl-web: no file listing from ${ref.hubUrl} for ${ref.repo}@${ref.revision} ` +
          `(${(e as Error)?.message ?? e}); sizes come from HEAD requests and sha256s are not checked.`,
      );
      return null;
    } finally {
      ctl.dispose();
    }
  }
  return files;
}
