// `kimi-vl golden [dir]`: every case of a golden-format directory through the engine, checked against
// the README's tolerances. One line per case, then "N passed, M failed"; non-zero exit on any failure.
import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { KimiVLError } from '../errors.ts';
import { discoverCases, nodeGoldenIO } from '../golden/node_io.ts';
import type { CaseReport } from '../golden/run_case.ts';
import { flag, parseArgs } from './args.ts';
import { REPO_ROOT, withBrowser } from './browser.ts';
import type { CliCommand } from './command.ts';
import { parseByteSize } from './convert.ts';
import { runHarnessTask } from './harness_client.ts';
import type { GoldenTaskReport } from './pages/golden_task.ts';

type Quant = 'none' | 'q8' | 'q4';

/** Converts each case's model once into .cache/golden-converted/<model>-<quant>; maps case dir → converted dir. */
async function convertedModels(cases: string[], quant: 'q8' | 'q4' | 'f16'): Promise<Map<string, string>> {
  const { convertCheckpoint } = await import('../weights/convert_node.ts');
  const { readCase } = await import('../golden/reader.ts');
  const out = new Map<string, string>();
  const done = new Map<string, string>();
  for (const dir of cases) {
    const c = await readCase(nodeGoldenIO, dir);
    let target = done.get(c.modelDir);
    if (!target) {
      target = resolve(REPO_ROOT, '.cache/golden-converted', `${basename(c.modelDir)}-${quant}`);
      await convertCheckpoint(c.modelDir, target, { quant, force: true });
      console.log(`converted ${c.modelDir} → ${target} (${quant})`);
      done.set(c.modelDir, target);
    }
    out.set(dir, target);
  }
  return out;
}

function line(r: CaseReport): string {
  const worst = r.checks.map(
    (c) => `${c.name}=${c.tolerance === 0 ? (c.pass ? 'ok' : 'MISMATCH') : c.error.toExponential(1)}`,
  );
  return `${r.pass ? 'PASS' : 'FAIL'} ${r.name.padEnd(24)} ${worst.join(' ')} (${r.seconds.toFixed(1)} s)`;
}

