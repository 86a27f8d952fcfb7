// The one e2e web server (started by playwright.config.ts's webServer, or by hand:
// `npx tsx e2e/support/server.ts --port 4173`). It serves:
//   /__ctl/*, /__data/<session>/{shared,tmp}/*  test data with Range + fault injection (data_routes.ts)
//   everything else                             the repo root through Vite's dev middleware, so pages
//                                               such as /e2e/pages/*.html import TypeScript (and
//                                               `?raw` shaders) directly, exactly as the demo does.
// Vite runs in middleware mode with the repo's vite.config.ts when there is one, root forced to the
// repo root and ../shared allowed, so specs can also import /@fs/<shared>/... if they need to.
import { existsSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { createServer as createViteServer, type ViteDevServer } from 'vite';
import { handleControl, handleData } from './data_routes.ts';
import { E2E_PORT, E2E_TMP, REPO_ROOT, SHARED_DIR } from './env.ts';

function portArg(): number {
  const i = process.argv.indexOf('--port');
  return i >= 0 ? Number(process.argv[i + 1]) : E2E_PORT;
}

async function main(): Promise<void> {
  mkdirSync(E2E_TMP, { recursive: true });
  const configFile = existsSync(join(REPO_ROOT, 'vite.config.ts'))
    ? join(REPO_ROOT, 'vite.config.ts')
    : false;
  const mounts = { shared: SHARED_DIR, tmp: E2E_TMP };
  let vite: ViteDevServer | null = null;
  const server = createHttpServer(async (req, res) => {
    try {
      if (await handleControl(req, res)) return;
      if (await handleData(req, res, mounts)) return;
      vite!.middlewares(req, res, () => {
        res.statusCode = 404;
        res.end('not found');
      });
    } catch (e) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    }
  });
  vite = await createViteServer({
    configFile,
    root: REPO_ROOT,
    appType: 'mpa',
    logLevel: 'warn',
    // HMR's WebSocket rides on this server (not Vite's default port 24678, where another project's
    // dev server may be listening and would drive our pages), so a page only reloads when a file it
    // imports changes.
    server: { middlewareMode: true, ws: { server }, fs: { allow: [REPO_ROOT, SHARED_DIR, E2E_TMP] } },
  });
  const port = portArg();
  server.listen(port, () =>
    console.log(`kimi-vl e2e server on http://localhost:${port} (shared: ${SHARED_DIR})`),
  );
  const stop = async () => {
    server.close();
    await vite?.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
