import { describe, expect, it } from 'vitest';
import type { ChatEvent, DoneEvent } from '../generate/events.ts';
import { fromOpenAIRequest, toCompletion, toCompletionChunks } from './openai.ts';

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
    expect(chunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null && !c.usage)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices[0]!.finish_reason).toBe('length');
    expect(last.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(last.timings).toEqual(timings);
  });

  it('collects a non-streamed chat.completion; an aborted request finishes as "stop"', async () => {
    const c = await toCompletion(events([{ type: 'answer', text: 'Hi there' }, done('abort')]), meta);
    expect(c).toMatchObject({
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi there', reasoning_content: 'hmm' },
          finish_reason: 'stop',
        },
      ],
      usage: { total_tokens: 10 },
    });
  });

  it('a stream without a done event is an error', async () => {
    await expect(toCompletion(events([{ type: 'answer', text: 'x' }]), meta)).rejects.toThrow(/done/);
  });
});