export const command: CliCommand = {
  summary:
    'Run every golden case (default ../shared/golden) through the engine and compare with the expected tensors.',
  usage:
    'kimi-vl golden [dir] [--quant q8|q4] [--converted q8|q4|f16] [--backend gpu|ref] [--hardware] [--json-out FILE]\n' +
    '               [--report-only] [--max-binding-bytes N] [--against float]\n' +
    '  --max-binding-bytes caps maxStorageBufferBindingSize at N (e.g. 16K): no buffer above N is created or\n' +
    '  bound: weights and KV caches over N are held in parts, anything else over N is a GpuLimitError.\n' +
    '  --converted runs each case on a `kimi-vl convert` output of its model (made once under .cache/).\n' +
    '  --backend ref runs the TypeScript reference in Node; gpu (default) runs WebGPU in headless Chromium.\n' +
    '  --quant quantises the language model on load; with --report-only the errors are reported, not judged.\n' +
    '  A quantised GPU run (--quant, --converted q8|q4) is judged against the reference backend on the same\n' +
    '  weights (src/golden/derive.ts; the quantisation error vs the float goldens is printed per case);\n' +
    '  --against float judges it against the float goldens instead.',
  async run(args) {
    const p = parseArgs(args, {
      quant: 'string',
      converted: 'string',
      backend: 'string',
      'max-binding-bytes': 'string',
      'json-out': 'string',
      hardware: 'boolean',
      'report-only': 'boolean',
      against: 'string',
      verbose: 'boolean',
    });
    const root = resolve(p.positional[0] ?? resolve(REPO_ROOT, '../shared/golden'));
    const quant = (flag(p, 'quant') ?? 'none') as Quant;
    if (!['none', 'q8', 'q4'].includes(quant)) throw new Error(`--quant must be q8 or q4, got ${quant}`);
    const cases = discoverCases(root);
    if (!cases.length) {
      console.error(`kimi-vl golden: no cases (case.json) found under ${root}`);
      return 2;
    }
    const backend = flag(p, 'backend') ?? 'gpu';
    const capFlag = flag(p, 'max-binding-bytes');
    const maxBindingBytes = capFlag ? parseByteSize(capFlag) : undefined;
    if (maxBindingBytes && backend !== 'gpu')
      throw new KimiVLError('ConfigError', '--max-binding-bytes needs the gpu backend');
    const converted = flag(p, 'converted') as 'q8' | 'q4' | 'f16' | undefined;
    let modelFor = converted ? await convertedModels(cases, converted) : new Map<string, string>();
    const against = flag(p, 'against') ?? 'reference';
    if (!['reference', 'float'].includes(against)) throw new Error(`--against must be float, got ${against}`);
    const quantised = quant !== 'none' || converted === 'q8' || converted === 'q4';
    let drift = new Map<string, string>(); // case name → quantisation error of the reference
    if (backend === 'gpu' && quantised && against === 'reference') {
      const { deriveCases } = await import('../golden/derive.ts');
      const tag = `${basename(root)}-${converted ?? quant}`;
      const derived = await deriveCases(
        cases,
        modelFor,
        quant,
        resolve(REPO_ROOT, '.cache/golden-derived', tag),
      );
      modelFor = new Map(
        [...derived].flatMap(([dir, d]) => (modelFor.has(dir) ? [[d.dir, modelFor.get(dir)!]] : [])),
      );
      drift = new Map([...derived.values()].map((d) => [basename(d.dir), d.drift]));
      cases.splice(0, cases.length, ...[...derived.values()].map((d) => d.dir));
    }
    console.log(
      `golden: ${cases.length} cases from ${root} · backend ${backend} · weights ${converted ? `converted ${converted}` : quant === 'none' ? 'as stored (bf16)' : quant}` +
        (drift.size ? ' · judged against the reference backend on the same weights' : ''),
    );
    const reports: CaseReport[] = [];
    let guardSeen: GoldenTaskReport['guard'] | null = null;
    const runAll = async (runOne: (dir: string) => Promise<CaseReport>) => {
      for (const dir of cases) {
        let r: CaseReport;
        try {
          r = await runOne(dir);
        } catch (e) {
          const err = e as Error;
          r = {
            name: dir.split('/').pop()!,
            pass: false,
            checks: [{ name: err.name, error: 1, tolerance: 0, pass: false, detail: err.message }],
            newTokens: [],
            seconds: 0,
          };
          console.log(`FAIL ${r.name.padEnd(24)} ${err.name}: ${err.message.split('\n')[0]}`);
          reports.push(r);
          continue;
        }
        console.log(line(r));
        for (const c of r.checks) if (!c.pass && c.detail) console.log(`       ${c.name}: ${c.detail}`);
        const d = drift.get(r.name);
        if (d) console.log(`       quantisation error (reference vs the float goldens): ${d}`);
        reports.push(r);
      }
    };
    if (backend === 'ref') {
      const { GoldenRunner } = await import('../golden/run_case.ts');
      const { nodeGoldenIO } = await import('../golden/node_io.ts');
      const { createRefKernels } = await import('../kernels/ref_kernels.ts');
      const runner = new GoldenRunner(createRefKernels(), nodeGoldenIO, quant);
      await runAll((dir) => runner.run(dir, modelFor.get(dir)));
    } else {
      await withBrowser({ hardware: p.flags.has('hardware'), verbose: p.flags.has('verbose') }, (s) =>
        runAll((dir) =>
          runHarnessTask<GoldenTaskReport>(s, 'golden', {
            caseDir: dir,
            quant,
            modelDir: modelFor.get(dir),
            maxBindingBytes,
          }).then((r) => {
            guardSeen = r.guard;
            return r;
          }),
        ),
      );
      const seen = guardSeen as GoldenTaskReport['guard'] | null; // set inside the callbacks above
      if (seen)
        console.log(
          `limit guard: maxStorageBufferBindingSize ${seen.maxStorageBufferBindingSize}; largest storage ` +
            `buffer created ${seen.largestStorageBuffer}, largest binding ${seen.largestBinding}`,
        );
    }
    const passed = reports.filter((r) => r.pass).length;
    const failed = reports.length - passed;
    const out = flag(p, 'json-out');
    if (out) writeFileSync(out, JSON.stringify({ passed, failed, quant, backend, reports }, null, 2));
    console.log(`${passed} passed, ${failed} failed`);
    return failed && !p.flags.has('report-only') ? 1 : 0;
  },
};
