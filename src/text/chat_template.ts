// Kimi-VL's chat template (chat_template.jinja, spec 5.1) rendered in code, and the prompt ids with
// every image placeholder expanded to its feature count (processing_kimi_vl.py, spec 5.2).
// The template puts nothing between turns: no newlines, no BOS; every tag is a special token.
import { KimiVLError } from '../errors.ts';

export type Role = 'system' | 'user' | 'assistant';

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image';
  /** The image itself (bytes, ImageBitmap, ...); the template only needs to know it is there. */
  image?: unknown;
}

export type ContentPart = TextPart | ImagePart;

export interface ChatMessage {
  role: Role;
  content: string | ContentPart[];
}

/** Injected when the first message is not a system message (no final period, as in the template). */
export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant';
export const MEDIA_PAD = '<|media_pad|>';
/** What one image renders to before expansion. */
export const IMAGE_PLACEHOLDER = `<|media_start|>image<|media_content|>${MEDIA_PAD}<|media_end|>`;
export const GENERATION_PROMPT = '<|im_assistant|>assistant<|im_middle|>';

const ROLE_TAG: Record<Role, string> = {
  system: '<|im_system|>',
  user: '<|im_user|>',
  assistant: '<|im_assistant|>',
};

export interface RenderOptions {
  /** Append `<|im_assistant|>assistant<|im_middle|>` so the model answers next. */
  addGenerationPrompt: boolean;
}

/**
 * A piece of a rendered prompt: `template` text comes from the chat template (its special-token tags
 * are tokenized as special tokens); `content` text comes from a message (tokenized as plain text, so
 * a user who types `<|im_end|>` gets those characters, not the end of their turn).
 */
export interface PromptSegment {
  kind: 'template' | 'content';
  text: string;
}

/** The prompt as template and content pieces; their concatenation is renderChatTemplate's string. */
export function renderChatSegments(
  messages: readonly ChatMessage[],
  options: RenderOptions,
): PromptSegment[] {
  const out: PromptSegment[] = [];
  const template = (text: string) => out.push({ kind: 'template', text });
  const content = (text: string) => text && out.push({ kind: 'content', text });
  messages.forEach((message, i) => {
    if (i === 0 && message.role !== 'system') {
      template(`<|im_system|>system<|im_middle|>${DEFAULT_SYSTEM_PROMPT}<|im_end|>`);
    }
    template((ROLE_TAG[message.role] ?? '') + message.role + '<|im_middle|>');
    if (typeof message.content === 'string') {
      content(message.content);
      template('<|im_end|>');
      return;
    }
    if (!Array.isArray(message.content)) {
      throw new KimiVLError('TokenizerError', `message ${i}: content must be a string or an array of parts`);
    }
    for (const part of message.content)
      if (isImagePart(part)) template(IMAGE_PLACEHOLDER);
      else content(part.text ?? '');
    template('<|im_end|>');
  });
  if (options.addGenerationPrompt) template(GENERATION_PROMPT);
  return out;
}

/** The prompt text exactly as HF's `apply_chat_template(messages, tokenize=False, ...)` renders it. */
export function renderChatTemplate(messages: readonly ChatMessage[], options: RenderOptions): string {
  return renderChatSegments(messages, options)
    .map((s) => s.text)
    .join('');
}

/** The template's test: `content['type'] == 'image' or 'image' in content or 'image_url' in content`. */
function isImagePart(part: ContentPart): part is ImagePart {
  return part.type === 'image' || 'image' in part || 'image_url' in part;
}

/** Number of images the messages carry, in prompt order. */
export function countImages(messages: readonly ChatMessage[]): number {
  let n = 0;
  for (const m of messages) if (Array.isArray(m.content)) for (const p of m.content) if (isImagePart(p)) n++;
  return n;
}

/** An image's patch grid after preprocessing, height first: [h, w] in 14-pixel patches. */
export type ImageGrid = readonly [number, number];

