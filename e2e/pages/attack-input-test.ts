// Page helpers for e2e/attack-input.spec.ts: the public API, and how (and how fast) each call settles.
import { deleteCachedModel, isKimiVLError, KimiVL, KimiVLError } from '../../src/index.ts';

/** How a call ended: 'resolved' or the error's name (typed: whether isKimiVLError says it is ours). */
export interface Settled {
  outcome: string;
  ms: number;
  typed?: boolean;
  message?: string;
}

export const MODEL = '/models/kimi-vl-tiny/';

/** Waits for `p` at most `boundMs` (then outcome 'unsettled'), timing it from now. */
async function settle(p: Promise<unknown> | (() => unknown), boundMs = 20_000): Promise<Settled> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<Settled>((r) => {
    timer = setTimeout(() => r({ outcome: 'unsettled', ms: boundMs }), boundMs);
  });
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  const settled = run.then(
    () => ({ outcome: 'resolved', ms: performance.now() - t0 }),
    (e: Error) => ({
      outcome: e?.name ?? String(e),
      ms: performance.now() - t0,
      typed: isKimiVLError(e) && e instanceof KimiVLError,
      message: e?.message,
    }),
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A normal load + a 3-token greedy chat, then unload: the engine (and page) still work. */
async function healthy(): Promise<{ completion: number; finish: string }> {
  const engine = await KimiVL.load(MODEL, { contextBudget: 256 });
  try {
    const done = await engine.chat([{ role: 'user', content: 'hello' }], {
      maxTokens: 3,
      temperature: 0,
      ignoreStop: true,
    }).result;
    return { completion: done.usage.completionTokens, finish: done.finishReason };
  } finally {
    await engine.unload();
  }
}

async function bytesOf(url: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

export const attack = {
  KimiVL,
  KimiVLError,
  isKimiVLError,
  deleteCachedModel,
  settle,
  healthy,
  bytesOf,
  MODEL,
};
export type Attack = typeof attack;

Object.assign(globalThis, { attack });
