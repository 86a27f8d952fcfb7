// `kimi-vl bench`: kernels at real Kimi-VL shapes, the side-by-side with ONNX Runtime Web, and end-to-end
// figures, all in one headless Chromium page on one adapter; writes latest.{md,json,svg}.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flag, flagNumber, parseArgs, UsageError } from '../src/cli/args.ts';
import { type BrowserSession, withBrowser } from '../src/cli/browser.ts';
import type { CliCommand } from '../src/cli/command.ts';
import { runHarnessTask } from '../src/cli/harness_client.ts';
import { underLock } from './gpu_lock.ts';
import { benchConditions, benchConfig, finishRun, REPO_ROOT, startRun, writeResults } from './output.ts';
import type { PageConditions } from './pages/bench_task.ts';
import type {
  BandwidthRow,
  BenchConfig,
  BenchResult,
  EndToEndRow,
  ImageTtftRow,
  KernelRow,
  MlaDecodeRow,
  PeerRow,
  PerTokenRow,
} from './types.ts';

/** Section names for --only, in the order a run takes them. */
export const SECTIONS = [
  'bandwidth',
  'kernels',
  'peer',
  'mla',
  'per-token',
  'e2e-tiny',
  'e2e-stack',
  'image-ttft',
] as const;
export type SectionName = (typeof SECTIONS)[number];

/** `--only a,b`: the sections to run (all when absent); an unknown name is a usage error. */
export function parseOnly(value: string | undefined): Set<SectionName> {
  if (value === undefined) return new Set(SECTIONS);
  const names = value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (bad.length || !names.length)
    throw new UsageError(`--only takes a comma list of ${SECTIONS.join(', ')} (got ${value})`);
  return new Set(names as SectionName[]);
}

/** The page task this command runs, named to the CLI's harness page from here (see src/cli/pages/harness.ts). */
const TASK_MODULES = { bench: 'bench/pages/bench_task.ts' };

/** The tiny checkpoint: the demo's bundled model if present, else the golden tiny-a. */
function tinyModelDir(explicit: string | undefined): string | null {
  const candidates = explicit
    ? [resolve(explicit)]
    : [resolve(REPO_ROOT, 'public/models/tiny-a'), resolve(REPO_ROOT, '../shared/golden/models/tiny-a')];
  return candidates.find((d) => existsSync(join(d, 'config.json'))) ?? null;
}

interface RunPlan {
  cfg: BenchConfig;
  tinyDir: string | null;
  only: Set<SectionName>;
  /** flock(1) file held around each section (--lock). */
  lock?: string;
  /** Called after every section (the run writes what it has so far, so a cut-short run leaves figures). */
  afterSection?: (pending: SectionName[]) => void;
}

