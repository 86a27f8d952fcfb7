// Starts the engine worker in the npm library build (dist/lib/): the worker is the package's own
// `kimi-vl-web/worker` entry, dist/lib/worker.js, beside this file. The call must reach the user's
// bundler as the literal `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })`, the
// one form Vite, webpack 5, Rollup/Parcel plugins and esbuild plugins all recognise and emit; so the
// library build writes it in place of KIMI_VL_WORKER_URL after Vite's own worker handling has run
// (vite.config.ts, plugin kimi-vl:worker-url). Resolving relative to this file keeps it right under any base.
declare const KIMI_VL_WORKER_URL: URL;

export function startEngineWorker(): Worker {
  return new Worker(KIMI_VL_WORKER_URL, { type: 'module', name: 'kimi-vl-engine' });
}
