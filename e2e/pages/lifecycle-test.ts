// Page helpers for e2e/attack-lifecycle.spec.ts: the public API plus timing of how each call settles.
import { KimiVL } from '../../src/index.ts';

type LoadOptions = NonNullable<Parameters<typeof KimiVL.load>[1]>;

/** How a call ended: 'resolved' or the error's name, and after how long. */
export interface Settled {
  outcome: string;
  ms: number;
  message?: string;
}

const MODEL = '/models/kimi-vl-tiny/';

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
    (e: Error) => ({ outcome: e?.name ?? String(e), ms: performance.now() - t0, message: e?.message }),
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

function load(opts: LoadOptions = {}): Promise<KimiVL> {
  return KimiVL.load(MODEL, { contextBudget: 2048, ...opts });
}

/** Greedy ids of a generateFromIds run (no stop), with its done event. */
async function greedyIds(engine: KimiVL, ids: number[], maxTokens: number, onToken?: (n: number) => unknown) {
  const tokens: number[] = [];
  const stream = engine.generateFromIds(ids, {
    temperature: 0,
    maxTokens,
    tokenEvents: true,
    ignoreStop: true,
  });
  for await (const e of stream)
    if (e.type === 'token') {
      tokens.push(e.id);
      await onToken?.(tokens.length);
    }
  return { tokens, done: await stream.result };
}

/** A normal load + chat right after an attack: what every row checks last. */
async function healthy(
  opts: LoadOptions = {},
): Promise<{ mode: string; completion: number; finish: string }> {
  const engine = await load(opts);
  try {
    const done = await engine.chat([{ role: 'user', content: 'hello' }], {
      temperature: 0,
      maxTokens: 3,
      ignoreStop: true,
    }).result;
    return { mode: engine.mode, completion: done.usage.completionTokens, finish: done.finishReason };
  } finally {
    await engine.unload();
  }
}

const lifecycle = { KimiVL, settle, load, greedyIds, healthy };
export type Lifecycle = typeof lifecycle;
Object.assign(globalThis, { lifecycle });
