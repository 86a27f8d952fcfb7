// Generates tokenizer folders in Kimi's real file format (tiktoken.model + tokenizer_config.json):
//   src/text/fixtures/test-vocab/   256 bytes + 3000 learned merges, specials laid out as the real
//                                   model's (258 ids from num_base, names per spec 6.3)
//   public/tokenizers/tiny-<V>/     for tiny models with vocab_size V: S = V - 32 base tokens and
//                                   specials S..V-1 named as the golden configs expect
// Deterministic: the same inputs give byte-identical files (a test regenerates and compares).
//
// usage: npx tsx scripts/make-test-vocab.ts [--out <root>]    (default: the repository root)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainBpe } from './text-bpe-train.ts';
import { trainingCorpus } from './text-train-corpus.ts';

export const TEST_VOCAB_MERGES = 3000;
export const TINY_VOCAB_SIZES = [512, 1000] as const;

/** Named specials by offset from num_base (spec 6.3; the same offsets for the golden tiny configs). */
export const NAMED_SPECIAL_OFFSETS: ReadonlyArray<[number, string]> = [
  [0, '[BOS]'],
  [1, '[EOS]'],
  [2, '<|im_end|>'],
  [3, '<|im_user|>'],
  [4, '<|im_assistant|>'],
  [6, '<|start_header_id|>'],
  [7, '<|end_header_id|>'],
  [9, '[EOT]'],
  [10, '<|im_system|>'],
  [17, '<|im_middle|>'],
  [18, '<|media_start|>'],
  [19, '<|media_content|>'],
  [20, '<|media_end|>'],
  [21, '<|media_pad|>'],
];

export interface TokenizerFiles {
  'tiktoken.model': string;
  'tokenizer_config.json': string;
}

/** tiktoken.model text: `base64(bytes) rank` per line, in rank order. */
export function formatTiktokenModel(tokens: readonly string[]): string {
  return tokens.map((bin, rank) => `${btoa(bin)} ${rank}\n`).join('');
}

/**
 * tokenizer_config.json in the HF shape. `numReserved` is written only when it differs from the
 * real 256 (our loader reads it; HF's class hard-codes 256).
 */
function formatConfig(numBase: number, numReserved: number, unkPad: [number, number]): string {
  const names = new Map<number, string>(NAMED_SPECIAL_OFFSETS.map(([off, name]) => [numBase + off, name]));
  names.set(unkPad[0], '[UNK]');
  names.set(unkPad[1], '[PAD]');
  return specialTokensConfig(names, numReserved);
}

/**
 * tokenizer_config.json of a Kimi (TikTokenTokenizer) folder with these special tokens (id → name);
 * `numReserved` is written only when it differs from the real 256.
 */
export function specialTokensConfig(names: ReadonlyMap<number, string>, numReserved: number): string {
  const decoder: Record<string, object> = {};
  for (const id of [...names.keys()].sort((a, b) => a - b)) {
    decoder[String(id)] = {
      content: names.get(id),
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  }
  const config: Record<string, unknown> = {
    added_tokens_decoder: decoder,
    additional_special_tokens: [
      '<|im_end|>',
      '<|im_user|>',
      '<|im_assistant|>',
      '<|im_system|>',
      '<|im_middle|>',
    ],
    bos_token: '[BOS]',
    clean_up_tokenization_spaces: false,
    eos_token: '[EOS]',
    model_max_length: 1048576,
    pad_token: '[PAD]',
    tokenizer_class: 'TikTokenTokenizer',
    unk_token: '[UNK]',
  };
  if (numReserved !== 256) config.num_reserved_special_tokens = numReserved;
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The test vocabulary: real special layout (258 ids, [UNK]/[PAD] at base+254/255). */
export function makeTestVocab(): TokenizerFiles {
  const tokens = trainBpe(trainingCorpus(), TEST_VOCAB_MERGES);
  const s = tokens.length;
  return {
    'tiktoken.model': formatTiktokenModel(tokens),
    'tokenizer_config.json': formatConfig(s, 256, [s + 254, s + 255]),
  };
}

/** A tokenizer for a tiny model with `vocabSize` ids: S = V - 32 base tokens, specials S..V-1. */
export function makeTinyTokenizer(vocabSize: number): TokenizerFiles {
  const s = vocabSize - 32;
  if (!Number.isInteger(vocabSize) || s < 256)
    throw new Error(`vocab size ${vocabSize} leaves fewer than 256 base tokens`);
  const tokens = trainBpe(trainingCorpus(), s - 256);
  if (tokens.length !== s)
    throw new Error(`the corpus yields only ${tokens.length - 256} merges, need ${s - 256}`);
  return {
    'tiktoken.model': formatTiktokenModel(tokens),
    'tokenizer_config.json': formatConfig(s, 30, [vocabSize - 2, vocabSize - 1]),
  };
}

export function writeTokenizerFiles(dir: string, files: TokenizerFiles): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** Writes every generated folder under `root`. */
export function writeAll(root: string): void {
  writeTokenizerFiles(join(root, 'src/text/fixtures/test-vocab'), makeTestVocab());
  for (const v of TINY_VOCAB_SIZES)
    writeTokenizerFiles(join(root, `public/tokenizers/tiny-${v}`), makeTinyTokenizer(v));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const root = at > 0 ? resolve(process.argv[at + 1]!) : resolve(fileURLToPath(import.meta.url), '../..');
  writeAll(root);
  console.log(`wrote tokenizer folders under ${root}`);
}
