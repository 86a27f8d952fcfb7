// The Engine's lifecycle on the CPU reference with the bundled tiny model: unload cancels the running
// request within a token and the queued ones (AbortError) and every later call settles with a typed
// error; an abort during a long prefill lands after one slice and the next turn reuses the slices; a
// device loss mid-stream, mid-prefill or while idle is recovered (autoRecover) with the greedy tokens of
// an uninterrupted run, or is a DeviceLostError without autoRecover.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../generate/events.ts';
import { DEFAULT_PREFILL_CHUNK } from '../generate/prefill.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO } from '../golden/node_io.ts';
import { readCase } from '../golden/reader.ts';
import { Engine, type EngineEvent, type EngineLoadOptions } from './engine.ts';

const MODEL = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;
const golden = await readCase(nodeGoldenIO, `${GOLDEN_ROOT}/cases/a-text-only`);
const files = () =>
  readdirSync(MODEL)
    .filter((n) => n !== 'README.md')
    .map((n) => new File([readFileSync(MODEL + n)], n));

let nextId = 1;
async function loaded(opts: EngineLoadOptions = {}): Promise<{ engine: Engine; events: EngineEvent[] }> {
  const engine = new Engine();
  await engine.load(nextId++, { files: files() }, { backend: 'ref', contextBudget: 1024, ...opts });
  const events: EngineEvent[] = [];
  engine.watch((e) => void events.push(e));
  return { engine, events };
}

const greedy = { temperature: 0, tokenEvents: true, ignoreStop: true } as const;
const tokenIds = (events: ChatEvent[]) => events.flatMap((e) => (e.type === 'token' ? [e.id] : []));

/** Settles within `ms` or fails the test with "did not settle". */
async function settles<T>(p: Promise<T>, ms = 5000): Promise<{ ok: T } | { error: { name: string } }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return { ok: await Promise.race([p, timeout]) };
  } catch (e) {
    if ((e as Error).message?.startsWith('did not settle')) throw e;
    return { error: { name: (e as Error).name } };
  } finally {
    clearTimeout(timer);
  }
}

describe('Engine unload', () => {
  it('cancels the running request within a token and the queued ones; later calls are typed errors', async () => {
    const { engine } = await loaded();
    const seen: ChatEvent[] = [];
    let unloading: Promise<void> | null = null;
    const running = engine.generateFromIds(nextId++, golden.inputIds, { ...greedy, maxTokens: 200 }, (e) => {
      seen.push(e);
      if (tokenIds(seen).length === 3) unloading ??= engine.unload();
    });
    const queued = engine.generateFromIds(nextId++, golden.inputIds, { ...greedy, maxTokens: 5 }, () => {});
    expect(await settles(running)).toEqual({ error: { name: 'AbortError' } });
    expect(await settles(queued)).toEqual({ error: { name: 'AbortError' } });
    expect(tokenIds(seen).length).toBeLessThanOrEqual(4);
    expect(await settles(unloading!)).toEqual({ ok: undefined });
    expect(engine.modelInfo()).toBeNull();
    // After unload: every call settles.
    expect(await settles(engine.generateFromIds(nextId++, [1, 2], {}, () => {}))).toEqual({
      error: { name: 'EngineStateError' },
    });
    expect(await settles(engine.chat(nextId++, [{ role: 'user', content: 'x' }], {}, () => {}))).toEqual({
      error: { name: 'EngineStateError' },
    });
    expect(await settles(engine.unload())).toEqual({ ok: undefined });
    expect(await settles(Promise.all([engine.unload(), engine.unload()]))).toEqual({
      ok: [undefined, undefined],
    });
  });

  it('an abort during a long prefill lands after one slice; the next turn reuses the slice', async () => {
    const { engine } = await loaded();
    const ids = Array.from({ length: 2 * DEFAULT_PREFILL_CHUNK + 100 }, (_, i) => 10 + (i % 400));
    const id = nextId++;
    const run = engine.generateFromIds(id, ids, { ...greedy, maxTokens: 2 }, () => {});
    setTimeout(() => engine.cancel(id), 0); // arrives at the first yield: after slice one
    const done = await run;
    expect(done.finishReason).toBe('abort');
    expect(done.usage.completionTokens).toBe(0);
    const next = await engine.generateFromIds(nextId++, ids, { ...greedy, maxTokens: 2 }, () => {});
    expect(next.usage.cachedPromptTokens).toBe(DEFAULT_PREFILL_CHUNK);
    expect(next.finishReason).toBe('length');
    await engine.unload();
  });
});

