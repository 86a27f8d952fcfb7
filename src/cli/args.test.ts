import { afterEach, describe, expect, it, vi } from 'vitest';
import { closestFlag, flag, looksLikeLocalPath, parseArgs, UsageError, withCliFlagNames } from './args.ts';
import type { CommandLoader } from './command.ts';
import { help, main, packageVersion } from './main.ts';

const SPEC = { context: 'string', config: 'string', image: 'string', json: 'boolean' } as const;

describe('parseArgs (node:util, strict)', () => {
  it('reads values, repeats, booleans and positionals', () => {
    const p = parseArgs(['pos', '--context', '8192', '--image', 'a', '--image=b', '--json'], SPEC);
    expect(p.positional).toEqual(['pos']);
    expect(flag(p, 'context')).toBe('8192');
    expect(p.flags.get('image')).toEqual(['a', 'b']);
    expect(flag(p, 'json')).toBe('true');
    expect(p.flags.has('config')).toBe(false);
  });

  it('a misspelt flag is a usage error suggesting the real one', () => {
    expect(() => parseArgs(['--contxt', '8192'], SPEC)).toThrow(UsageError);
    expect(() => parseArgs(['--contxt', '8192'], SPEC)).toThrow(
      /unknown option --contxt; did you mean --context\?/,
    );
    expect(() => parseArgs(['--verbose'], SPEC)).toThrow(
      /unknown option --verbose \(options: --context, --config/,
    );
    expect(() => parseArgs(['-x'], SPEC)).toThrow(/unknown option -x/);
  });

  it('a string flag without a value, or a boolean with one, is a usage error', () => {
    expect(() => parseArgs(['--context'], SPEC)).toThrow(/--context needs a value/);
    expect(() => parseArgs(['--json=yes'], SPEC)).toThrow(/--json takes no value/);
    expect(flag(parseArgs(['--context=-1'], SPEC), 'context')).toBe('-1');
  });

  it('closestFlag only suggests near misses', () => {
    expect(closestFlag('max-token', ['max-tokens', 'model'])).toBe('max-tokens');
    expect(closestFlag('tokenizerUrl', ['tokenizer', 'text'])).toBe('tokenizer');
    expect(closestFlag('zzzzzz', ['model', 'quant'])).toBeNull();
  });
});

describe('CLI messages', () => {
  it('a local-looking path is told apart from a repo id or a URL', () => {
    for (const p of ['./models/x', '../x', '/abs/x', '~/x', 'a/b/c', 'C:\\models', '.'])
      expect(looksLikeLocalPath(p), p).toBe(true);
    for (const r of ['moonshotai/Kimi-VL-A3B-Instruct', 'org/name@main', 'https://x.test/m/', 'tiny'])
      expect(looksLikeLocalPath(r), r).toBe(false);
  });

  it('engine option names become CLI flags', () => {
    expect(withCliFlagNames('no tokenizer; pass tokenizerUrl when loading')).toBe(
      'no tokenizer; pass --tokenizer when loading',
    );
  });
});

describe('kimi-vl main', () => {
  afterEach(() => vi.restoreAllMocks());
  const out = () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s) => void lines.push(String(s)));
    vi.spyOn(console, 'error').mockImplementation((s) => void lines.push(String(s)));
    return lines;
  };
  const fake =
    (run: (args: string[]) => Promise<number>): CommandLoader =>
    async () => ({
      command: {
        summary: 'Do a thing.\nMore detail.',
        usage: 'kimi-vl thing --n N',
        run,
      },
    });

  it('--version prints the package version', async () => {
    const lines = out();
    expect(await main(['--version'])).toBe(0);
    expect(lines).toEqual([packageVersion()]);
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('the top-level help has one line per command with what it does', async () => {
    const text = await help({ thing: fake(async () => 0) });
    expect(text).toContain('  thing  Do a thing');
    expect(text).not.toContain('More detail');
    const lines = out();
    expect(await main(['--help'])).toBe(0);
    for (const name of [
      'check',
      'convert',
      'doctor',
      'download',
      'golden',
      'inspect',
      'plan',
      'run',
      'tokenize',
    ])
      expect(lines[0], name).toMatch(new RegExp(`\\n  ${name} +\\S.{10,}`));
  });

  it('a flag error exits 2 with the message; an unknown command suggests the closest', async () => {
    const lines = out();
    const thing = fake(async (args) => {
      parseArgs(args, { n: 'string' });
      return 0;
    });
    expect(await main(['thing', '--m', '1'], { thing })).toBe(2);
    expect(lines.join('\n')).toMatch(/kimi-vl thing: ConfigError: unknown option --m; did you mean --n\?/);
    expect(await main(['thnig'], { thing })).toBe(2);
    expect(lines.join('\n')).toMatch(/unknown command "thnig" \(did you mean "thing"\?\)/);
  });

  it('plan --contxt is refused instead of planning for the default context', async () => {
    const lines = out();
    expect(await main(['plan', '--config', 'x.json', '--contxt', '8192'])).toBe(2);
    expect(lines.join('\n')).toMatch(/did you mean --context/);
  });
});
