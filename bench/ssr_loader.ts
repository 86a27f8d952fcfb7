// Node scripts that run engine code (bench/count_run.ts, bench/dawn_run.ts, scripts/replay_host_time.ts)
// load it through Vite's SSR module loader, so the kernels' WGSL `?raw` imports resolve as in the browser.
// SSR only: no browser dependency scan of the whole repo, no watcher, no HMR.
import { createServer } from 'vite';

/** Runs `fn` with a loader of repo modules (paths from the repo root, e.g. '/bench/sections.ts'). */
export async function withSsrLoader<T>(
  root: string,
  fn: (load: <M>(path: string) => Promise<M>) => Promise<T>,
): Promise<T> {
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    appType: 'custom',
    optimizeDeps: { noDiscovery: true, entries: [] },
    server: { middlewareMode: true, hmr: false, watch: null },
  });
  try {
    return await fn(<M>(path: string) => server.ssrLoadModule(path) as Promise<M>);
  } finally {
    await server.close();
  }
}
