// `kimi-vl <command>`: each command lives in its own module under src/cli/ and is loaded lazily,
// so `kimi-vl tokenize` never pays for Playwright and `kimi-vl doctor` never parses weights.
// Commands that live outside the engine (the benchmark's, in bench/) are passed in by the caller
// (bin/kimi-vl.mjs), so nothing under src/ points at them.
import { isKimiVLError } from '../errors.ts';
import type { CommandLoader } from './command.ts';

const COMMANDS: Record<string, CommandLoader> = {
  doctor: () => import('./doctor.ts'),
  golden: () => import('./golden.ts'),
  inspect: () => import('./inspect.ts'),
  convert: () => import('./convert.ts'),
  plan: () => import('./plan.ts'),
  tokenize: () => import('./tokenize.ts'),
  run: () => import('./run.ts'),
};

function help(names: string[]): string {
  return ['usage: kimi-vl <command> [options]', '', 'commands:', ...names.map((n) => `  ${n}`)].join('\n');
}

/** `extra`: further commands composed in from outside src/ (e.g. `bench` from bench/cli_command.ts). */
export async function main(argv: string[], extra: Record<string, CommandLoader> = {}): Promise<number> {
  const commands: Record<string, CommandLoader> = { ...COMMANDS, ...extra };
  const names = Object.keys(commands).sort();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help(names));
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`kimi-vl: unknown command "${name}"\n\n${help(names)}`);
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
    // Typed errors are expected outcomes (bad checkpoint, no GPU): print the message, not a stack.
    if (isKimiVLError(e)) {
      console.error(`kimi-vl ${name}: ${(e as Error).name}: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}