async function runSections(s: BrowserSession, plan: RunPlan, result: Omit<BenchResult, 'seconds'>) {
  const { cfg, tinyDir, only } = plan;
  const pending = new Set([...SECTIONS].filter((n) => only.has(n)));
  const section = async <T>(name: SectionName, arg: Record<string, unknown>, onOk: (v: T) => void) => {
    if (!only.has(name)) return;
    const t0 = Date.now();
    console.log(`bench: ${name} …`);
    // counting records without executing: no GPU work, so no need to queue for the lock
    const lock = name === 'per-token' ? undefined : plan.lock;
    try {
      onOk(await underLock(lock, () => runHarnessTask<T>(s, 'bench', { section: name, cfg, ...arg })));
    } catch (e) {
      const message = (e as Error).message.split('\n')[0]!;
      console.error(`bench: ${name} failed: ${message}`);
      result.failures.push({ section: name, message });
    }
    console.log(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // e2e-tiny runs once per quantisation: pending until the last
    if (name !== 'e2e-tiny' || arg.last) pending.delete(name);
    plan.afterSection?.([...pending]);
  };
  await section<BandwidthRow[]>('bandwidth', {}, (v) => {
    result.bandwidth = v;
  });
  await section<PeerRow[]>('peer', {}, (v) => result.peer.push(...v));
  await section<MlaDecodeRow[]>('mla', {}, (v) => {
    result.mlaDecode = v;
  });
  await section<PerTokenRow[]>('per-token', {}, (v) => {
    result.perToken = v;
  });
  await section<KernelRow[]>('kernels', {}, (v) => result.kernels.push(...v));
  const quants = cfg.smoke ? (['none'] as const) : (['none', 'q4'] as const);
  for (const quant of quants) {
    if (!only.has('e2e-tiny')) break;
    if (!tinyDir) {
      result.endToEnd.push(
        skippedE2E(
          'tiny-a',
          quant,
          'skipped: no tiny checkpoint (public/models/tiny-a or ../shared/golden/models/tiny-a; pass --tiny DIR)',
        ),
      );
      continue;
    }
    const last = quant === quants[quants.length - 1];
    await section<EndToEndRow>('e2e-tiny', { modelUrl: s.fsUrl(tinyDir), quant, last }, (v) =>
      result.endToEnd.push(v),
    );
  }
  if (only.has('e2e-stack')) {
    if (cfg.smoke)
      result.endToEnd.push(
        skippedE2E('real-size stack', 'q4', 'skipped: --smoke (run without it for the real-size stack)'),
      );
    else await section<EndToEndRow>('e2e-stack', { quant: 'q4' }, (v) => result.endToEnd.push(v));
  }
  // --smoke proves the section on the tiny checkpoint; a real run uses the real-size stack
  const smokeModel = cfg.smoke && tinyDir ? { modelUrl: s.fsUrl(tinyDir) } : {};
  await section<ImageTtftRow[]>('image-ttft', smokeModel, (v) => {
    result.imageTtft = v;
  });
}

function skippedE2E(model: string, quant: string, skipped: string): EndToEndRow {
  const zero = {
    submits: 0,
    readbacks: 0,
    dispatches: 0,
    bytesRead: 0,
    kvBytesRead: 0,
    minBytes: 0,
    ratio: 0,
    context: 0,
    achievedGBps: 0,
  };
  return {
    model,
    quant,
    imageEncode: [],
    promptTokens: 0,
    prefillTokPerS: 0,
    decodeTokPerS: 0,
    decodeSteps: 0,
    ttftMs: 0,
    perToken: zero,
    skipped,
  };
}

export const command: CliCommand = {
  summary:
    'Benchmark kernels, ONNX Runtime Web side by side, and end to end; writes bench/results/latest.{md,json,svg}.',
  usage:
    'kimi-vl bench [--quick] [--smoke] [--hardware] [--out DIR] [--tiny DIR] [--reps N] [--max-weight-mb N] [--max-image-patches N] [--only LIST] [--lock FILE] [--verbose]\n' +
    '  --quick leaves out the big shapes (< 2 min on SwiftShader); --smoke only proves every section runs (CI).\n' +
    '  --hardware uses the machine GPU instead of SwiftShader. Ops reading more than --max-weight-mb per run\n' +
    '  (default 64 on SwiftShader, unlimited with --hardware) are reported as skipped.\n' +
    `  --only runs some sections (${SECTIONS.join(', ')}); --lock FILE holds flock(1) on FILE around each section.`,
  async run(args) {
    const p = parseArgs(args, {
      out: 'string',
      tiny: 'string',
      reps: 'string',
      'max-weight-mb': 'string',
      'max-image-patches': 'string',
      only: 'string',
      lock: 'string',
      quick: 'boolean',
      smoke: 'boolean',
      hardware: 'boolean',
      verbose: 'boolean',
    });
    const hardware = p.flags.has('hardware');
    const mw = flag(p, 'max-weight-mb');
    const mip = flag(p, 'max-image-patches');
    const cfg = benchConfig({
      quick: p.flags.has('quick'),
      smoke: p.flags.has('smoke'),
      hardware,
      reps: flag(p, 'reps') === undefined ? undefined : flagNumber(p, 'reps', 5),
      maxWeightMb: mw === undefined ? undefined : flagNumber(p, 'max-weight-mb', 64),
      maxImagePatches: mip === undefined ? undefined : flagNumber(p, 'max-image-patches', 1024),
    });
    const out = resolve(flag(p, 'out') ?? resolve(REPO_ROOT, 'bench/results'));
    const tinyDir = tinyModelDir(flag(p, 'tiny'));
    const only = parseOnly(flag(p, 'only'));
    const start = startRun();
    const browser = { hardware, verbose: p.flags.has('verbose'), taskModules: TASK_MODULES };
    const result = await withBrowser(browser, async (s) => {
      s.page.on('console', (m) => {
        if (m.text().startsWith('[bench]')) console.log(`  ${m.text().slice(8)}`);
      });
      const pc = await runHarnessTask<PageConditions>(s, 'bench', { section: 'conditions' });
      const r: Omit<BenchResult, 'seconds'> = {
        config: cfg,
        conditions: benchConditions(pc.probe, {
          userAgent: pc.userAgent,
          browser: pc.userAgent.match(/(HeadlessChrome|Chrome|Chromium)\/[\d.]+/)?.[0] ?? pc.userAgent,
          hardware,
          peer: `onnxruntime-web ${pc.ortVersion}, WebGPU execution provider, graphs built in code (bench/onnx_builder.ts)`,
        }),
        kernels: [],
        peer: [],
        endToEnd: [],
        failures: [],
      };
      const afterSection = (pending: SectionName[]) => {
        const partial = { ...r, pending, seconds: (Date.now() - start.t0) / 1000 };
        if (pending.length) writeResults(out, partial);
      };
      await runSections(s, { cfg, tinyDir, only, lock: flag(p, 'lock'), afterSection }, r);
      return r;
    });
    return finishRun(out, start, result);
  },
};
