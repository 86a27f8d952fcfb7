// A local model folder given to the CLI (`run`, `check`, `download --model ./folder`) is served by a
// Range-capable static server of its own (static_server.ts): HEAD answers from the file's size and a
// Range GET streams only the bytes asked for. (Vite's /@fs/ read whole multi-GB shards to answer a HEAD,
// which stalled the loader's 30 s watchdog.) The server lives as long as the browser page.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KimiVLError } from '../errors.ts';
import { looksLikeLocalPath } from './args.ts';
import type { BrowserSession } from './browser.ts';
import { createStaticServer, fsUrlPath, listen } from './static_server.ts';

/**
 * A port derived from the folder's path, so the same folder gets the same URL, and so the same browser
 * cache id, from one run to the next (listen() takes any free port when this one is busy).
 */
export function folderPort(path: string): number {
  let h = 2166136261;
  for (const c of path) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return 30000 + (h % 20000);
}

/** Serves `folder` on 127.0.0.1 until the session's page closes; resolves with the folder's URL. */
export async function serveFolder(folder: string, s: BrowserSession): Promise<string> {
  const server = createStaticServer(folder);
  const port = await listen(server, folderPort(resolve(folder)));
  server.unref();
  s.page.once('close', () => server.close());
  return `http://127.0.0.1:${port}${fsUrlPath(resolve(folder))}/`;
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