/** Feature tokens one image contributes: h·w patches merged 2×2 (`image_grid_hws[i].prod() // 4`). */
export function imageTokenCount(grid: ImageGrid): number {
  return Math.floor((grid[0] * grid[1]) / 4);
}

/**
 * Replaces the k-th `<|media_pad|>` id with imageTokenCount(grids[k]) copies of it. Working on ids is
 * the same as the processor's text replacement: the pad string always encodes to the pad id.
 */
export function expandImagePlaceholders(
  ids: readonly number[],
  padId: number,
  grids: readonly ImageGrid[],
): number[] {
  const out: number[] = [];
  let k = 0;
  for (const id of ids) {
    if (id !== padId) {
      out.push(id);
      continue;
    }
    const grid = grids[k++];
    if (grid === undefined) break;
    for (let n = imageTokenCount(grid); n > 0; n--) out.push(padId);
  }
  const placeholders = ids.reduce((n, id) => n + (id === padId ? 1 : 0), 0);
  if (placeholders !== grids.length) {
    throw new KimiVLError(
      'ImageError',
      `the prompt has ${placeholders} image placeholder(s) but ${grids.length} image grid(s) were given; pass one grid per image, in prompt order`,
    );
  }
  return out;
}

/** What buildPromptIds needs from a tokenizer (Tokenizer satisfies it). */
export interface PromptTokenizer {
  encode(text: string): number[];
  encodeWithPlainSpans(text: string, plainSpans: ReadonlyArray<readonly [number, number]>): number[];
  specialTokenId(name: string): number;
}

export interface PromptOptions extends RenderOptions {
  /** Tokenize special-token strings in message text as special tokens (HF's behaviour). Default false. */
  allowSpecialTokensInText?: boolean;
}

/**
 * Segments → ids over the joined prompt string (so the BPE sees exactly what HF tokenizes), with
 * special-token strings honoured only in template pieces unless `allowSpecialTokensInText`.
 */
export function encodeSegments(
  tokenizer: PromptTokenizer,
  segments: readonly PromptSegment[],
  allowSpecialTokensInText = false,
): number[] {
  const text = segments.map((s) => s.text).join('');
  if (allowSpecialTokensInText) return tokenizer.encode(text);
  const spans: Array<[number, number]> = [];
  let at = 0;
  for (const s of segments) {
    const end = at + s.text.length;
    if (s.kind === 'content' && end > at) {
      const last = spans[spans.length - 1];
      if (last && last[1] === at) last[1] = end;
      else spans.push([at, end]);
    }
    at = end;
  }
  return tokenizer.encodeWithPlainSpans(text, spans);
}

/**
 * The model's input ids for a chat: template → tokens → image placeholders expanded.
 * `grids` holds one [h, w] patch grid per image in prompt order. The tokenizer adds no BOS/EOS.
 * `render` replaces the built-in template (e.g. a repo's own chat_template.jinja).
 */
export function buildPromptIds(
  tokenizer: PromptTokenizer,
  messages: readonly ChatMessage[],
  grids: readonly ImageGrid[],
  options: PromptOptions = { addGenerationPrompt: true },
  render: (messages: readonly ChatMessage[], options: PromptOptions) => PromptSegment[] = renderChatSegments,
): number[] {
  const segments = render(messages, options);
  const ids = encodeSegments(tokenizer, segments, options.allowSpecialTokensInText);
  return expandImagePlaceholders(ids, tokenizer.specialTokenId(MEDIA_PAD), grids);
}

/**
 * Ids that end the assistant's turn: `<|im_end|>` (what the template closes turns with) and `[EOS]`
 * (config eos_token_id), as recommended in spec 11.
 */
export function stopTokenIds(tokenizer: Pick<PromptTokenizer, 'specialTokenId'>): number[] {
  return [tokenizer.specialTokenId('<|im_end|>'), tokenizer.specialTokenId('[EOS]')];
}
