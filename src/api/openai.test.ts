import { describe, expect, it } from 'vitest';
import type { ChatEvent, DoneEvent } from '../generate/events.ts';
import {
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  createCompletion,
  fromOpenAIRequest,
  toCompletion,
  toCompletionChunks,
  UnsupportedFieldsError,
  unsupportedFields,
} from './openai.ts';
import type { ChatMessage, ChatOptions } from './types.ts';

const meta = { id: 'chatcmpl-x', created: 1700000000, model: 'm' };
const timings = {
  imageEncodeMs: 0,
  prefillTokensPerSecond: 10,
  timeToFirstTokenMs: 5,
  decodeTokensPerSecond: 3,
  totalMs: 9,
};
const done = (finishReason: DoneEvent['finishReason']): DoneEvent => ({
  type: 'done',
  finishReason,
  usage: { promptTokens: 7, cachedPromptTokens: 0, completionTokens: 3, totalTokens: 10 },
  timings,
  answer: 'Hi there',
  reasoning: 'hmm',
});

async function* events(list: ChatEvent[]): AsyncGenerator<ChatEvent> {
  for (const e of list) yield e;
}

describe('OpenAI facade', () => {
  it('maps requests: image_url parts, max_completion_tokens over max_tokens, sampling names', () => {
    const { messages, options } = fromOpenAIRequest({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what?' },
            { type: 'image_url', image_url: { url: 'a.png' } },
          ],
        },
      ],
      max_tokens: 5,
      max_completion_tokens: 9,
      temperature: 0,
      top_p: 0.9,
      top_k: 3,
      seed: 4,
      repetition_penalty: 1.1,
      stop: ['\n\n', 'END'],
    });
    expect(messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what?' },
          { type: 'image', image: 'a.png' },
        ],
      },
    ]);
    expect(options).toEqual({
      maxTokens: 9,
      temperature: 0,
      topP: 0.9,
      topK: 3,
      seed: 4,
      repetitionPenalty: 1.1,
      stop: ['\n\n', 'END'],
    });
  });

  it('streams chunks shaped like chat.completion.chunk', async () => {
    const chunks = [];
    for await (const c of toCompletionChunks(
      events([
        { type: 'reasoning', text: 'hmm' },
        { type: 'token', id: 3, forced: false },
        { type: 'answer', text: 'Hi' },
        { type: 'answer', text: ' there' },
        done('length'),
      ]),
      meta,
    ))
      chunks.push(c);
    expect(chunks.map((c) => c.choices[0]!.delta)).toEqual([
      { role: 'assistant', content: '' },
      { reasoning_content: 'hmm' },
      { content: 'Hi' },
      { content: ' there' },
      {},
    ]);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-x')).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices[0]!.finish_reason).toBe('length');
    expect(last.timings).toEqual(timings);
    // Without stream_options.include_usage, OpenAI sends no usage at all.
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
  });

  it('stream_options.include_usage: usage null on every chunk, then a final chunk with choices: [] and the usage', async () => {
    const chunks = [];
    for await (const c of toCompletionChunks(events([{ type: 'answer', text: 'Hi' }, done('stop')]), {
      ...meta,
      includeUsage: true,
    }))
      chunks.push(c);
    expect(chunks.map((c) => c.choices.length)).toEqual([1, 1, 1, 0]);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks[2]!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({
      object: 'chat.completion.chunk',
      id: 'chatcmpl-x',
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
  });

  it('collects a non-streamed chat.completion; an aborted request finishes as "abort", not "stop"', async () => {
    const c = await toCompletion(events([{ type: 'answer', text: 'Hi there' }, done('abort')]), meta);
    expect(c).toMatchObject({
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi there', reasoning_content: 'hmm', refusal: null },
          finish_reason: 'abort',
        },
      ],
      usage: { total_tokens: 10 },
    });
  });

  it('a stream without a done event is an error', async () => {
    await expect(toCompletion(events([{ type: 'answer', text: 'x' }]), meta)).rejects.toThrow(/done/);
  });
});

/** A fake engine that records what createCompletion asked of it and answers "ok". */
function fakeEngine() {
  const calls: Array<{ messages: ChatMessage[]; options: ChatOptions }> = [];
  return {
    calls,
    modelId: 'tiny',
    chat(messages: ChatMessage[], options: ChatOptions) {
      calls.push({ messages, options });
      return events([{ type: 'answer', text: 'ok' }, done('stop')]);
    },
  };
}

