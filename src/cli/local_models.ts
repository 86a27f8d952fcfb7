// A local model folder given to the CLI (`run`, `check`, `download --model ./folder`) is served by a
// Range-capable static server of its own (static_server.ts): HEAD answers from the file's size and a
// Range GET streams only the bytes asked for. (Vite's /@fs/ read whole multi-GB shards to answer a HEAD,
// which stalled the loader's 30 s watchdog.) The server lives as long as the browser page.
//
// The page caches what it loads by URL (OPFS, so `download` then `run` reuse one copy, and a q4 load of
// a bf16 folder converts once, as for the Hub). A folder retrained in place keeps its file names and
// usually its sizes, so the URL carries the folder's version: a hash of every file's name, size and
// mtime. A changed file gives a new URL, so a new cache id and a fresh read of the folder; the old URL
// stops answering (the server recomputes the version per request) and the page drops the copies cached
// under older versions of the same folder (pages/local_cache.ts), so a retrain never leaves stale
// weights in use or a second copy on disk.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KimiVLError } from '../errors.ts';
import { looksLikeLocalPath } from './args.ts';
import type { BrowserSession } from './browser.ts';
import { createStaticServer, listen } from './static_server.ts';

function fnv1a(text: string): string {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * A port derived from the folder's path, so the same folder gets the same URL, and so the same browser
 * cache id, from one run to the next (listen() takes any free port when this one is busy).
 */
export function folderPort(path: string): number {
  return 30000 + (Number.parseInt(fnv1a(path), 16) % 20000);
}

/** The folder's identity in URLs (its absolute path, hashed). */
export const folderKey = (path: string): string => fnv1a(resolve(path));

/** The folder's version: every file's name, size and mtime (ms), hashed; any change gives another. */
export function folderVersion(path: string): string {
  const sig = readdirSync(path)
    .sort()
    .flatMap((name) => {
      const st = statSync(join(path, name));
      return st.isFile() ? [`${name}:${st.size}:${st.mtimeMs}`] : [];
    })
    .join('|');
  return fnv1a(sig);
}

/** The URL path a folder is served under: /local/<folder key>/v-<version>/ (see the header). */
export const folderUrlPath = (path: string): string => `/local/${folderKey(path)}/v-${folderVersion(path)}/`;

/** Serves `folder` on 127.0.0.1 until the session's page closes; resolves with the folder's URL. */
export async function serveFolder(folder: string, s: BrowserSession): Promise<string> {
  const dir = resolve(folder);
  const server = createStaticServer(dir, { dir, prefix: () => folderUrlPath(dir) });
  const port = await listen(server, folderPort(dir));
  server.unref();
  s.page.once('close', () => server.close());
  return `http://127.0.0.1:${port}${folderUrlPath(dir)}`;
}

/** A local folder becomes a served URL; repo ids and URLs pass through. */
export async function modelArg(value: string, s: BrowserSession): Promise<string> {
  const path = resolve(value);
  if (!existsSync(path)) {
    // Name the missing folder itself, not the URL a browser would make of "./models/x".
    if (looksLikeLocalPath(value))
      throw new KimiVLError('ConfigError', `model folder ${path} does not exist`);
    return value;
  }
  if (!statSync(path).isDirectory())
    throw new KimiVLError('ConfigError', `${value} must be a model folder (config.json, shards, …)`);
  return serveFolder(path, s);
}