describe('Engine device loss (simulated on the reference backend)', () => {
  const n = golden.expected.newTokens.length;

  it('mid-stream with autoRecover: the stream goes on with the uninterrupted greedy tokens', async () => {
    const { engine, events } = await loaded();
    const seen: ChatEvent[] = [];
    const done = await engine.generateFromIds(nextId++, golden.inputIds, { ...greedy, maxTokens: n }, (e) => {
      seen.push(e);
      if (e.type === 'token' && tokenIds(seen).length === 3) void engine.loseDeviceForTest();
    });
    expect(tokenIds(seen)).toEqual(golden.expected.newTokens);
    expect(done.usage.completionTokens).toBe(n);
    expect(events.map((e) => [e.type, e.during])).toEqual([['recovered', 'request']]);
    expect(events[0]!.reason).toMatch(/device was lost/);
    await engine.unload();
  });

  it('mid-prefill with autoRecover: the answer equals the uninterrupted one', async () => {
    const { engine, events } = await loaded();
    await engine.loseDeviceForTest({ afterKernelCalls: 4 }); // inside the prompt's forward pass
    const seen: ChatEvent[] = [];
    await engine.generateFromIds(
      nextId++,
      golden.inputIds,
      { ...greedy, maxTokens: n },
      (e) => void seen.push(e),
    );
    expect(tokenIds(seen)).toEqual(golden.expected.newTokens);
    expect(events.map((e) => e.during)).toEqual(['request']);
    await engine.unload();
  });

  it('idle with autoRecover: the conversation goes on from the rebuilt cache with the same tokens', async () => {
    const turn = (e: Engine, content: string, history: { role: 'user' | 'assistant'; content: string }[]) => {
      const seen: ChatEvent[] = [];
      const messages = [...history, { role: 'user' as const, content }];
      return e
        .chat(
          nextId++,
          messages,
          { temperature: 0, maxTokens: 6, tokenEvents: true },
          (ev) => void seen.push(ev),
        )
        .then((done) => ({ done, tokens: tokenIds(seen) }));
    };
    const reference = (await loaded()).engine;
    const r1 = await turn(reference, 'hello there', []);
    const r2 = await turn(reference, 'and then?', [
      { role: 'user', content: 'hello there' },
      { role: 'assistant', content: r1.done.answer },
    ]);

    const { engine, events } = await loaded();
    const t1 = await turn(engine, 'hello there', []);
    expect(t1.tokens).toEqual(r1.tokens);
    await engine.loseDeviceForTest();
    const t2 = await turn(engine, 'and then?', [
      { role: 'user', content: 'hello there' },
      { role: 'assistant', content: t1.done.answer },
    ]);
    expect(events.map((e) => e.during)).toEqual(['idle']);
    expect(events[0]!.rebuiltTokens).toBeGreaterThan(t1.done.usage.promptTokens);
    expect(t2.tokens).toEqual(r2.tokens);
    expect(t2.done.usage.cachedPromptTokens).toBe(r2.done.usage.cachedPromptTokens);
    await engine.unload();
    await reference.unload();
  });

  it('without autoRecover: DeviceLostError mid-stream and after an idle loss; a new load works', async () => {
    const { engine, events } = await loaded({ autoRecover: false });
    let count = 0;
    const midStream = engine.generateFromIds(nextId++, golden.inputIds, { ...greedy, maxTokens: n }, (e) => {
      if (e.type === 'token' && ++count === 2) void engine.loseDeviceForTest();
    });
    expect(await settles(midStream)).toEqual({ error: { name: 'DeviceLostError' } });
    await engine.load(nextId++, { files: files() }, { backend: 'ref', autoRecover: false });
    await engine.loseDeviceForTest();
    const idle = engine.generateFromIds(nextId++, golden.inputIds, { ...greedy, maxTokens: 1 }, () => {});
    expect(await settles(idle)).toEqual({ error: { name: 'DeviceLostError' } });
    expect(events).toEqual([]);
    await engine.load(nextId++, { files: files() }, { backend: 'ref' });
    const seen: ChatEvent[] = [];
    await engine.generateFromIds(
      nextId++,
      golden.inputIds,
      { ...greedy, maxTokens: n },
      (e) => void seen.push(e),
    );
    expect(tokenIds(seen)).toEqual(golden.expected.newTokens);
    await engine.unload();
  });
});
