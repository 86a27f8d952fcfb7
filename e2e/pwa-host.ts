// A static host for the built demo (dist/demo) as a single-page-app host serves it: every path that is
// not a file answers index.html with status 200 (the "SPA fallback" of Netlify, Vercel, `vite
// preview`), byte ranges answered 206. The loader must tell such an HTML answer from an optional file.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.md': 'text/markdown',
};

export interface StaticHost {
  url: string;
  /** Requests seen, in order ("GET /path"). */
  log: string[];
  /** Serves another folder from now on (a new deploy). */
  swap(root: string): void;
  close(): Promise<void>;
}

export async function startStaticHost(initialRoot: string): Promise<StaticHost> {
  let root = initialRoot;
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    log.push(`${req.method} ${path}`);
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) file = join(root, 'index.html'); // the SPA fallback
    const size = statSync(file).size;
    const headers: Record<string, string | number> = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      res.writeHead(206, {
        ...headers,
        'content-range': `bytes ${start}-${end}/${size}`,
        'content-length': end - start + 1,
      });
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://localhost:${port}`,
    log,
    swap: (r) => {
      root = r;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
