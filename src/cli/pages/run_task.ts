// Harness task for `kimi-vl run`: loads a model through the public API (engine in a Web Worker, as on a
// page) and streams every chat event to Node through an exposed function, awaited so order is kept.
import type { ChatEvent, ChatMessage, LoadProgress } from '../../index.ts';
import { KimiVL } from '../../index.ts';
import { dropStaleLocalCopies } from './local_cache.ts';

export interface RunTaskArg {
  model: string;
  images: string[];
  prompt: string;
  maxTokens: number;
  temperature?: number;
  seed?: number;
  quantization: 'none' | 'q8' | 'q4';
  tokenizerUrl?: string;
  thinking?: boolean;
}

type Sink = (
  e: ChatEvent | { type: 'progress'; progress: LoadProgress } | { type: 'loaded'; info: unknown },
) => Promise<void>;

export async function runTask(arg: RunTaskArg): Promise<{ ok: true }> {
  const sink = (globalThis as unknown as { kimiRunEvent: Sink }).kimiRunEvent;
  await dropStaleLocalCopies(arg.model); // a retrained local folder: no stale copy is read or kept
  const engine = await KimiVL.load(arg.model, {
    quantization: arg.quantization,
    tokenizerUrl: arg.tokenizerUrl,
    thinking: arg.thinking,
    onProgress: (progress) => void sink({ type: 'progress', progress }),
  });
  try {
    await sink({ type: 'loaded', info: { ...engine.info, mode: engine.mode } });
    const content: ChatMessage['content'] = arg.images.length
      ? [
          ...arg.images.map((image) => ({ type: 'image' as const, image })),
          { type: 'text', text: arg.prompt },
        ]
      : arg.prompt;
    for await (const e of engine.chat([{ role: 'user', content }], {
      maxTokens: arg.maxTokens,
      temperature: arg.temperature,
      seed: arg.seed,
      tokenEvents: true,
    }))
      await sink(e);
  } finally {
    await engine.unload();
  }
  return { ok: true };
}
