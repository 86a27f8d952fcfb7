// The trained tiny models' tokenizer: byte-level BPE (scripts/text-bpe-train.ts) learned on the task's
// own corpus (every prompt the chat template writes, the questions, answers, reasoning spans and the
// introduction), written in Kimi's file format (tiktoken.model + tokenizer_config.json) with the
// specials at S..S+31 as the golden configs lay them out (S = vocab_size - 32).
//
// usage: npx tsx scripts/train/make_tokenizer.ts <out dir>   (prints the vocab size)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SYSTEM_PROMPT } from '../../src/text/chat_template.ts';
import { formatTiktokenModel, NAMED_SPECIAL_OFFSETS, specialTokensConfig } from '../make-test-vocab.ts';
import { trainBpe } from '../text-bpe-train.ts';
import { allQuestions, answer, INTRO, makeScenes, thinkingAnswer } from './pictures.ts';
import { TEXT_PROMPTS } from './prompts.ts';

/** Named specials by offset from S (spec 6.3) as make-test-vocab.ts lays them out, [UNK]/[PAD] last. */
const SPECIALS: ReadonlyArray<[number, string]> = [...NAMED_SPECIAL_OFFSETS, [30, '[UNK]'], [31, '[PAD]']];

export function taskCorpus(): string {
  const parts = [DEFAULT_SYSTEM_PROMPT, 'system', 'user', 'assistant', 'image', INTRO, ...TEXT_PROMPTS];
  const questions = allQuestions();
  for (const [i, scene] of makeScenes(424242, 3000).entries()) {
    const q = questions[i % questions.length]!;
    parts.push(q, answer(scene, q), thinkingAnswer(scene, q));
  }
  parts.push(thinkingAnswer(null, 'Hello'));
  return parts.join('\n');
}

function tokenizerConfig(s: number): string {
  return specialTokensConfig(new Map(SPECIALS.map(([off, content]) => [s + off, content])), 30);
}

/** Learns every merge the corpus has (up to maxMerges); the vocabulary is those tokens + 32 specials. */
export function writeTaskTokenizer(dir: string, maxMerges = 1000): number {
  const tokens = trainBpe(taskCorpus(), maxMerges);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tiktoken.model'), formatTiktokenModel(tokens));
  writeFileSync(join(dir, 'tokenizer_config.json'), tokenizerConfig(tokens.length));
  return tokens.length + 32;
}

const out = process.argv[2];
if (out) console.log(writeTaskTokenizer(out));
