// The CLI commands' flag parser: node:util parseArgs in strict mode, so a misspelt or unknown flag is an
// error that names the flag and suggests the closest real one (`plan --contxt 8192` used to plan for
// the default context without a word). Every flag may repeat (`--image a --image b`); flag() reads the
// last value. Booleans read as 'true'.
import { parseArgs as parseNodeArgs } from 'node:util';
import { KimiVLError } from '../errors.ts';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

/** A flag the command does not know or a malformed value: the CLI exits with status 2 (usage). */
export class UsageError extends KimiVLError {
  constructor(message: string) {
    super('ConfigError', message);
  }
}

/** A command's flags: name (without --) → whether it takes a value. */
export type FlagSpec = Readonly<Record<string, 'boolean' | 'string'>>;

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known flag a mistyped one most likely meant, or null. */
export function closestFlag(typed: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = k.startsWith(typed) || typed.startsWith(k) ? 1 : distance(typed, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(typed.length / 3)) ? best : null;
}

function unknownFlag(raw: string, spec: FlagSpec): UsageError {
  const typed = raw.replace(/^-+/, '').split('=')[0]!;
  const known = Object.keys(spec);
  const guess = closestFlag(typed, known);
  const list = known.length ? known.map((k) => `--${k}`).join(', ') : 'none';
  return new UsageError(
    `unknown option ${raw.split('=')[0]}${guess ? `; did you mean --${guess}?` : ''} (options: ${list}, --help)`,
  );
}

/**
 * Parses `args` against the command's flags. Unknown flags, a value missing after a string flag, or a
 * value given to a boolean are ConfigErrors. (A negative number as a value is written `--flag=-1`.)
 */
export function parseArgs(args: string[], spec: FlagSpec = {}): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries(spec).map(([name, type]) => [name, { type, multiple: true }] as const),
  );
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const flagText = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw unknownFlag(flagText, spec);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = flagText.replace(/^-+/, '');
      const why =
        spec[name] === 'boolean'
          ? 'takes no value'
          : `needs a value (write a value that starts with "-" as ${flagText}=-1)`;
      throw new UsageError(`option ${flagText} ${why}`);
    }
    throw new UsageError(err.message);
  }
  const flags = new Map<string, string[]>();
  for (const [name, value] of Object.entries(parsed.values)) {
    const list = (Array.isArray(value) ? value : [value]) as Array<string | boolean>;
    flags.set(
      name,
      list.map((v) => String(v)),
    );
  }
  return { positional: parsed.positionals, flags };
}

export function flag(p: ParsedArgs, key: string): string | undefined {
  const v = p.flags.get(key);
  return v?.[v.length - 1];
}

export function flagNumber(p: ParsedArgs, key: string, fallback: number): number {
  const v = flag(p, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n))
    throw new KimiVLError('ConfigError', `option --${key} expects a number, got "${v}"`);
  return n;
}

/**
 * Whether a --model value that names nothing on disk was meant as a local path (./x, ../x, /x, ~/x,
 * C:\x, x/y/z) rather than a Hugging Face repo id ("org/name[@rev]") or a URL: then the error names the
 * missing path instead of whatever a browser makes of it.
 */
export function looksLikeLocalPath(value: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return false; // a URL
  if (/^[\w.-]+\/[\w.-]+(@[\w./-]+)?$/.test(value) && !value.startsWith('.')) return false; // a repo id
  return /^(\.{1,2}[\\/]|[\\/]|~|[a-z]:[\\/])/i.test(value) || /[\\/]/.test(value) || value === '.';
}

/** API option names in engine messages → the CLI flags a CLI user can actually pass. */
const FLAG_FOR_OPTION: Record<string, string> = {
  tokenizerUrl: '--tokenizer',
  maxTokens: '--max-tokens',
  contextBudget: '--context',
  quantization: '--quant',
};

/** Rewrites an engine error message for the CLI (it names `--tokenizer`, not `tokenizerUrl`). */
export function withCliFlagNames(message: string): string {
  return message.replace(
    /\b(tokenizerUrl|maxTokens|contextBudget|quantization)\b/g,
    (m) => FLAG_FOR_OPTION[m]!,
  );
}
