// Generation options as callers write them, and their validated form. Defaults follow the Kimi-VL model
// cards (Instruct: temperature 0.2; Thinking: 0.8) only when the caller gives nothing.
import { KimiVLError } from '../errors.ts';
import type { SamplingParams } from '../kernels/types.ts';

export interface GenerateOptions {
  /** Most new tokens to generate (default 512). */
  maxTokens?: number;
  /** 0 = greedy. Default 0.2 (Instruct) or 0.8 (Thinking). */
  temperature?: number;
  /** Nucleus mass in (0, 1]; 1 disables. Default 1. */
  topP?: number;
  /** Keep only the k most likely ids; 0 disables. Default 0. */
  topK?: number;
  /** HF-style penalty on ids already in the prompt or the answer; 1 disables. Default 1. */
  repetitionPenalty?: number;
  /** Random stream; the same seed and options give the same tokens. Default: random. */
  seed?: number;
  /**
   * Strings that end the answer when the detokenized answer text contains one (OpenAI `stop`). The
   * stop string itself is not emitted; a Thinking model's reasoning is not searched.
   */
  stop?: string | readonly string[];
  /**
   * Tokenize special-token strings in user/system text as the special tokens they name (e.g. a
   * literal `<|im_end|>` closes the turn). Default false: message text is plain text, and only the
   * chat template and image parts insert special tokens. For advanced use with trusted text only.
   */
  allowSpecialTokensInText?: boolean;
  /** Each image resized so its LM tokens are at most this (fewer tokens: faster, less detail). */
  maxImageTokens?: number;
}

export interface ResolvedGenerateOptions {
  maxTokens: number;
  sampling: SamplingParams;
  /** Non-empty stop strings (empty: none). */
  stop: string[];
}

export const DEFAULT_MAX_TOKENS = 512;
/** More stop strings than this is a mistake, not a use (OpenAI allows 4). */
export const MAX_STOP_STRINGS = 16;

function resolveStop(stop: GenerateOptions['stop']): string[] {
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === 'string' ? [stop] : stop;
  check(Array.isArray(list), `stop must be a string or an array of strings, got ${typeof stop}`);
  check(
    list.length <= MAX_STOP_STRINGS,
    `stop takes at most ${MAX_STOP_STRINGS} strings, got ${list.length}`,
  );
  for (const [i, s] of list.entries())
    check(
      typeof s === 'string' && s.length > 0,
      `stop[${i}] must be a non-empty string, got ${JSON.stringify(s)}`,
    );
  return [...list];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new KimiVLError('ConfigError', what);
}

/** Validates options and fills defaults. `thinking` picks the model card's default temperature. */
export function resolveGenerateOptions(
  o: GenerateOptions,
  thinking: boolean,
  randomSeed: () => number = () => Math.floor(Math.random() * 0x7fffffff),
): ResolvedGenerateOptions {
  const maxTokens = o.maxTokens ?? DEFAULT_MAX_TOKENS;
  check(
    Number.isInteger(maxTokens) && maxTokens >= 1,
    `maxTokens must be a positive integer, got ${maxTokens}`,
  );
  const temperature = o.temperature ?? (thinking ? 0.8 : 0.2);
  check(Number.isFinite(temperature) && temperature >= 0, `temperature must be ≥ 0, got ${temperature}`);
  const topP = o.topP ?? 1;
  check(topP > 0 && topP <= 1, `topP must be in (0, 1], got ${topP}`);
  const topK = o.topK ?? 0;
  check(Number.isInteger(topK) && topK >= 0, `topK must be an integer ≥ 0, got ${topK}`);
  const repetitionPenalty = o.repetitionPenalty ?? 1;
  check(
    Number.isFinite(repetitionPenalty) && repetitionPenalty > 0,
    `repetitionPenalty must be > 0, got ${repetitionPenalty}`,
  );
  const seed = o.seed ?? randomSeed();
  check(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, `seed must be a u32 integer, got ${seed}`);
  const stop = resolveStop(o.stop);
  return { maxTokens, sampling: { temperature, topP, topK, repetitionPenalty, seed }, stop };
}
