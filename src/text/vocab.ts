// Parsing Kimi's tokenizer files (spec 6.1, 6.3):
//   tiktoken.model         one line per base token: base64(bytes) <space> rank
//   tokenizer_config.json  `added_tokens_decoder` {"<id>": {"content": "<name>"}} names specials.
// Special ids are num_base .. num_base + num_reserved + 2 - 1 (tokenization_moonshot.py, note the +2);
// unnamed ones are called <|reserved_token_{id}|>.
import { KimiVLError } from '../errors.ts';
import { bytesToBinary } from './bpe.ts';

/** tokenization_moonshot.py `num_reserved_special_tokens`; tiny tokenizers override it in their config. */
export const DEFAULT_NUM_RESERVED_SPECIAL_TOKENS = 256;

export interface BaseVocab {
  /** binary string of the token's bytes → rank (= id) */
  ranks: Map<string, number>;
  /** id → bytes; dense for 0..size-1 */
  tokenBytes: Uint8Array[];
}

export function parseTiktokenModel(text: string): BaseVocab {
  const ranks = new Map<string, number>();
  const tokenBytes: Uint8Array[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    const space = line.indexOf(' ');
    const rank = Number(line.slice(space + 1));
    if (space <= 0 || !Number.isInteger(rank) || rank < 0) {
      throw new KimiVLError(
        'TokenizerError',
        `tiktoken.model line ${lineNo} is not "<base64> <rank>": "${line.slice(0, 60)}"`,
      );
    }
    const bytes = base64ToBytes(line.slice(0, space), lineNo);
    const key = bytesToBinary(bytes);
    if (ranks.has(key) || tokenBytes[rank] !== undefined) {
      throw new KimiVLError(
        'TokenizerError',
        `tiktoken.model line ${lineNo}: duplicate token or rank ${rank}`,
      );
    }
    ranks.set(key, rank);
    tokenBytes[rank] = bytes;
  }
  // HF numbers the specials from len(mergeable_ranks), so ranks must be exactly 0..n-1.
  for (let id = 0; id < tokenBytes.length; id++) {
    if (tokenBytes[id] === undefined) {
      throw new KimiVLError(
        'TokenizerError',
        `tiktoken.model has no token with rank ${id}; ranks must be 0..N-1`,
      );
    }
  }
  for (let b = 0; b < 256; b++) {
    if (!ranks.has(String.fromCharCode(b))) {
      throw new KimiVLError(
        'TokenizerError',
        `tiktoken.model lacks the single-byte token 0x${b.toString(16)}`,
      );
    }
  }
  return { ranks, tokenBytes };
}

function base64ToBytes(b64: string, lineNo: number): Uint8Array {
  let bin: string;
  try {
    bin = atob(b64);
  } catch (e) {
    throw new KimiVLError('TokenizerError', `tiktoken.model line ${lineNo}: invalid base64 "${b64}"`, {
      cause: e,
    });
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
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
