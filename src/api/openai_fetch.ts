// A `fetch` that answers OpenAI REST calls from a loaded engine, so code written for the `openai` SDK
// (or any OpenAI-compatible client that takes a fetch) runs against the page's model with no server:
//
//   const client = new OpenAI({ apiKey: 'unused', baseURL: 'https://kimi-vl.local/v1',
//                               fetch: KimiVL.openaiFetch(engine), dangerouslyAllowBrowser: true });
//   for await (const c of await client.chat.completions.create({ messages, stream: true })) …
//
// Routes: POST …/chat/completions (JSON, or server-sent events with `stream: true`), GET …/models and
// GET …/models/{id}. Errors come back as OpenAI error bodies with an HTTP status, so the SDK raises its
// own APIError subclasses (400 for a bad or unsupported request, 404, 409 while the engine is busy
// unloading, 500 otherwise); an error after a stream has begun is an SSE `error` event, which the SDK
// also raises. The request's AbortSignal cancels the generation; so does cancelling the body.
import { isKimiVLError } from '../errors.ts';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from './openai.ts';

/** What the adapter needs from an engine (a KimiVL satisfies it). */
export interface OpenAIFetchEngine {
  readonly info: { readonly id: string };
  readonly chat: {
    completions: {
      create(req: ChatCompletionRequest & { stream: true }): Promise<AsyncIterable<ChatCompletionChunk>>;
      create(req: ChatCompletionRequest & { stream?: false }): Promise<ChatCompletion>;
    };
  };
}

const CLIENT_ERRORS = new Set([
  'ConfigError',
  'UnsupportedFieldsError',
  'ContextOverflowError',
  'ImageError',
]);

function statusOf(e: unknown): number {
  if (isKimiVLError(e)) {
    if (CLIENT_ERRORS.has(e.name)) return 400;
    if (e.name === 'EngineStateError') return 409;
  }
  return 500;
}

function errorBody(e: unknown, status: number) {
  const err = e as { name?: string; message?: string; fields?: string[] };
  return {
    error: {
      message: err?.message ?? String(e),
      type: status === 400 ? 'invalid_request_error' : 'server_error',
      param: err?.fields?.join(', ') ?? null,
      code: err?.name ?? null,
    },
  };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Server-sent events from the chunk stream, ending with `data: [DONE]` as OpenAI's API does. */
function eventStream(chunks: AsyncIterable<ChatCompletionChunk>): ReadableStream<Uint8Array> {
  const utf8 = new TextEncoder();
  const it = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await it.next();
        if (r.done) {
          controller.enqueue(utf8.encode('data: [DONE]\n\n'));
          controller.close();
        } else controller.enqueue(utf8.encode(`data: ${JSON.stringify(r.value)}\n\n`));
      } catch (e) {
        controller.enqueue(utf8.encode(`data: ${JSON.stringify(errorBody(e, statusOf(e)))}\n\n`));
        controller.close();
      }
    },
    // The reader went away (the SDK's stream was aborted or abandoned): stop generating.
    async cancel() {
      await it.return?.();
    },
  });
}

async function readRequest(
  input: RequestInfo | URL,
  init?: RequestInit,
): Promise<{ method: string; path: string; body: string; signal: AbortSignal | null }> {
  if (typeof Request !== 'undefined' && input instanceof Request) {
    return {
      method: (init?.method ?? input.method).toUpperCase(),
      path: new URL(input.url).pathname,
      body: init?.body != null ? String(init.body) : await input.text(),
      signal: init?.signal ?? input.signal,
    };
  }
  const url = new URL(String(input), 'http://kimi-vl.local/');
  const body = init?.body;
  return {
    method: (init?.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    body: body == null ? '' : typeof body === 'string' ? body : await new Response(body).text(),
    signal: init?.signal ?? null,
  };
}

async function completions(engine: OpenAIFetchEngine, body: string, signal: AbortSignal | null) {
  let req: ChatCompletionRequest;
  try {
    req = JSON.parse(body) as ChatCompletionRequest;
  } catch {
    return json(errorBody({ name: 'ConfigError', message: 'the request body is not JSON' }, 400), 400);
  }
  if (signal) req = { ...req, signal };
  try {
    if (req.stream) {
      const chunks = await engine.chat.completions.create({ ...req, stream: true });
      return new Response(eventStream(chunks), {
        headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
      });
    }
    return json(await engine.chat.completions.create({ ...req, stream: false }));
  } catch (e) {
    const status = statusOf(e);
    return json(errorBody(e, status), status);
  }
}

function model(id: string) {
  return { id, object: 'model', created: 0, owned_by: 'kimi-vl-web' };
}

/** A fetch for OpenAI clients that routes to `engine` (see the top of this file). */
export function openaiFetch(engine: OpenAIFetchEngine): typeof fetch {
  const handler = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const { method, path, body, signal } = await readRequest(input, init);
    if (method === 'POST' && /\/chat\/completions\/?$/.test(path)) return completions(engine, body, signal);
    if (method === 'GET' && /\/models\/?$/.test(path))
      return json({ object: 'list', data: [model(engine.info.id)] });
    const one = method === 'GET' ? /\/models\/(.+)$/.exec(path) : null;
    if (one && decodeURIComponent(one[1]!) === engine.info.id) return json(model(engine.info.id));
    const what = one ? `model ${decodeURIComponent(one[1]!)}` : `${method} ${path}`;
    return json(
      errorBody(
        { name: 'NotFound', message: `kimi-vl-web serves chat.completions and models; not ${what}` },
        404,
      ),
      404,
    );
  };
  return handler as typeof fetch;
}
