// Offscreen document: owns the engine (public API, engine in a Web Worker) with the bundled tiny model
// and answers describe requests one at a time, streaming text to the side panel.
import { KimiVL } from '../../src/index.ts';
import type { DescribeRequest, DescribeResponse, StreamMessage } from './protocol.ts';
import { DEFAULT_PROMPT } from './protocol.ts';

const MODEL_FILES = [
  'config.json',
  'preprocessor_config.json',
  'model.safetensors.index.json',
  'model-00001-of-00002.safetensors',
  'model-00002-of-00002.safetensors',
  'tiktoken.model',
  'tokenizer_config.json',
];

let engine: Promise<KimiVL> | null = null;

/** The bundled model is read as local files (the OPFS-cached loader takes http(s) URLs only). */
async function loadEngine(): Promise<KimiVL> {
  const files = await Promise.all(
    MODEL_FILES.map(async (name) => {
      const res = await fetch(chrome.runtime.getURL(`models/kimi-vl-tiny/${name}`));
      return new File([await res.blob()], name);
    }),
  );
  return KimiVL.load(files, { contextBudget: 1024 });
}

function stream(m: Omit<StreamMessage, 'type'>): void {
  chrome.runtime.sendMessage({ type: 'kimi-vl:stream', ...m } satisfies StreamMessage).catch(() => {});
}

async function describeImage(req: DescribeRequest & { requestId: number }): Promise<DescribeResponse> {
  const id = req.requestId;
  try {
    engine ??= loadEngine();
    const kimi = await engine;
    const prompt = req.prompt ?? DEFAULT_PROMPT;
    stream({ requestId: id, kind: 'start', text: prompt, imageUrl: req.imageUrl });
    let image: Blob | null = null;
    if (req.imageUrl) {
      const res = await fetch(req.imageUrl).catch((e: Error) => {
        // No host access (the user did not allow the image's site) reads as a network failure.
        throw Object.assign(
          new Error(`could not fetch the image (${e.message}); allow Kimi-VL to read its site when asked`),
          { name: 'ImageError' },
        );
      });
      if (!res.ok)
        throw Object.assign(new Error(`fetching the image failed: HTTP ${res.status}`), {
          name: 'ImageError',
        });
      image = await res.blob();
    }
    await kimi.resetConversation(); // each description is its own conversation
    const content = image
      ? [
          { type: 'image' as const, image },
          { type: 'text' as const, text: prompt },
        ]
      : prompt;
    let tokens = 0;
    let answer = '';
    let finishReason = '';
    for await (const e of kimi.chat([{ role: 'user', content }], {
      maxTokens: req.maxTokens ?? 48,
      temperature: req.temperature ?? 0.7,
      tokenEvents: true,
    })) {
      if (e.type === 'token') tokens++;
      else if (e.type === 'answer') {
        answer += e.text;
        stream({ requestId: id, kind: 'delta', text: e.text });
      } else if (e.type === 'done') finishReason = e.finishReason;
    }
    stream({ requestId: id, kind: 'done' });
    return { ok: true, answer, tokens, finishReason, mode: kimi.mode };
  } catch (e) {
    const err = e as Error;
    if (err?.name === 'DeviceLostError') engine = null; // the next request loads afresh
    stream({ requestId: id, kind: 'error', text: `${err.name}: ${err.message}` });
    return { ok: false, error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } };
  }
}

// One at a time: the engine queues too, but the stream messages read better in order.
let tail: Promise<unknown> = Promise.resolve();
chrome.runtime.onMessage.addListener(
  (msg: DescribeRequest & { target?: string; requestId: number }, _s, reply) => {
    if (msg?.target !== 'offscreen' || msg.type !== 'kimi-vl:describe') return false;
    const run = tail.then(() => describeImage(msg));
    tail = run;
    run.then(reply);
    return true;
  },
);
