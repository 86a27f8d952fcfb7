// The installed CLI's web server (no Vite at runtime): the prebuilt harness page (dist/harness/) at /,
// and any local file at /@fs/<absolute path>, the URL form Vite's dev server uses in the repository, so
// the page code is the same either way. Byte ranges (the weight loader reads shards by range), no
// fallback page (a missing file is a 404, which the loader's optional-file probes rely on), CORS open.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.txt': 'text/plain; charset=utf-8',
};

/** The URL path under which an absolute local path is served (Windows drive paths included). */
export function fsUrlPath(absPath: string): string {
  const p = absPath.replaceAll('\\', '/');
  return `/@fs${p.startsWith('/') ? '' : '/'}${p.split('/').map(encodeURIComponent).join('/')}`;
}

function localPath(urlPath: string, pageDir: string): string | null {
  const path = decodeURIComponent(urlPath);
  if (path.startsWith('/@fs/')) {
    const rest = path.slice('/@fs'.length);
    return normalize(/^\/[A-Za-z]:\//.test(rest) ? rest.slice(1) : rest);
  }
  const file = resolve(pageDir, `.${path === '/' ? '/harness.html' : path}`);
  return file === pageDir || file.startsWith(pageDir + sep) ? file : null;
}

/**
 * Serves one folder at a URL prefix only (a local model folder, local_models.ts): `/<prefix>/<file>` is
 * `<dir>/<file>`, nothing outside `dir` and no /@fs/ path is reachable. `prefix` may be recomputed per
 * request (`() => string`), so a URL naming an older version of the folder stops answering.
 */
export interface FolderMount {
  prefix: () => string;
  dir: string;
}

function mountedPath(urlPath: string, m: FolderMount): string | null {
  const path = decodeURIComponent(urlPath);
  const prefix = m.prefix();
  if (!path.startsWith(prefix)) return null;
  const dir = resolve(m.dir);
  const file = resolve(dir, `.${path.slice(prefix.length - 1)}`);
  return file.startsWith(dir + sep) ? file : null;
}

export function createStaticServer(pageDir: string, mount?: FolderMount): Server {
  const root = resolve(pageDir);
  return createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Headers', '*');
      res.writeHead(204).end();
      return;
    }
    const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
    const file = mount ? mountedPath(urlPath, mount) : localPath(urlPath, root);
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const size = statSync(file).size;
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    if (range) {
      start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end || start >= size) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
    }
    const headers = {
      'Content-Type': type,
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-cache',
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    };
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') res.end();
    else if (size === 0) res.end();
    else createReadStream(file, { start, end }).pipe(res);
  });
}

/** Listens on 127.0.0.1:`port`, or on a free port when that one is taken; resolves with the port used. */
export function listen(server: Server, port: number): Promise<number> {
  const attempt = (p: number) =>
    new Promise<number>((ok, fail) => {
      const onError = (e: Error) => fail(e);
      server.once('error', onError);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', onError);
        const addr = server.address();
        ok(typeof addr === 'object' && addr ? addr.port : p);
      });
    });
  return attempt(port).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EADDRINUSE') throw e;
    return attempt(0);
  });
}