describe('createCompletion: OpenAI conformance', () => {
  it('the developer role is a system turn; an assistant content: null is an empty turn', async () => {
    const e = fakeEngine();
    const req = {
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null },
        { role: 'user', content: 'again' },
      ],
    } as ChatCompletionRequest;
    const c = await createCompletion(e, req);
    expect(c).toMatchObject({
      object: 'chat.completion',
      model: 'tiny',
      choices: [{ finish_reason: 'stop' }],
    });
    expect(e.calls[0]!.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'again' },
    ]);
  });

  it('max_completion_tokens, seed and stop reach the engine', async () => {
    const e = fakeEngine();
    await createCompletion(e, {
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 50,
      max_completion_tokens: 7,
      seed: 3,
      stop: 'END',
    });
    expect(e.calls[0]!.options).toEqual({ maxTokens: 7, seed: 3, stop: 'END' });
  });

  it('null means absent, as in OpenAI (the SDK sends nulls)', async () => {
    const e = fakeEngine();
    await createCompletion(e, {
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: null,
      temperature: null,
      stop: null,
      n: null,
      frequency_penalty: null,
    } as ChatCompletionRequest);
    expect(e.calls[0]!.options).toEqual({});
  });

  it('fields at their "off" value are accepted (n 1, penalties 0, logprobs false, tools [], text format)', async () => {
    const e = fakeEngine();
    const req = {
      messages: [{ role: 'user', content: 'x' }],
      n: 1,
      frequency_penalty: 0,
      presence_penalty: 0,
      logprobs: false,
      tools: [],
      response_format: { type: 'text' },
      stream_options: { include_usage: false },
      user: 'someone',
    } as ChatCompletionRequest;
    expect(unsupportedFields(req)).toEqual([]);
    await expect(createCompletion(e, req)).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it('UnsupportedFieldsError names every field that would be ignored, before anything runs', async () => {
    const e = fakeEngine();
    const req = {
      messages: [
        { role: 'user', content: [{ type: 'input_audio', input_audio: {} }], name: 'bob' },
        { role: 'assistant', content: 'x', tool_calls: [{ id: '1' }] },
        { role: 'tool', content: 'result', tool_call_id: '1' },
      ],
      n: 2,
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: 'auto',
      logprobs: true,
      top_logprobs: 3,
      response_format: { type: 'json_object' },
      frequency_penalty: 0.5,
      presence_penalty: 0.1,
      logit_bias: { 5: 10 },
      stream_options: { include_usage: true, other: 1 },
      made_up_field: 'x',
    } as unknown as ChatCompletionRequest;
    const err = await createCompletion(e, req).catch((x) => x);
    expect(err).toBeInstanceOf(UnsupportedFieldsError);
    expect(err.name).toBe('UnsupportedFieldsError');
    expect(err.fields).toEqual([
      'n=2',
      'tools',
      'tool_choice="auto"',
      'logprobs=true',
      'top_logprobs=3',
      'response_format',
      'frequency_penalty=0.5',
      'presence_penalty=0.1',
      'logit_bias',
      'made_up_field="x"',
      'stream_options.other',
      'messages[0].name',
      'messages[0].content[0].type="input_audio"',
      'messages[1].tool_calls',
      'messages[2].role="tool"',
      'messages[2].tool_call_id',
    ]);
    for (const f of err.fields) expect(err.message).toContain(f);
    expect(e.calls).toEqual([]);
  });

  it('shape errors stay ConfigErrors (missing messages, content null for a user turn)', async () => {
    const e = fakeEngine();
    await expect(createCompletion(e, {} as ChatCompletionRequest)).rejects.toMatchObject({
      name: 'ConfigError',
    });
    await expect(
      createCompletion(e, {
        messages: [{ role: 'user', content: null }],
      } as unknown as ChatCompletionRequest),
    ).rejects.toMatchObject({ name: 'ConfigError' });
  });

  it('stream: true with include_usage ends with the usage chunk', async () => {
    const e = fakeEngine();
    const stream = (await createCompletion(e, {
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    })) as AsyncIterable<ChatCompletionChunk>;
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 10 } });
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
  });
});
