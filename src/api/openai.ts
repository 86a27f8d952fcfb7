// OpenAI-style facade over the event stream: `engine.chat.completions.create({ messages, stream })`.
// Chunks are shaped like OpenAI's chat.completion.chunk (text in choices[0].delta.content; a Thinking
// model's reasoning in delta.reasoning_content, as several OpenAI-compatible servers do). The chunk
// with finish_reason ends the choice; usage comes only with `stream_options: { include_usage: true }`,
// in one more chunk with `choices: []`, as OpenAI sends it. Without `stream` the result is one
// chat.completion object (always with usage). A cancelled request finishes with "abort" (it was cut
// off, not finished; WebLLM uses the same word), never "stop".
import type { ChatEvent, DoneEvent, Timings } from '../generate/events.ts';
import { refuseUnsupportedFields } from './openai_fields.ts';
import type { ChatMessage, ChatOptions, ImageInput } from './types.ts';
import { checkCompletionRequest } from './validate.ts';

export { UnsupportedFieldsError, unsupportedFields } from './openai_fields.ts';

export type OpenAIContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' } | string }
  | { type: 'image'; image: ImageInput };

export type OpenAIMessage =
  | { role: 'system' | 'developer'; content: string | Array<{ type: 'text'; text: string }> }
  | { role: 'user'; content: string | OpenAIContentPart[] }
  /** An assistant turn may have no content (OpenAI sends null when a turn had only tool calls). */
  | { role: 'assistant'; content: string | Array<{ type: 'text'; text: string }> | null };

export interface ChatCompletionRequest {
  messages: OpenAIMessage[];
  stream?: boolean | null;
  /** Only `include_usage` (a final chunk with the usage and `choices: []`). */
  stream_options?: { include_usage?: boolean | null } | null;
  /** Ignored (one model per engine); echoed back. */
  model?: string;
  /** Deprecated by OpenAI in favour of max_completion_tokens, which wins when both are given. */
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  /** Non-standard (vLLM, llama.cpp): keep only the k most likely tokens. */
  top_k?: number | null;
  seed?: number | null;
  /** Non-standard (vLLM, HF): multiplicative penalty on ids already seen. */
  repetition_penalty?: number | null;
  /** Up to 16 strings; the answer ends before the first one found in the text (not emitted). */
  stop?: string | string[] | null;
  /** Accepted only at 1 (one choice). */
  n?: number | null;
  /** Accepted only at 0: the sampler has no frequency/presence penalty (use repetition_penalty). */
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  /** Describes the caller; not used. */
  user?: string;
  /** Non-standard: cancels the request (the SDK's own `signal` option does this through the fetch adapter). */
  signal?: AbortSignal;
}

