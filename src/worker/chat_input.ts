// A chat request's messages → what the model consumes: every image decoded and preprocessed (in the
// engine's thread: the page only transferred bytes/bitmaps; once per content, prepared_images.ts), and
// the prompt ids with each image's placeholder expanded to its feature count.

import type { ImageProcessorConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import { buildPromptIds, type ChatMessage, type ContentPart, type Role } from '../text/chat_template.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { batchOf, type PreprocessedBatch } from '../vision/preprocess.ts';
import { preparedImagesFor, type WireImage } from './prepared_images.ts';

export type { WireImage };

export type WirePart = { type: 'text'; text: string } | { type: 'image'; image: WireImage };

export interface WireMessage {
  role: Role;
  content: string | WirePart[];
}

export interface ChatInput {
  ids: number[];
  /** Null when the conversation has no image. */
  images: PreprocessedBatch | null;
  /** Images this call decoded and preprocessed (the others were prepared by an earlier turn). */
  imagesPrepared: number;
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

export async function buildChatInput(
  messages: readonly WireMessage[],
  tokenizer: Tokenizer,
  preprocessor: ImageProcessorConfig | null,
  promptSuffix: readonly number[] = [],
  options: { allowSpecialTokensInText?: boolean; maxImageTokens?: number } = {},
): Promise<ChatInput> {
  const wire = imagesOf(messages);
  let images: PreprocessedBatch | null = null;
  let imagesPrepared = 0;
  if (wire.length) {
    if (!preprocessor)
      throw new KimiVLError(
        'ConfigError',
        'this model has no preprocessor_config.json, so it cannot take images',
      );
    // decoded and preprocessed once per content: a follow-up turn about the same image does neither
    const cache = preparedImagesFor(preprocessor);
    const before = cache.prepared;
    const done = await Promise.all(wire.map((w, i) => cache.prepare(w, i, options.maxImageTokens)));
    images = batchOf(done, preprocessor.patchSize);
    imagesPrepared = cache.prepared - before;
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
  return { ids: [...ids, ...promptSuffix], images, imagesPrepared };
}

export type { ContentPart };
