// Minimal flag parser shared by the CLI commands: `--key value`, `--flag`, repeated `--key a --key b`.
import { KimiVLError } from '../errors.ts';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

export function parseArgs(args: string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else if (booleanFlags.includes(key)) value = 'true';
    else {
      const next = args[i + 1];
      if (next === undefined) throw new KimiVLError('ConfigError', `option --${key} needs a value`);
      value = next;
      i++;
    }
    flags.set(key, [...(flags.get(key) ?? []), value]);
  }
  return { positional, flags };
}

export function flag(p: ParsedArgs, key: string): string | undefined {
  const v = p.flags.get(key);
  return v?.[v.length - 1];
}

export function flagNumber(p: ParsedArgs, key: string, fallback: number): number {
  const v = flag(p, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new KimiVLError('ConfigError', `option --${key} expects a number, got "${v}"`);
  return n;
}
