// Kimi's pre-tokenisation (tokenization_moonshot.py `pat_str`, spec 6.2) and the input chunking
// its `encode()` applies before calling tiktoken.

/**
 * The pattern exactly as Kimi passes it to tiktoken (Rust regex / fancy-regex syntax). Only the
 * tests use it, to build the tiktoken oracle; the engine uses KIMI_PRETOKENIZE_REGEX below.
 */
export const KIMI_PAT_STR = [
  String.raw`[\p{Han}]+`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^\s\p{L}\p{N}]+[\r\n]*`,
  String.raw`\s*[\r\n]+`,
  String.raw`\s+(?!\S)`,
  String.raw`\s+`,
].join('|');

// The JS translation (needs the `v` flag for class subtraction). Differences from a literal
// transcription, each needed to match Rust's semantics:
//  - Rust `\s` is Unicode White_Space; JS `\s` also matches U+FEFF and misses U+0085.
//  - `\p{Han}` in Rust is Script=Han (not Script_Extensions).
//  - `(?i:'s)` under Unicode simple case folding also matches U+017F LATIN SMALL LETTER LONG S;
//    inline modifiers are not available in Node 20, so the cases are spelled out.
const WS = String.raw`\p{White_Space}`;
const UPPERISH = String.raw`[[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]--\p{Script=Han}]`;
const LOWERISH = String.raw`[[\p{Ll}\p{Lm}\p{Lo}\p{M}]--\p{Script=Han}]`;
const CONTRACTION = String.raw`(?:'[sS\u017F]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`;
const NOT_NEWLINE_LETTER_NUMBER = String.raw`[^\r\n\p{L}\p{N}]`;

export const KIMI_PRETOKENIZE_SOURCE = [
  String.raw`\p{Script=Han}+`,
  `${NOT_NEWLINE_LETTER_NUMBER}?${UPPERISH}*${LOWERISH}+${CONTRACTION}?`,
  `${NOT_NEWLINE_LETTER_NUMBER}?${UPPERISH}+${LOWERISH}*${CONTRACTION}?`,
  String.raw`\p{N}{1,3}`,
  ` ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*`,
  `${WS}*[\\r\\n]+`,
  `${WS}+(?!\\P{White_Space})`,
  `${WS}+`,
].join('|');

/** A fresh global regex (it carries lastIndex state, so callers must not share one across calls). */
export function kimiPretokenizeRegex(): RegExp {
  return new RegExp(KIMI_PRETOKENIZE_SOURCE, 'gv');
}

/**
 * Splits ordinary text (no special tokens) into pre-tokens, like tiktoken's `find_iter`.
 * Every code point matches some alternative, so the pieces concatenate back to the input.
 */
export function* pretokenize(text: string, regex: RegExp = kimiPretokenizeRegex()): Generator<string> {
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) yield m[0];
}

const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATE_G = /\p{Cs}/gu;

/**
 * Lone surrogates cannot be UTF-8 encoded; TextEncoder (and therefore the tiktoken WASM binding,
 * and any browser text input) turns each into U+FFFD. Doing it up front keeps the regex and the
 * byte view of every piece consistent.
 */
export function toWellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATE_G, '\uFFFD') : text;
}

// tokenization_moonshot.py: TIKTOKEN_MAX_ENCODE_CHARS and MAX_NO_WHITESPACES_CHARS. Both count
// Python code points.
export const MAX_ENCODE_CHARS = 400_000;
export const MAX_CONSECUTIVE_SLICE_LEN = 25_000;

/** Python's str.isspace() for one code point (Zs, or bidi class WS/B/S). */
export function isPythonSpace(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    (cp >= 0x1c && cp <= 0x20) ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/**
 * Kimi's `encode()` cuts the input into 400k-code-point slices and then cuts each slice wherever a
 * run of spaces or non-spaces grows past 25k code points (`_split_whitespaces_or_nonwhitespaces`),
 * so that tiktoken never sees a giant pre-token. Reproduced for fidelity on huge inputs; a no-op
 * (one chunk) for anything shorter than 25k UTF-16 units.
 */
export function splitForEncode(
  text: string,
  maxChars = MAX_ENCODE_CHARS,
  maxRun = MAX_CONSECUTIVE_SLICE_LEN,
): string[] {
  if (text.length <= Math.min(maxRun, maxChars)) return [text];
  const codePoints = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < codePoints.length; i += maxChars) {
    out.push(...splitRuns(codePoints.slice(i, i + maxChars), maxRun));
  }
  return out;
}

function splitRuns(s: string[], maxRun: number): string[] {
  const out: string[] = [];
  let runLen = 0;
  let runIsSpace = s.length > 0 && isPythonSpace(s[0]!.codePointAt(0)!);
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const isSpace = isPythonSpace(s[i]!.codePointAt(0)!);
    if (runIsSpace !== isSpace) {
      runLen = 1;
      runIsSpace = isSpace;
    } else {
      runLen++;
      if (runLen > maxRun) {
        out.push(s.slice(start, i).join(''));
        start = i;
        runLen = 1;
      }
    }
  }
  out.push(s.slice(start).join(''));
  return out;
}
