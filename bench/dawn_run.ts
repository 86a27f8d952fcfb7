// `npx tsx bench/dawn_run.ts [--quick] [--smoke] [--out DIR] [--tiny DIR]`: the benchmark on Dawn for Node
// (npm `webgpu`, prebuilt dawn.node, no install script needed on Linux; install it with
// `npm install --no-save --ignore-scripts webgpu`). Dawn picks the Vulkan driver it finds
// (VK_ICD_FILENAMES selects one; libvulkan.so.1 must be loadable: LD_LIBRARY_PATH).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flag, parseArgs } from '../src/cli/args.ts';
import { benchConditions, benchConfig, finishRun, REPO_ROOT, startRun } from './output.ts';
import { withSsrLoader } from './ssr_loader.ts';

async function installNavigatorGpu(): Promise<string> {
  let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu' as string)) as typeof mod;
  } catch (e) {
    throw new Error(
      `the npm package "webgpu" (Dawn for Node) is not installed: npm install --no-save --ignore-scripts webgpu (${(e as Error).message})`,
    );
  }
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]);
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, userAgent: `Node ${process.version} (Dawn for Node)` },
    configurable: true,
  });
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/webgpu/package.json'), 'utf8'));
  return `webgpu ${pkg.version}`;
}

async function main(): Promise<number> {
  const p = parseArgs(process.argv.slice(2), {
    tiny: 'string',
    out: 'string',
    quick: 'boolean',
    smoke: 'boolean',
  });
  const dawn = await installNavigatorGpu();
  const cfg = benchConfig({ quick: p.flags.has('quick'), smoke: p.flags.has('smoke'), hardware: true });
  const tiny = resolve(flag(p, 'tiny') ?? join(REPO_ROOT, '../shared/golden/models/tiny-a'));
  const out = resolve(flag(p, 'out') ?? join(REPO_ROOT, 'bench/results'));
  const start = startRun();
  return withSsrLoader(REPO_ROOT, async (load) => {
    const { runDawnBench } = await load<typeof import('./dawn_task.ts')>('/bench/dawn_task.ts');
    const fullConfigJson = JSON.parse(
      readFileSync(join(REPO_ROOT, 'configs/Kimi-VL-A3B-Instruct.config.json'), 'utf8'),
    );
    const r = await runDawnBench({
      cfg,
      tinyDir: existsSync(join(tiny, 'config.json')) ? tiny : null,
      fullConfigJson,
    });
    return finishRun(out, start, {
      config: cfg,
      conditions: benchConditions(r.probe, {
        userAgent: `Node ${process.version}`,
        browser: `none: Dawn for Node (${dawn})`,
        hardware: true,
        peer: 'not run: ONNX Runtime Web needs a browser page',
      }),
      kernels: r.kernels,
      peer: r.peer,
      endToEnd: r.endToEnd,
      failures: r.failures,
    });
  });
}

process.exitCode = await main();
// dawn.node keeps the event loop alive after the device is destroyed
process.exit();
