// Starts the engine worker for the ES-module build: the worker is a sibling chunk of this module.
export function startEngineWorker(): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), {
    type: 'module',
    name: 'kimi-vl-engine',
  });
}
