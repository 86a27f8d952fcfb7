// Starts the engine's Web Worker and proves it answers before the model load begins. A worker that does
// not start is never papered over: by default (`requireWorker`) the load fails with a WorkerStartError
// saying why (the usual cause is a bundler that did not emit the worker file, so the page's HTML came
// back instead of the script); `requireWorker: false` runs the engine on the page's thread, with a warning.
import * as Comlink from 'comlink';
import { KimiVLError } from '../errors.ts';
import { log } from '../log.ts';
import type { EngineApi } from '../worker/engine.ts';
import { startEngineWorker } from './worker_factory.ts';

export interface WorkerOptions {
  /**
   * The engine's worker, made by the caller (so the caller's bundler sees and emits it):
   * `new Worker(new URL('kimi-vl-web/worker', import.meta.url), { type: 'module' })`, or a function
   * that makes one. Default: the worker file that ships beside the library.
   */
  worker?: Worker | (() => Worker);
  /**
   * Fail the load with a WorkerStartError when the worker cannot start (default true). With false the
   * engine runs on the page's thread instead, and a console warning says why.
   */
  requireWorker?: boolean;
  /** Run the engine on the page's thread on purpose (no worker is started). */
  inThread?: boolean;
}

export interface StartedWorker {
  worker: Worker;
  remote: Comlink.Remote<EngineApi>;
}

const HINT =
  "pass your own with KimiVL.load(model, { worker: new Worker(new URL('kimi-vl-web/worker', import.meta.url), " +
  "{ type: 'module' }) }), or { inThread: true } to run on the page's thread";

/** Starts the worker unless told to run in-thread; null means "run the engine on this thread". */
export async function startEngine(opts: WorkerOptions, timeoutMs = 15_000): Promise<StartedWorker | null> {
  if (opts.inThread) return null;
  try {
    return await startAndPing(opts.worker, timeoutMs);
  } catch (e) {
    const err =
      e instanceof KimiVLError
        ? e
        : new KimiVLError('WorkerStartError', `${(e as Error).message}`, { cause: e });
    if (opts.requireWorker ?? true) throw err;
    log.warn(`kimi-vl-web: running the engine on the page's thread: ${err.message}`);
    return null;
  }
}

async function startAndPing(given: WorkerOptions['worker'], timeoutMs: number): Promise<StartedWorker> {
  if (!given && typeof Worker === 'undefined')
    throw new KimiVLError(
      'WorkerStartError',
      'this environment has no Web Worker (e.g. Node): pass { inThread: true } to run the engine on this thread',
    );
  let worker: Worker;
  try {
    worker = typeof given === 'function' ? given() : (given ?? startEngineWorker());
  } catch (e) {
    // A Content-Security-Policy without worker-src (or a cross-origin worker URL) throws here.
    throw new KimiVLError(
      'WorkerStartError',
      `the engine worker could not be created (${reason(e)}); ${HINT}`,
      {
        cause: e,
      },
    );
  }
  const remote = Comlink.wrap<EngineApi>(worker);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`did not answer within ${Math.round(timeoutMs / 1000)} s`)),
        timeoutMs,
      );
      worker.addEventListener('error', (ev) => {
        clearTimeout(timer);
        ev.preventDefault?.();
        reject(new Error((ev as ErrorEvent).message || 'its script failed to load or threw'));
      });
      remote.ping().then(() => {
        clearTimeout(timer);
        resolve();
      }, reject);
    });
  } catch (e) {
    worker.terminate();
    const why = given
      ? ''
      : " (the usual cause: the app's bundler did not emit kimi-vl-web's worker file, and the server answered its URL with the app's HTML)";
    throw new KimiVLError(
      'WorkerStartError',
      `the engine worker failed to start: ${reason(e)}${why}; ${HINT}`,
      {
        cause: e,
      },
    );
  }
  return { worker, remote };
}

function reason(e: unknown): string {
  return e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
}
