// `kimi-vl <command>`: each command lives in its own module under src/cli/ and is loaded lazily,
// so `kimi-vl tokenize` never pays for Playwright and `kimi-vl doctor` never parses weights.
import { isKimiVLError } from '../errors.ts';

export interface CliCommand {
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<{ command: CliCommand }>> = {
  doctor: () => import('./doctor.ts'),
  golden: () => import('./golden.ts'),
  bench: () => import('./bench.ts'),
  inspect: () => import('./inspect.ts'),
  convert: () => import('./convert.ts'),
  plan: () => import('./plan.ts'),
  tokenize: () => import('./tokenize.ts'),
  run: () => import('./run.ts'),
};

/** Registers a command module; later issues add theirs in COMMANDS above. */
export function commandNames(): string[] {
  return Object.keys(COMMANDS).sort();
}

function help(): string {
  return ['usage: kimi-vl <command> [options]', '', 'commands:', ...commandNames().map((n) => `  ${n}`)].join(
    '\n',
  );
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`kimi-vl: unknown command "${name}"\n\n${help()}`);
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
