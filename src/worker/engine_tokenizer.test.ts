// No poisoned cache (#17): tokenizer files that parse but do not build a tokenizer are rejected back to
// the model's store (evicted from the cache), so the next load fetches them again instead of trusting them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { readTokenizer } from './engine_load.ts';

const MODEL = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;

function model(files: Record<string, string>) {
  const rejected: string[] = [];
  return {
    rejected,
    readFile: async (name: string) => (name in files ? new TextEncoder().encode(files[name]) : null),
    rejectFile: async (name: string) => {
      rejected.push(name);
    },
  };
}

describe('readTokenizer', () => {
  const good = {
    'tiktoken.model': readFileSync(`${MODEL}tiktoken.model`, 'utf8'),
    'tokenizer_config.json': readFileSync(`${MODEL}tokenizer_config.json`, 'utf8'),
  };

  it('builds the tokenizer from good files and rejects nothing', async () => {
    const m = model(good);
    const tok = await readTokenizer(m, undefined);
    expect(tok?.encode('hello').length).toBeGreaterThan(0);
    expect(m.rejected).toEqual([]);
  });

  it('a tiktoken.model that does not build is a typed error and every tokenizer file is rejected', async () => {
    const m = model({ ...good, 'tiktoken.model': 'not base64 !!! 12\n' });
    const err = await readTokenizer(m, undefined).catch((e) => e);
    expect(isKimiVLError(err)).toBe(true);
    expect(m.rejected).toEqual(['tiktoken.model', 'tokenizer_config.json', 'chat_template.jinja']);
  });
});