export type OpenAIFinishReason = 'stop' | 'length' | 'abort';

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
  /** Empty in the usage chunk that `stream_options.include_usage` adds at the end. */
  choices: Array<{
    index: 0;
    delta: { role?: 'assistant'; content?: string; reasoning_content?: string };
    logprobs: null;
    finish_reason: OpenAIFinishReason | null;
  }>;
  /** With include_usage: null on every chunk but the last, which carries it. */
  usage?: CompletionUsage | null;
  /** Non-standard, on the chunk that finishes the choice: kimi-vl-web's timings. */
  timings?: Timings;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: { role: 'assistant'; content: string; refusal: null; reasoning_content?: string };
    logprobs: null;
    finish_reason: OpenAIFinishReason;
  }>;
  usage: CompletionUsage;
  timings: Timings;
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
  /** stream_options.include_usage. */
  includeUsage?: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The roles and empty turns OpenAI allows that the engine spells differently: `developer` is a system
 * turn (OpenAI's newer name for it), and an assistant turn with `content: null` is an empty one.
 * Anything malformed is left as is for the validator to name.
 */
export function normalizeOpenAIRequest(req: unknown): unknown {
  if (!isObj(req) || !Array.isArray(req.messages)) return req;
  const messages = req.messages.map((m) => {
    if (!isObj(m)) return m;
    if (m.role === 'developer') return { ...m, role: 'system' };
    if (m.role === 'assistant' && (m.content === null || m.content === undefined))
      return { ...m, content: '' };
    return m;
  });
  return { ...req, messages };
}

/** OpenAI request → the engine's messages and options (the request is already validated). */
export function fromOpenAIRequest(req: ChatCompletionRequest): {
  messages: ChatMessage[];
  options: ChatOptions;
} {
  const normalized = normalizeOpenAIRequest(req) as ChatCompletionRequest;
  const messages = normalized.messages.map(
    (m): ChatMessage => ({
      role: m.role as ChatMessage['role'],
      content:
        typeof m.content === 'string' || m.content === null
          ? (m.content ?? '')
          : m.content.map((p: OpenAIContentPart) => {
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
  if (max != null) options.maxTokens = max;
  if (req.temperature != null) options.temperature = req.temperature;
  if (req.top_p != null) options.topP = req.top_p;
  if (req.top_k != null) options.topK = req.top_k;
  if (req.seed != null) options.seed = req.seed;
  if (req.repetition_penalty != null) options.repetitionPenalty = req.repetition_penalty;
  if (req.stop != null) options.stop = req.stop;
  if (req.signal) options.signal = req.signal;
  return { messages, options };
}

function finishReason(done: DoneEvent): OpenAIFinishReason {
  return done.finishReason;
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
  const base = () => ({
    id: meta.id,
    object: 'chat.completion.chunk' as const,
    created: meta.created,
    model: meta.model,
    ...(meta.includeUsage ? { usage: null } : {}),
  });
  const chunk = (
    delta: ChatCompletionChunk['choices'][0]['delta'],
    finish: OpenAIFinishReason | null = null,
  ): ChatCompletionChunk => ({
    ...base(),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  yield chunk({ role: 'assistant', content: '' });
  for await (const e of events) {
    if (e.type === 'answer') yield chunk({ content: e.text });
    else if (e.type === 'reasoning') yield chunk({ reasoning_content: e.text });
    else if (e.type === 'done') {
      yield { ...chunk({}, finishReason(e)), timings: e.timings };
      if (meta.includeUsage) yield { ...base(), choices: [], usage: usage(e) };
    }
  }
}

export async function toCompletion(
  events: AsyncIterable<ChatEvent>,
  meta: CompletionMeta,
): Promise<ChatCompletion> {
  let done: DoneEvent | null = null;
  for await (const e of events) if (e.type === 'done') done = e;
  if (!done) throw new Error('kimi-vl-web internal error: the stream ended without a done event');
  const message: ChatCompletion['choices'][0]['message'] = {
    role: 'assistant',
    content: done.answer,
    refusal: null,
  };
  if (done.reasoning) message.reasoning_content = done.reasoning;
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(done) }],
    usage: usage(done),
    timings: done.timings,
  };
}

/** What createCompletion needs from the engine: its chat stream and the loaded model's id. */
export interface CompletionEngine {
  chat(messages: ChatMessage[], options: ChatOptions): AsyncIterable<ChatEvent>;
  readonly modelId: string;
}

/**
 * chat.completions.create: refuses what it cannot honour, checks the request's shape (after
 * `developer` and `content: null` are mapped, which the shape check does not know), then streams.
 */
export async function createCompletion(
  engine: CompletionEngine,
  req: ChatCompletionRequest,
): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion> {
  refuseUnsupportedFields(req);
  checkCompletionRequest(normalizeOpenAIRequest(req));
  const { messages, options } = fromOpenAIRequest(req);
  const meta: CompletionMeta = {
    id: `chatcmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    created: Math.floor(Date.now() / 1000),
    model: req.model ?? engine.modelId,
    includeUsage: req.stream_options?.include_usage === true,
  };
  const stream = engine.chat(messages, options);
  return req.stream ? toCompletionChunks(stream, meta) : toCompletion(stream, meta);
}
