import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer, REPO_ROOT, TEST_VOCAB_DIR } from '../text/fixtures/node_helpers.ts';

const tok = loadTokenizer(TEST_VOCAB_DIR);
const tmp = mkdtempSync(join(tmpdir(), 'kimi-tokenize-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/kimi-vl.mjs'), 'tokenize', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kimi-vl tokenize', () => {
  it('--text prints the ids as JSON', () => {
    const text = 'Hello 世界 <|im_end|> 😀';
    const r = cli('--tokenizer', TEST_VOCAB_DIR, '--text', text);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(tok.encode(text));
  });

  it('--file and --jsonl (one array per input line, in order)', () => {
    const texts = ['first line', 'second\nwith newline', '', '<|im_user|>user'];
    const jsonl = join(tmp, 'in.jsonl');
    writeFileSync(jsonl, `${texts.map((t) => JSON.stringify(t)).join('\n')}\n`);
    const r = cli('--tokenizer', TEST_VOCAB_DIR, '--jsonl', jsonl);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(texts.map((t) => tok.encode(t)));

    const file = join(tmp, 'in.txt');
    writeFileSync(file, texts.join('\n'));
    const f = cli('--tokenizer', TEST_VOCAB_DIR, '--file', file);
    expect(JSON.parse(f.stdout)).toEqual(tok.encode(texts.join('\n')));
  });

  it('explains a missing tokenizer folder or input', () => {
    const missing = cli('--tokenizer', join(tmp, 'nope'), '--text', 'x');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/TokenizerError: .*tiktoken\.model not found/);
    expect(cli('--tokenizer', TEST_VOCAB_DIR).stderr).toMatch(/exactly one of --text, --file or --jsonl/);
  });
});
