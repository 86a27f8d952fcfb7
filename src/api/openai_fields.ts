// Which OpenAI chat.completions fields kimi-vl-web honours. A field it would silently ignore (n > 1,
// tools, logprobs, response_format, penalties its sampler lacks, …) is refused with an
// UnsupportedFieldsError that names every such field at once, as WebLLM does: a caller who asks for
// JSON mode or three choices must not get one free-form answer without a word.
import { KimiVLError } from '../errors.ts';

/** Thrown by chat.completions.create for fields the engine does not honour; `fields` lists them all. */
export class UnsupportedFieldsError extends KimiVLError {
  constructor(readonly fields: string[]) {
    super(
      'UnsupportedFieldsError',
      `chat.completions.create: kimi-vl-web does not support ${fields.join(', ')}; remove ${fields.length > 1 ? 'them' : 'it'} from the request`,
    );
  }
}

/** Top-level fields that are honoured (or, like `user`, only describe the caller). */
const HONOURED = new Set([
  'messages',
  'model',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'repetition_penalty',
  'stop',
  'signal',
  'user',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Fields accepted at the value that means "off" (what OpenAI does when they are absent); any other
 * value asks for something the engine cannot do. The sampler has a repetition penalty but no
 * frequency or presence penalty, so those are accepted only at 0.
 */
const ONLY_WHEN_OFF: Record<string, (v: unknown) => boolean> = {
  n: (v) => v === 1,
  frequency_penalty: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  logprobs: (v) => v === false,
  top_logprobs: (v) => v === 0,
  tools: (v) => Array.isArray(v) && v.length === 0,
  functions: (v) => Array.isArray(v) && v.length === 0,
  tool_choice: (v) => v === 'none',
  function_call: (v) => v === 'none',
  response_format: (v) => isObj(v) && v.type === 'text' && Object.keys(v).length === 1,
  logit_bias: (v) => isObj(v) && Object.keys(v).length === 0,
  store: (v) => v === false,
  modalities: (v) => Array.isArray(v) && v.every((m) => m === 'text'),
};

const MESSAGE_KEYS = new Set(['role', 'content']);
/** Assistant-turn fields that are fine when empty. */
const EMPTY_OK: Record<string, (v: unknown) => boolean> = {
  tool_calls: (v) => Array.isArray(v) && v.length === 0,
};
const PART_TYPES = new Set(['text', 'image_url', 'image']);

function named(key: string, v: unknown): string {
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string'
    ? `${key}=${JSON.stringify(v)}`
    : key;
}

function messageFields(m: unknown, i: number, out: string[]): void {
  if (!isObj(m)) return; // shape errors are validate.ts's
  const at = `messages[${i}]`;
  if (m.role === 'tool' || m.role === 'function') out.push(`${at}.role=${JSON.stringify(m.role)}`);
  for (const [k, v] of Object.entries(m)) {
    if (MESSAGE_KEYS.has(k) || v === undefined || v === null || EMPTY_OK[k]?.(v)) continue;
    out.push(`${at}.${k}`);
  }
  if (!Array.isArray(m.content)) return;
  m.content.forEach((p, j) => {
    if (!isObj(p)) return;
    const pat = `${at}.content[${j}]`;
    if (typeof p.type === 'string' && !PART_TYPES.has(p.type))
      out.push(`${pat}.type=${JSON.stringify(p.type)}`);
    const detail = isObj(p.image_url) ? p.image_url.detail : undefined;
    if (detail !== undefined && detail !== null && detail !== 'auto')
      out.push(`${pat}.image_url.detail=${JSON.stringify(detail)}`);
  });
}

/** Every field of `req` the engine would not honour, named as a caller wrote it. */
export function unsupportedFields(req: unknown): string[] {
  if (!isObj(req)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(req)) {
    if (v === undefined || v === null || HONOURED.has(k)) continue;
    const off = ONLY_WHEN_OFF[k];
    if (!off?.(v)) out.push(named(k, v));
  }
  if (isObj(req.stream_options))
    for (const [k, v] of Object.entries(req.stream_options))
      if (
        k !== 'include_usage' &&
        !(k === 'include_obfuscation' && v === false) &&
        v !== undefined &&
        v !== null
      )
        out.push(`stream_options.${k}`);
  if (Array.isArray(req.messages)) for (const [i, m] of req.messages.entries()) messageFields(m, i, out);
  return out;
}

/** Throws UnsupportedFieldsError when the request asks for anything the engine does not do. */
export function refuseUnsupportedFields(req: unknown): void {
  const fields = unsupportedFields(req);
  if (fields.length) throw new UnsupportedFieldsError(fields);
}
