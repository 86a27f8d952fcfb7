// OpenAI-style facade over the event stream: `engine.chat.completions.create({ messages, stream })`.
// Chunks are shaped like OpenAI's chat.completion.chunk (text in choices[0].delta.content; a Thinking
// model's reasoning in delta.reasoning_content, as several OpenAI-compatible servers do); the last chunk
// carries finish_reason and usage. Without `stream` the result is one chat.completion object.
import type { ChatEvent, DoneEvent, Timings } from '../generate/events.ts';
import type { ChatMessage, ChatOptions, ImageInput } from './types.ts';

export type OpenAIContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } | string }
  | { type: 'image'; image: ImageInput };

export interface OpenAIMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | OpenAIContentPart[];
}

export interface ChatCompletionRequest {
  messages: OpenAIMessage[];
  stream?: boolean;
  /** Ignored (one model per engine); echoed back. */
  model?: string;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  repetition_penalty?: number;
  signal?: AbortSignal;
}

export type OpenAIFinishReason = 'stop' | 'length';

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    delta: { role?: 'assistant'; content?: string; reasoning_content?: string };
    finish_reason: OpenAIFinishReason | null;
  }>;
  usage?: CompletionUsage;
  /** Non-standard, last chunk only: kimi-vl-web's timings. */
  timings?: Timings;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: { role: 'assistant'; content: string; reasoning_content?: string };
    finish_reason: OpenAIFinishReason;
  }>;
  usage: CompletionUsage;
  timings: Timings;
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

/** OpenAI request → the engine's messages and options. */
export function fromOpenAIRequest(req: ChatCompletionRequest): {
  messages: ChatMessage[];
  options: ChatOptions;
} {
  const messages = req.messages.map(
    (m): ChatMessage => ({
      role: m.role,
      content:
        typeof m.content === 'string'
          ? m.content
          : m.content.map((p) => {
              if (p.type === 'image_url')
                return {
                  type: 'image',
                  image: typeof p.image_url === 'string' ? p.image_url : p.image_url.url,
                };
              return p;
            }),
    }),
  );
  const options: ChatOptions = {};
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max !== undefined) options.maxTokens = max;
  if (req.temperature !== undefined) options.temperature = req.temperature;
  if (req.top_p !== undefined) options.topP = req.top_p;
  if (req.top_k !== undefined) options.topK = req.top_k;
  if (req.seed !== undefined) options.seed = req.seed;
  if (req.repetition_penalty !== undefined) options.repetitionPenalty = req.repetition_penalty;
  if (req.signal) options.signal = req.signal;
  return { messages, options };
}

/** A cancelled request ends like a stopped one (OpenAI has no "aborted" reason). */
function finishReason(done: DoneEvent): OpenAIFinishReason {
  return done.finishReason === 'length' ? 'length' : 'stop';
}

function usage(done: DoneEvent): CompletionUsage {
  return {
    prompt_tokens: done.usage.promptTokens,
    completion_tokens: done.usage.completionTokens,
    total_tokens: done.usage.totalTokens,
  };
}

export async function* toCompletionChunks(
  events: AsyncIterable<ChatEvent>,
  meta: CompletionMeta,
): AsyncGenerator<ChatCompletionChunk> {
  const chunk = (
    delta: ChatCompletionChunk['choices'][0]['delta'],
    finish: OpenAIFinishReason | null = null,
  ): ChatCompletionChunk => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  yield chunk({ role: 'assistant', content: '' });
  for await (const e of events) {
    if (e.type === 'answer') yield chunk({ content: e.text });
    else if (e.type === 'reasoning') yield chunk({ reasoning_content: e.text });
    else if (e.type === 'done') yield { ...chunk({}, finishReason(e)), usage: usage(e), timings: e.timings };
  }
}

export async function toCompletion(
  events: AsyncIterable<ChatEvent>,
  meta: CompletionMeta,
): Promise<ChatCompletion> {
  let done: DoneEvent | null = null;
  for await (const e of events) if (e.type === 'done') done = e;
  if (!done) throw new Error('kimi-vl-web internal error: the stream ended without a done event');
  const message: ChatCompletion['choices'][0]['message'] = { role: 'assistant', content: done.answer };
  if (done.reasoning) message.reasoning_content = done.reasoning;
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: finishReason(done) }],
    usage: usage(done),
    timings: done.timings,
  };
}
