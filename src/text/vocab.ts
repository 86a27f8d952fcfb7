// Parsing Kimi's tokenizer files (spec 6.1, 6.3):
//   tiktoken.model         one line per base token: base64(bytes) <space> rank
//   tokenizer_config.json  `added_tokens_decoder` {"<id>": {"content": "<name>"}} names specials.
// Special ids are num_base .. num_base + num_reserved + 2 - 1 (tokenization_moonshot.py, note the +2);
// unnamed ones are called <|reserved_token_{id}|>.
import { KimiVLError } from '../errors.ts';

/** tokenization_moonshot.py `num_reserved_special_tokens`; tiny tokenizers override it in their config. */
export const DEFAULT_NUM_RESERVED_SPECIAL_TOKENS = 256;

export interface BaseVocab {
  /** binary string of the token's bytes (one char per byte) → rank (= id) */
  ranks: Map<string, number>;
  /** Every token's bytes back to back, in rank order; token i is bytes[offsets[i]..offsets[i+1]). */
  bytes: Uint8Array;
  offsets: Uint32Array;
  size: number;
}

/**
 * Parses tiktoken.model. The real file has 163,584 lines, so this avoids per-line allocations beyond
 * the key string: base64 is decoded straight into a binary string (atob is slow in Node).
 */
export function parseTiktokenModel(text: string): BaseVocab {
  const ranks = new Map<string, number>();
  const keys: string[] = [];
  let lineNo = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let stop = end;
    while (stop > start && (text.charCodeAt(stop - 1) === 13 || text.charCodeAt(stop - 1) === 32)) stop--;
    if (stop > start) {
      const space = text.indexOf(' ', start);
      const rank = space > start && space < stop ? parseRank(text, space + 1, stop) : -1;
      if (rank < 0) {
        throw new KimiVLError(
          'TokenizerError',
          `tiktoken.model line ${lineNo} is not "<base64> <rank>": "${text.slice(start, Math.min(stop, start + 60))}"`,
        );
      }
      const key = base64ToBinary(text, start, space, lineNo);
      if (ranks.has(key) || keys[rank] !== undefined) {
        throw new KimiVLError(
          'TokenizerError',
          `tiktoken.model line ${lineNo}: duplicate token or rank ${rank}`,
        );
      }
      ranks.set(key, rank);
      keys[rank] = key;
    }
    start = end + 1;
  }
  // HF numbers the specials from len(mergeable_ranks), so ranks must be exactly 0..n-1.
  const offsets = new Uint32Array(keys.length + 1);
  for (let id = 0; id < keys.length; id++) {
    const key = keys[id];
    if (key === undefined) {
      throw new KimiVLError(
        'TokenizerError',
        `tiktoken.model has no token with rank ${id}; ranks must be 0..N-1`,
      );
    }
    offsets[id + 1] = offsets[id]! + key.length;
  }
  for (let b = 0; b < 256; b++) {
    if (!ranks.has(String.fromCharCode(b))) {
      throw new KimiVLError(
        'TokenizerError',
        `tiktoken.model lacks the single-byte token 0x${b.toString(16)}`,
      );
    }
  }
  const bytes = new Uint8Array(offsets[keys.length]!);
  for (let id = 0; id < keys.length; id++) {
    const key = keys[id]!;
    for (let i = 0, at = offsets[id]!; i < key.length; i++) bytes[at + i] = key.charCodeAt(i);
  }
  return { ranks, bytes, offsets, size: keys.length };
}

/** Decimal digits text[start..end) → number, or -1 if not all digits. */
function parseRank(text: string, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return end > start ? v : -1;
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BASE64_VALUE[BASE64_ALPHABET.charCodeAt(i)] = i;

/** Standard base64 in text[start..end) → binary string (one char per byte). */
function base64ToBinary(text: string, start: number, end: number, lineNo: number): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 61) break; // '=' padding ends the data
    const v = c < 128 ? BASE64_VALUE[c]! : -1;
    if (v < 0) break;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 0xff);
    }
  }
  while (i < end && text.charCodeAt(i) === 61) i++;
  if (i !== end || out.length === 0 || (end - start) % 4 !== 0) {
    throw new KimiVLError(
      'TokenizerError',
      `tiktoken.model line ${lineNo}: invalid base64 "${text.slice(start, end)}"`,
    );
  }
  return out;
}

/** Special token name → id, for every id of the special range (named or reserved). */
export function specialTokensFromConfig(configJson: string, numBaseTokens: number): Map<string, number> {
  let config: unknown;
  try {
    config = JSON.parse(configJson);
  } catch (e) {
    throw new KimiVLError('TokenizerError', 'tokenizer_config.json is not valid JSON', { cause: e });
  }
  if (typeof config !== 'object' || config === null) {
    throw new KimiVLError('TokenizerError', 'tokenizer_config.json must be a JSON object');
  }
  const { added_tokens_decoder: decoder = {}, num_reserved_special_tokens: reserved } = config as {
    added_tokens_decoder?: Record<string, { content?: unknown }>;
    num_reserved_special_tokens?: unknown;
  };
  const numReserved = reserved === undefined ? DEFAULT_NUM_RESERVED_SPECIAL_TOKENS : reserved;
  if (typeof numReserved !== 'number' || !Number.isInteger(numReserved) || numReserved < -2) {
    throw new KimiVLError(
      'TokenizerError',
      'tokenizer_config.json: num_reserved_special_tokens must be an integer',
    );
  }
  const names = new Map<number, string>();
  for (const [key, entry] of Object.entries(decoder)) {
    const id = Number(key);
    if (!Number.isInteger(id) || typeof entry?.content !== 'string') {
      throw new KimiVLError(
        'TokenizerError',
        `tokenizer_config.json: bad added_tokens_decoder entry "${key}"`,
      );
    }
    names.set(id, entry.content);
  }
  const specials = new Map<string, number>();
  const end = numBaseTokens + numReserved + 2;
  for (let id = numBaseTokens; id < end; id++) {
    const name = names.get(id) ?? `<|reserved_token_${id}|>`;
    if (specials.has(name)) {
      throw new KimiVLError('TokenizerError', `tokenizer_config.json names two special tokens "${name}"`);
    }
    specials.set(name, id);
  }
  return specials;
}
