// The fetch adapter's HTTP side with a scripted engine: routes, status codes, SSE framing, errors.
import { describe, expect, it } from 'vitest';
import { KimiVLError } from '../errors.ts';
import type { ChatCompletionChunk, ChatCompletionRequest } from './openai.ts';
import { type OpenAIFetchEngine, openaiFetch } from './openai_fetch.ts';

const chunk = (content: string): ChatCompletionChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
});

function engine(create: (req: ChatCompletionRequest) => Promise<unknown>): OpenAIFetchEngine {
  return {
    info: { id: 'org/tiny' },
    chat: { completions: { create: create as OpenAIFetchEngine['chat']['completions']['create'] } },
  };
}

const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) });

describe('openaiFetch', () => {
  it('streams server-sent events ending with [DONE]', async () => {
    const f = openaiFetch(
      engine(async () =>
        (async function* () {
          yield chunk('a');
          yield chunk('b');
        })(),
      ),
    );
    const res = await f('https://x/v1/chat/completions', post({ messages: [], stream: true }));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe(
      `data: ${JSON.stringify(chunk('a'))}\n\ndata: ${JSON.stringify(chunk('b'))}\n\ndata: [DONE]\n\n`,
    );
  });

  it('an error after the stream began is an SSE error event', async () => {
    const f = openaiFetch(
      engine(async () =>
        (async function* () {
          yield chunk('a');
          throw new KimiVLError('DeviceLostError', 'the GPU went away');
        })(),
      ),
    );
    const text = await (await f('https://x/v1/chat/completions', post({ stream: true }))).text();
    const events = text.split('\n\n').filter(Boolean);
    expect(JSON.parse(events[1]!.slice(6))).toEqual({
      error: { message: 'the GPU went away', type: 'server_error', param: null, code: 'DeviceLostError' },
    });
  });

  it('maps typed errors to OpenAI error bodies and statuses', async () => {
    const fail = (e: Error) => openaiFetch(engine(async () => Promise.reject(e)));
    const r400 = await fail(new KimiVLError('ContextOverflowError', 'too long'))(
      'https://x/chat/completions',
      post({}),
    );
    expect(r400.status).toBe(400);
    expect(await r400.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'ContextOverflowError' },
    });
    const r409 = await fail(new KimiVLError('EngineStateError', 'unloaded'))(
      'https://x/chat/completions',
      post({}),
    );
    expect(r409.status).toBe(409);
    const r500 = await fail(new Error('boom'))('https://x/chat/completions', post({}));
    expect(r500.status).toBe(500);
  });

  it('refuses a body that is not JSON, and unknown routes, with 400 and 404', async () => {
    const f = openaiFetch(engine(async () => ({})));
    const bad = await f('https://x/v1/chat/completions', { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    const missing = await f('https://x/v1/embeddings', post({}));
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.message).toMatch(/POST \/v1\/embeddings/);
    expect((await f('https://x/v1/models/other')).status).toBe(404);
  });

  it('takes a Request object, and hands its signal to the engine', async () => {
    let seen: ChatCompletionRequest | null = null;
    const f = openaiFetch(
      engine(async (req) => {
        seen = req;
        return { object: 'chat.completion' };
      }),
    );
    const ac = new AbortController();
    const res = await f(
      new Request('https://x/v1/chat/completions', { ...post({ messages: [] }), signal: ac.signal }),
    );
    expect(await res.json()).toEqual({ object: 'chat.completion' });
    expect(seen!.signal).toBeDefined();
    expect(seen!.stream).toBe(false);
  });

  it('lists and retrieves the one model', async () => {
    const f = openaiFetch(engine(async () => ({})));
    expect(await (await f('https://x/v1/models')).json()).toEqual({
      object: 'list',
      data: [{ id: 'org/tiny', object: 'model', created: 0, owned_by: 'kimi-vl-web' }],
    });
    expect((await (await f('https://x/v1/models/org%2Ftiny')).json()).id).toBe('org/tiny');
  });
});
