// Every public call settles (in-thread, reference backend, bundled tiny model): unload cancels the
// running request (AbortError) within a token, and after it each call rejects with EngineStateError at
// once; unload twice resolves; a simulated device loss fires `recovered` and the answer goes on.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../worker/engine.ts';
import { KimiVL, type RecoveredEvent } from './kimi_vl.ts';

const MODEL = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;
const files = () =>
  readdirSync(MODEL)
    .filter((n) => n !== 'README.md')
    .map((n) => new File([readFileSync(MODEL + n)], n));
const load = () => KimiVL.load(files(), { backend: 'ref', inThread: true, contextBudget: 512 });
const user = (text: string) => [{ role: 'user' as const, content: text }];

/** The error name a call settles with (or 'resolved'), failing when it takes longer than `ms`. */
async function outcome(p: Promise<unknown> | (() => unknown), ms = 3000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  const late = new Promise<string>((r) => {
    timer = setTimeout(() => r(`unsettled after ${ms} ms`), ms);
  });
  const settled = run.then(
    () => 'resolved',
    (e: Error) => e.name,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('KimiVL lifecycle (in-thread, reference backend)', () => {
  it('unload during a stream: AbortError within a token; then every call is an EngineStateError', async () => {
    const engine = await load();
    const stream = engine.chat(user('tell me a long story'), {
      temperature: 0,
      maxTokens: 200,
      ignoreStop: true,
      tokenEvents: true,
    });
    const queued = engine.chat(user('next'), { maxTokens: 5 });
    let tokens = 0;
    let unloaded: Promise<void> | null = null;
    const iterate = (async () => {
      for await (const e of stream) if (e.type === 'token' && ++tokens === 2) unloaded = engine.unload();
    })();
    expect(await outcome(iterate)).toBe('AbortError');
    expect(await outcome(stream.result)).toBe('AbortError');
    expect(await outcome(queued.result)).toBe('AbortError');
    expect(tokens).toBeLessThanOrEqual(3);
    expect(await outcome(unloaded!)).toBe('resolved');

    expect(await outcome(engine.chat(user('x')).result)).toBe('EngineStateError');
    expect(await outcome(engine.generateFromIds([1, 2, 3]).result)).toBe('EngineStateError');
    expect(await outcome(engine.resetConversation())).toBe('EngineStateError');
    expect(await outcome(engine.adapterInfo())).toBe('EngineStateError');
    expect(await outcome(engine.chat.completions.create({ messages: user('x') }))).toBe('EngineStateError');
    expect(await outcome(engine.chat.completions.create({ messages: user('x'), stream: true }))).toBe(
      'EngineStateError',
    );
    expect(await outcome(engine.unload())).toBe('resolved');
    expect(await outcome(Promise.all([engine.unload(), engine.unload()]))).toBe('resolved');
    // A normal load + chat works right after.
    const again = await load();
    const done = await again.chat(user('hi'), { temperature: 0, maxTokens: 3, ignoreStop: true }).result;
    expect(done.usage.completionTokens).toBe(3);
    await again.unload();
  });

  it('cancel() right after chat() (before the request reached the engine) still cancels it', async () => {
    const engine = await load();
    const running = engine.chat(user('a'), { maxTokens: 50, ignoreStop: true });
    const waiting = engine.chat(user('b'), { maxTokens: 50, ignoreStop: true });
    waiting.cancel();
    running.cancel();
    expect((await running.result).finishReason).toBe('abort');
    expect((await waiting.result).usage.completionTokens).toBe(0);
    await engine.unload();
  });

  it('calls made while unloading are EngineStateErrors; terminate() settles what is in flight', async () => {
    const engine = await load();
    const unloading = engine.unload();
    expect(await outcome(engine.chat(user('x')).result)).toBe('EngineStateError');
    expect(await outcome(engine.resetConversation())).toBe('EngineStateError');
    expect(await outcome(unloading)).toBe('resolved');
    const other = await load();
    const stream = other.chat(user('long'), { maxTokens: 200, ignoreStop: true });
    other.terminate();
    expect(await outcome(stream.result)).toBe('AbortError');
    expect(await outcome(other.chat(user('x')).result)).toBe('EngineStateError');
  });

  it('a device loss mid-stream fires `recovered` and the greedy answer equals an uninterrupted one', async () => {
    const opts = { temperature: 0, maxTokens: 8, ignoreStop: true, tokenEvents: true } as const;
    const reference = await load();
    const want = await reference.chat(user('hello'), opts).result;
    await reference.unload();

    const engine = await load();
    const recovered: EngineEvent[] = [];
    engine.addEventListener('recovered', (e) => void recovered.push((e as RecoveredEvent).detail));
    let tokens = 0;
    const stream = engine.chat(user('hello'), opts);
    for await (const e of stream) if (e.type === 'token' && ++tokens === 3) await engine.loseDeviceForTest();
    const done = await stream.result;
    expect(done.answer).toBe(want.answer);
    expect(done.usage.completionTokens).toBe(8);
    expect(recovered.map((e) => e.during)).toEqual(['request']);
    await engine.unload();
  });
});
