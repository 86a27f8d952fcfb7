// Run settings per mode and writing the three result files (shared by `kimi-vl bench` and bench/dawn_run.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { renderMarkdown, renderSvg } from './report.ts';
import type { BenchConfig, BenchResult } from './types.ts';

export function benchConfig(opts: {
  quick: boolean;
  smoke: boolean;
  hardware: boolean;
  reps?: number;
  maxWeightMb?: number;
}): BenchConfig {
  const quick = opts.quick || opts.smoke;
  return {
    quick,
    smoke: opts.smoke,
    maxWeightBytes: opts.maxWeightMb !== undefined ? opts.maxWeightMb * 1e6 : opts.hardware ? null : 64e6,
    // smoke figures are not meant to be read: no warm-up, so pipeline compiles land in the one sample
    warmup: opts.smoke ? 0 : opts.hardware ? 3 : 1,
    reps: opts.reps ?? (opts.smoke ? 1 : quick ? 3 : opts.hardware ? 9 : 5),
  };
}

export function writeResults(dir: string, r: BenchResult): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    'latest.md': renderMarkdown(r),
    'latest.json': `${JSON.stringify(r, null, 2)}\n`,
    'latest.svg': renderSvg(r),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((n) => join(dir, n));
}

/** `git rev-parse --short HEAD` (+dirty), or KIMI_VL_BENCH_ENGINE where there is no .git (device copies). */
export function engineCommit(repo: string): string {
  if (process.env.KIMI_VL_BENCH_ENGINE) return process.env.KIMI_VL_BENCH_ENGINE;
  try {
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'shaders') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+dirty (src/ or shaders/ modified)' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

/** "N CPUs, load a → b" for the conditions: a loaded host slows a CPU adapter (SwiftShader) a lot. */
export function hostLoad(startLoad: number): string {
  return `${cpus().length} CPUs, 1-min load average ${startLoad.toFixed(1)} at start → ${loadavg()[0]!.toFixed(1)} at end`;
}

export const currentLoad = (): number => loadavg()[0]!;
