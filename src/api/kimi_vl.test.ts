// The public API in Node, in-thread on the CPU reference with the bundled tiny model: streaming,
// AbortSignal, queueing, the OpenAI facade, typed errors.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../generate/events.ts';
import { KimiVL } from './kimi_vl.ts';

const MODEL = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;
const files = () =>
  readdirSync(MODEL)
    .filter((n) => n !== 'README.md')
    .map((n) => new File([readFileSync(MODEL + n)], n));

let engine: KimiVL;
beforeAll(async () => {
  engine = await KimiVL.load(files(), { backend: 'ref', inThread: true, contextBudget: 512 });
});
afterAll(() => engine.unload());

const user = (text: string) => [{ role: 'user' as const, content: text }];

describe('KimiVL (in-thread, reference backend)', () => {
  it('loads in the main thread and reports the model', () => {
    expect(engine.mode).toBe('main-thread');
    expect(engine.info).toMatchObject({ backend: 'ref', hasTokenizer: true, vocabSize: 512 });
  });

  it('chat is an async iterable ending with done; result resolves to the same event', async () => {
    const stream = engine.chat(user('hi'), { temperature: 0, maxTokens: 4, tokenEvents: true });
    const events: ChatEvent[] = [];
    for await (const e of stream) events.push(e);
    const done = await stream.result;
    expect(events.at(-1)).toEqual(done);
    const tokens = events.filter((e) => e.type === 'token').length;
    expect(tokens).toBe(done.usage.completionTokens);
  });

  it('an AbortSignal stops within one token and the engine answers the next request', async () => {
    const ac = new AbortController();
    let tokens = 0;
    const stream = engine.chat(user('tell me more'), {
      temperature: 0,
      maxTokens: 40,
      ignoreStop: true,
      tokenEvents: true,
      signal: ac.signal,
    });
    for await (const e of stream) {
      if (e.type === 'token' && ++tokens === 3) ac.abort();
    }
    const done = await stream.result;
    expect(done.finishReason).toBe('abort');
    expect(done.usage.completionTokens).toBeLessThanOrEqual(4);
    const next = await engine.chat(user('again'), { temperature: 0, maxTokens: 2, ignoreStop: true }).result;
    expect(next.finishReason).toBe('length');
  });

  it('an already aborted signal yields an empty answer', async () => {
    const done = await engine.chat(user('x'), { maxTokens: 5, signal: AbortSignal.abort() }).result;
    expect(done.finishReason).toBe('abort');
    expect(done.usage.completionTokens).toBe(0);
  });

  it('breaking out of the loop cancels the request', async () => {
    const stream = engine.chat(user('long'), {
      temperature: 0,
      maxTokens: 60,
      ignoreStop: true,
      tokenEvents: true,
    });
    for await (const e of stream) if (e.type === 'token') break;
    expect((await stream.result).finishReason).toBe('abort');
  });

  it('concurrent requests are queued, not interleaved', async () => {
    const order: string[] = [];
    const run = async (name: string) => {
      for await (const e of engine.chat(user(name), {
        temperature: 0,
        maxTokens: 3,
        ignoreStop: true,
        tokenEvents: true,
      }))
        order.push(`${name}:${e.type}`);
    };
    await Promise.all([run('a'), run('b')]);
    const firstB = order.findIndex((s) => s.startsWith('b:'));
    expect(order.slice(0, firstB).at(-1)).toBe('a:done');
    expect(order.slice(firstB).every((s) => s.startsWith('b:'))).toBe(true);
  });

  it('chat.completions.create streams OpenAI chunks and returns a completion', async () => {
    const stream = await engine.chat.completions.create({
      messages: user('hi'),
      stream: true,
      max_tokens: 3,
      temperature: 0,
    });
    let content = '';
    let finish: string | null = null;
    for await (const c of stream) {
      content += c.choices[0]!.delta.content ?? '';
      finish = c.choices[0]!.finish_reason ?? finish;
    }
    const whole = await engine.chat.completions.create({
      messages: user('hi'),
      max_tokens: 3,
      temperature: 0,
    });
    expect(whole.choices[0]!.message.content).toBe(content);
    expect(whole.choices[0]!.finish_reason).toBe(finish);
  });

  it('errors keep their class and name', async () => {
    const err = await engine.chat([], {}).result.catch((e) => e);
    expect(err.name).toBe('ConfigError');
    const { KimiVLError } = await import('../errors.ts');
    expect(err).toBeInstanceOf(KimiVLError);
  });
});
