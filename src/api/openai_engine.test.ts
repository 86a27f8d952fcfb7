// OpenAI conformance against a real engine (in-thread, CPU reference, the bundled tiny model): stop
// strings on the detokenized text, an aborted stream's finish reason, and the `openai` npm SDK talking
// to the engine through KimiVL.openaiFetch.
import { readdirSync, readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KimiVL } from './kimi_vl.ts';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from './openai.ts';
import { type OpenAIFetchEngine, openaiFetch } from './openai_fetch.ts';

const MODEL = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;
const files = () =>
  readdirSync(MODEL)
    .filter((n) => n !== 'README.md')
    .map((n) => new File([readFileSync(MODEL + n)], n));

let engine: KimiVL;
let client: OpenAI;
beforeAll(async () => {
  engine = await KimiVL.load(files(), { backend: 'ref', inThread: true, contextBudget: 512 });
  client = new OpenAI({
    apiKey: 'unused',
    baseURL: 'https://kimi-vl.local/v1',
    fetch: KimiVL.openaiFetch(engine),
  });
});
afterAll(() => engine.unload());

const messages = [{ role: 'user' as const, content: 'Tell me a story about a cat' }];
const greedy = { model: 'kimi-vl-tiny', messages, temperature: 0, max_completion_tokens: 16, seed: 1 };

async function answer(extra: object = {}): Promise<ChatCompletion> {
  await engine.resetConversation();
  return engine.chat.completions.create({ ...greedy, ...extra });
}

describe('stop strings on a real model', () => {
  it('the answer ends right before the first stop string (spanning tokens), finish "stop"', async () => {
    const full = (await answer()).choices[0]!.message.content;
    expect(full.length).toBeGreaterThan(8);
    // A stop string cut from the middle of the answer: it rarely sits on token boundaries.
    const stop = full.slice(3, 6);
    const cut = await answer({ stop: [stop, '\u0000never'] });
    expect(cut.choices[0]!.message.content).toBe(full.slice(0, full.indexOf(stop)));
    expect(cut.choices[0]!.finish_reason).toBe('stop');
    expect(cut.usage.completion_tokens).toBeLessThan(16);

    await engine.resetConversation();
    const stream = await engine.chat.completions.create({ ...greedy, stop, stream: true });
    let streamed = '';
    let finish: string | null = null;
    for await (const c of stream) {
      streamed += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(streamed).toBe(cut.choices[0]!.message.content);
    expect(finish).toBe('stop');
  });

  it('a stop string that never appears changes nothing', async () => {
    const full = await answer();
    const same = await answer({ stop: 'zzzz-not-there' });
    expect(same.choices[0]!.message.content).toBe(full.choices[0]!.message.content);
    expect(same.choices[0]!.finish_reason).toBe(full.choices[0]!.finish_reason);
  });
});

describe('an aborted stream', () => {
  it('ends with finish_reason "abort" (cut off, not finished)', async () => {
    await engine.resetConversation();
    const ac = new AbortController();
    const stream = await engine.chat.completions.create({
      messages,
      temperature: 0,
      max_completion_tokens: 200,
      stream: true,
      signal: ac.signal,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) {
      chunks.push(c);
      if (c.choices[0]?.delta.content) ac.abort();
    }
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('abort');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).length).toBe(1);
  });
});

describe('the openai SDK through KimiVL.openaiFetch', () => {
  it('streams a completion (with include_usage) that equals the non-streamed one', async () => {
    await engine.resetConversation();
    const whole = await client.chat.completions.create({ ...greedy });
    expect(whole.object).toBe('chat.completion');
    await engine.resetConversation();
    const stream = await client.chat.completions.create({
      ...greedy,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    let chunks = 0;
    for await (const c of stream) {
      chunks++;
      content += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(content).toBe(whole.choices[0]!.message.content);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  it('the developer role and an assistant content: null are accepted', async () => {
    await engine.resetConversation();
    const r = await client.chat.completions.create({
      model: 'kimi-vl-tiny',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null },
        { role: 'user', content: 'again' },
      ],
      max_completion_tokens: 2,
      temperature: 0,
    });
    expect(r.choices[0]!.message.role).toBe('assistant');
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('unsupported fields are a 400 BadRequestError naming them', async () => {
    const err = await client.chat.completions
      .create({
        model: 'kimi-vl-tiny',
        messages,
        n: 2,
        logprobs: true,
        response_format: { type: 'json_object' },
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('UnsupportedFieldsError');
    expect(err.message).toMatch(/n=2.*logprobs=true.*response_format/);
  });

  it('aborting the SDK stream cancels the generation (it ends as "abort"); the engine answers the next request', async () => {
    await engine.resetConversation();
    // The engine as the adapter sees it, recording the finish reason of every chunk stream it serves.
    const finishes: Array<string | null> = [];
    const recording: OpenAIFetchEngine = {
      info: engine.info,
      chat: {
        completions: {
          create: (async (req: ChatCompletionRequest) => {
            const out = await engine.chat.completions.create({ ...req, stream: true });
            return (async function* () {
              let finish: string | null = null;
              try {
                for await (const c of out) {
                  finish = c.choices[0]?.finish_reason ?? finish;
                  yield c;
                }
              } finally {
                finishes.push(finish);
              }
            })();
          }) as unknown as OpenAIFetchEngine['chat']['completions']['create'],
        },
      },
    };
    const sdk = new OpenAI({
      apiKey: 'unused',
      baseURL: 'https://kimi-vl.local/v1',
      fetch: openaiFetch(recording),
    });
    const ac = new AbortController();
    const stream = await sdk.chat.completions.create(
      { model: 'kimi-vl-tiny', messages, temperature: 0, max_completion_tokens: 300, stream: true },
      { signal: ac.signal },
    );
    let contentChunks = 0;
    // The SDK ends the iteration quietly on its own abort.
    for await (const c of stream) if (c.choices[0]?.delta.content && ++contentChunks === 2) ac.abort();
    expect(contentChunks).toBeLessThan(20); // a few already in flight, far from 300
    await expect.poll(() => finishes).toEqual(['abort']);
    const next = await client.chat.completions.create({ ...greedy, max_completion_tokens: 2 });
    expect(next.usage?.completion_tokens).toBe(2);
  });

  it('lists the model', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual([engine.info.id]);
    expect((await client.models.retrieve(engine.info.id)).id).toBe(engine.info.id);
  });
});
