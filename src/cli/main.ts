// `kimi-vl <command>`: each command lives in its own module under src/cli/ and is loaded lazily,
// so `kimi-vl tokenize` never pays for Playwright and `kimi-vl doctor` never parses weights.
// Commands that live outside the engine (the benchmark's, in bench/) are passed in by the caller
// (bin/kimi-vl.mjs), so nothing under src/ points at them.
import { readFileSync } from 'node:fs';
import { isKimiVLError } from '../errors.ts';
import { closestFlag, UsageError, withCliFlagNames } from './args.ts';
import type { CommandLoader } from './command.ts';

const COMMANDS: Record<string, CommandLoader> = {
  doctor: () => import('./doctor.ts'),
  golden: () => import('./golden.ts'),
  inspect: () => import('./inspect.ts'),
  convert: () => import('./convert.ts'),
  plan: () => import('./plan.ts'),
  tokenize: () => import('./tokenize.ts'),
  run: () => import('./run.ts'),
  check: () => import('./check.ts'),
  download: () => import('./download.ts'),
};

/** The package version, from the nearest package.json named kimi-vl-web above this file (src/cli or dist/cli). */
export function packageVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'kimi-vl-web' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look one folder up
    }
    if (dir.pathname === new URL('../', dir).pathname) return 'unknown';
  }
}

/** One line per command: its name and the first line of its summary. */
export async function help(commands: Record<string, CommandLoader>): Promise<string> {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((n) => n.length));
  const lines = await Promise.all(
    names.map(async (n) => {
      let summary: string;
      try {
        summary = (await commands[n]!()).command.summary.split('\n')[0]!.replace(/\.$/, '');
      } catch (e) {
        summary = `(unavailable here: ${(e as Error).message.split('\n')[0]})`;
      }
      return `  ${n.padEnd(width)}  ${summary}`;
    }),
  );
  return [
    `kimi-vl ${packageVersion()}: Kimi-VL vision-language models on WebGPU, from the command line`,
    '',
    'usage: kimi-vl <command> [options]',
    "       kimi-vl <command> --help    the command's options",
    '       kimi-vl --version',
    '',
    'commands:',
    ...lines,
  ].join('\n');
}

/** `extra`: further commands composed in from outside src/ (e.g. `bench` from bench/cli_command.ts). */
export async function main(argv: string[], extra: Record<string, CommandLoader> = {}): Promise<number> {
  const commands: Record<string, CommandLoader> = { ...COMMANDS, ...extra };
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(packageVersion());
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await help(commands));
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    const guess = closestFlag(name, Object.keys(commands));
    console.error(
      `kimi-vl: unknown command "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}\n\n${await help(commands)}`,
    );
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\nusage: ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    // Typed errors are expected outcomes (bad checkpoint, no GPU, a misspelt flag): print the message,
    // with the engine's option names turned into the CLI's flags, not a stack.
    if (isKimiVLError(e)) {
      console.error(`kimi-vl ${name}: ${(e as Error).name}: ${withCliFlagNames((e as Error).message)}`);
      return e instanceof UsageError ? 2 : 1;
    }
    throw e;
  }
}
