// The Node side of every bench run (`kimi-vl bench` in bench/cli_command.ts and the Dawn-for-Node run in
// bench/dawn_run.ts): run settings per mode, the one conditions builder and the one way a run ends
// (timing and host load filled in, the three result files written).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { renderMarkdown, renderSvg } from './report.ts';
import type { AdapterProbe } from './sections.ts';
import type { BenchConditions, BenchConfig, BenchResult } from './types.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..');

export function benchConfig(opts: {
  quick: boolean;
  smoke: boolean;
  hardware: boolean;
  reps?: number;
  maxWeightMb?: number;
  maxImagePatches?: number;
}): BenchConfig {
  const quick = opts.quick || opts.smoke;
  return {
    quick,
    smoke: opts.smoke,
    maxWeightBytes: opts.maxWeightMb !== undefined ? opts.maxWeightMb * 1e6 : opts.hardware ? null : 64e6,
    // 448² (1,024 patches) takes minutes per kernel set on SwiftShader; 896² would take tens of minutes
    maxImagePatches: opts.maxImagePatches ?? (opts.hardware ? null : 1024),
    // smoke figures are not meant to be read: no warm-up, so pipeline compiles land in the one sample
    warmup: opts.smoke ? 0 : opts.hardware ? 3 : 1,
    reps: opts.reps ?? (opts.smoke ? 1 : quick ? 3 : opts.hardware ? 9 : 5),
  };
}

/** Where the run's figures come from besides the adapter (the browser, or Node with Dawn). */
export interface RunPlace {
  userAgent: string;
  browser: string;
  hardware: boolean;
  /** How the side-by-side peer ran, or why it did not. */
  peer: string;
}

/** The conditions table of a run: the adapter as probed on the GPU side, the place, the engine commit. */
export function benchConditions(probe: AdapterProbe, place: RunPlace): BenchConditions {
  const a = probe.info;
  return {
    date: new Date().toISOString(),
    engine: engineCommit(REPO_ROOT),
    userAgent: place.userAgent,
    browser: place.browser,
    adapter: {
      vendor: a.vendor,
      architecture: a.architecture,
      device: a.device,
      description: a.description,
      fallback: a.isFallbackAdapter,
    },
    features: a.features,
    maxBufferSize: probe.maxBufferSize,
    maxStorageBufferBindingSize: probe.maxStorageBufferBindingSize,
    hardware: place.hardware,
    timing:
      'median of wall-clock samples around the GPU queue draining (rt.sync / onSubmittedWorkDone), each sample a batch of back-to-back runs; ' +
      `GPU timestamp queries ${probe.timestampQuery ? 'are available but not exposed by the runtime' : 'are not available on this adapter'}`,
    peer: place.peer,
  };
}

export interface RunStart {
  t0: number;
  load0: number;
}

/** Call when the run starts: its wall time and the host's load then go into the result. */
export const startRun = (): RunStart => ({ t0: Date.now(), load0: loadavg()[0]! });

/**
 * The one way a run ends: the seconds and the host load filled in, latest.{md,json,svg} written into
 * `out` (each listed as "wrote PATH"). Returns the exit code: 1 when a section failed.
 */
export function finishRun(out: string, start: RunStart, r: Omit<BenchResult, 'seconds'>): number {
  const result: BenchResult = {
    ...r,
    conditions: { ...r.conditions, host: hostLoad(start.load0) },
    seconds: (Date.now() - start.t0) / 1000,
  };
  for (const f of writeResults(out, result)) console.log(`wrote ${f}`);
  return result.failures.length ? 1 : 0;
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
