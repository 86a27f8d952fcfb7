// Starts the engine worker for the drop-in script build. The worker's code is inlined into kimi-vl.js and
// started from a blob: URL, because a page cannot start a worker from another origin (the CDN case).
// Pages with a Content-Security-Policy must allow `worker-src blob:`; no `unsafe-eval` is needed.
import InlineWorker from '../worker/worker.ts?worker&inline';

export function startEngineWorker(): Worker {
  return new InlineWorker({ name: 'kimi-vl-engine' });
}
