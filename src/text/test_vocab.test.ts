// The committed tokenizer folders are exactly what scripts/make-test-vocab.ts generates.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyTokenizer, TINY_VOCAB_SIZES, writeAll } from '../../scripts/make-test-vocab.ts';
import { byteTokenOrder, trainBpe } from '../../scripts/text-bpe-train.ts';
import { REPO_ROOT } from './fixtures/node_helpers.ts';
import { Tokenizer } from './tokenizer.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kimi-vocab-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('make-test-vocab', () => {
  it('regenerates the committed folders byte for byte (deterministic, and up to date)', () => {
    writeAll(tmp);
    const folders = [
      'src/text/fixtures/test-vocab',
      ...TINY_VOCAB_SIZES.map((v) => `public/tokenizers/tiny-${v}`),
    ];
    for (const folder of folders) {
      for (const name of ['tiktoken.model', 'tokenizer_config.json']) {
        const committed = readFileSync(join(REPO_ROOT, folder, name), 'utf8');
        expect(readFileSync(join(tmp, folder, name), 'utf8'), `${folder}/${name}`).toBe(committed);
      }
    }
    const size = (f: string) => readFileSync(join(REPO_ROOT, f)).length;
    expect(size('src/text/fixtures/test-vocab/tiktoken.model')).toBeLessThan(200_000);
  });

  it('tiny tokenizers have V - 32 base tokens: 256 bytes then merges', () => {
    const files = makeTinyTokenizer(300);
    const tok = Tokenizer.fromFiles(files['tiktoken.model'], files['tokenizer_config.json']);
    expect(tok.numBaseTokens).toBe(268);
    expect(tok.vocabSize).toBe(300);
    expect(tok.specialTokenId('[PAD]')).toBe(299);
    expect(() => makeTinyTokenizer(287)).toThrow(/fewer than 256/);
  });

  it('BPE training merges the most frequent pair first and never crosses pre-token boundaries', () => {
    const tokens = trainBpe('aa aa aa ab', 3);
    expect(tokens.slice(0, 256).map((t) => t.charCodeAt(0))).toEqual(byteTokenOrder());
    // Pre-tokens: "aa", " aa" ×2, " ab". Pairs: (a,a) ×3 and (' ',a) ×3 tie, and ties go to the
    // lower ids ('a' ranks before ' ' in byte order); then (' ',aa) ×2; then (' ',a) and (a,b) tie
    // at 1. "aa" + " " is never counted: it would cross a pre-token boundary.
    expect(tokens.slice(256)).toEqual(['aa', ' aa', 'ab']);
    expect(new Set(byteTokenOrder()).size).toBe(256);
  });
});
