// Starts the engine worker in the repository's own builds (dev server, demo, tests): Vite bundles
// ../worker/worker.ts as a worker chunk. The npm library build swaps this module for
// worker_factory_lib.ts, the drop-in script build for worker_factory_inline.ts (vite.config.ts).
export function startEngineWorker(): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), {
    type: 'module',
    name: 'kimi-vl-engine',
  });
}
