// A chat request's messages → what the model consumes: every image decoded and preprocessed (in the
// engine's thread: the page only transferred bytes/bitmaps), and the prompt ids with each image's
// placeholder expanded to its feature count.

import type { ImageProcessorConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import { buildPromptIds, type ChatMessage, type ContentPart, type Role } from '../text/chat_template.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { decodeImage, type ImageInput } from '../vision/decode.ts';
import { preprocessImagesWithin } from '../vision/image_budget.ts';
import type { PreprocessedBatch } from '../vision/preprocess.ts';

/** An image as it crosses the worker boundary (structured-clonable; bitmaps and buffers transferred). */
export type WireImage = Blob | ArrayBuffer | Uint8Array | ImageBitmap | ImageData | string;

export type WirePart = { type: 'text'; text: string } | { type: 'image'; image: WireImage };

export interface WireMessage {
  role: Role;
  content: string | WirePart[];
}

export interface ChatInput {
  ids: number[];
  /** Null when the conversation has no image. */
  images: PreprocessedBatch | null;
}

const ROLES: readonly Role[] = ['system', 'user', 'assistant'];

/** Checks the shape of messages from an untyped caller, with a message that says what is wrong. */
export function validateMessages(messages: unknown): asserts messages is WireMessage[] {
  if (!Array.isArray(messages) || messages.length === 0)
    throw new KimiVLError('ConfigError', 'messages must be a non-empty array of { role, content }');
  messages.forEach((m, i) => {
    const msg = m as Partial<WireMessage> | null;
    if (!msg || !ROLES.includes(msg.role as Role))
      throw new KimiVLError('ConfigError', `messages[${i}].role must be "system", "user" or "assistant"`);
    if (typeof msg.content === 'string') return;
    if (!Array.isArray(msg.content))
      throw new KimiVLError('ConfigError', `messages[${i}].content must be a string or an array of parts`);
    msg.content.forEach((p, j) => {
      const ok =
        (p?.type === 'text' && typeof p.text === 'string') || (p?.type === 'image' && p.image != null);
      if (!ok)
        throw new KimiVLError(
          'ConfigError',
          `messages[${i}].content[${j}] must be { type: 'text', text } or { type: 'image', image }`,
        );
    });
  });
}

function imagesOf(messages: readonly WireMessage[]): WireImage[] {
  return messages.flatMap((m) =>
    typeof m.content === 'string' ? [] : m.content.flatMap((p) => (p.type === 'image' ? [p.image] : [])),
  );
}

async function decodeOne(image: WireImage, index: number) {
  try {
    return await decodeImage(image as ImageInput);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new KimiVLError('ImageError', `image ${index + 1} could not be read: ${why}`, { cause: e });
  }
}

export async function buildChatInput(
  messages: readonly WireMessage[],
  tokenizer: Tokenizer,
  preprocessor: ImageProcessorConfig | null,
  promptSuffix: readonly number[] = [],
  options: { allowSpecialTokensInText?: boolean; maxImageTokens?: number } = {},
): Promise<ChatInput> {
  const wire = imagesOf(messages);
  let images: PreprocessedBatch | null = null;
  if (wire.length) {
    if (!preprocessor)
      throw new KimiVLError(
        'ConfigError',
        'this model has no preprocessor_config.json, so it cannot take images',
      );
    const decoded = await Promise.all(wire.map(decodeOne));
    images = preprocessImagesWithin(decoded, preprocessor, options.maxImageTokens);
  }
  const grids = images?.grids.map((g) => [g.h, g.w] as const) ?? [];
  // The repo's own template when it ships one, else the built-in Kimi-VL renderer.
  const template = tokenizer.chatTemplate;
  const ids = buildPromptIds(
    tokenizer,
    messages as readonly ChatMessage[],
    grids,
    { addGenerationPrompt: true, allowSpecialTokensInText: options.allowSpecialTokensInText === true },
    template ? (m, o) => template.renderSegments(m, o) : undefined,
  );
  return { ids: [...ids, ...promptSuffix], images };
}

export type { ContentPart };
