// `kimi-vl tokenize`: token ids of a text with a tokenizer folder (tiktoken.model +
// tokenizer_config.json), for checking our tokenizer against Python's on the same files.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KimiVLError } from '../errors.ts';
import { Tokenizer } from '../text/tokenizer.ts';
import { flag, parseArgs } from './args.ts';
import type { CliCommand } from './command.ts';

export function loadTokenizerDir(dir: string): Tokenizer {
  const read = (name: string): string => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      throw new KimiVLError(
        'TokenizerError',
        `${path} not found; --tokenizer must name a folder with ${name}`,
      );
    }
    return readFileSync(path, 'utf8');
  };
  return Tokenizer.fromFiles(read('tiktoken.model'), read('tokenizer_config.json'));
}

export const command: CliCommand = {
  summary: 'Print the token ids of a text as JSON (special-token strings become their ids).',
  usage:
    'kimi-vl tokenize --tokenizer <dir> (--text <text> | --file <path> | --jsonl <path>)\n' +
    '  --jsonl: each line is a JSON string; prints one JSON array of ids per line, in order',
  async run(args) {
    const p = parseArgs(args, { tokenizer: 'string', text: 'string', file: 'string', jsonl: 'string' });
    const dir = flag(p, 'tokenizer');
    if (!dir) throw new KimiVLError('ConfigError', 'missing --tokenizer <dir>');
    const inputs = (['text', 'file', 'jsonl'] as const).filter((k) => flag(p, k) !== undefined);
    if (inputs.length !== 1)
      throw new KimiVLError('ConfigError', 'give exactly one of --text, --file or --jsonl');
    const tokenizer = loadTokenizerDir(dir);
    const text = flag(p, 'text');
    if (text !== undefined) {
      console.log(JSON.stringify(tokenizer.encode(text)));
      return 0;
    }
    const file = flag(p, 'file');
    if (file !== undefined) {
      console.log(JSON.stringify(tokenizer.encode(readFileSync(file, 'utf8'))));
      return 0;
    }
    const lines = readFileSync(flag(p, 'jsonl')!, 'utf8').split('\n');
    const out: string[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        value = undefined;
      }
      if (typeof value !== 'string') {
        throw new KimiVLError('ConfigError', `--jsonl line ${i + 1} is not a JSON string`);
      }
      out.push(JSON.stringify(tokenizer.encode(value)));
    });
    process.stdout.write(out.length ? `${out.join('\n')}\n` : '');
    return 0;
  },
};
