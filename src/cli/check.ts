// `kimi-vl check --model M [--quant none|q8|q4]`: the preflight verdict in headless Chromium (the
// browser's own adapter and model cache): fits or not and why, bytes to download, storage, GPU memory,
// the largest binding, whether it is cached. Exit 0 when the model fits, 1 when it does not.

import type { CheckReport } from '../api/preflight.ts';
import { KimiVLError } from '../errors.ts';
import { flag, flagNumber, parseArgs } from './args.ts';
import { withBrowser } from './browser.ts';
import type { CliCommand } from './command.ts';
import { parseByteSize } from './convert.ts';
import { runHarnessTask } from './harness_client.ts';
import { modelArg } from './local_models.ts';
import type { CheckTaskArg } from './pages/preflight_task.ts';
import { formatCheck } from './preflight_print.ts';

export function quantFlag(v: string | undefined): 'none' | 'q8' | 'q4' {
  const q = v ?? 'none';
  if (q !== 'none' && q !== 'q8' && q !== 'q4')
    throw new KimiVLError('ConfigError', `--quant must be none (as stored), q8 or q4, got "${q}"`);
  return q;
}

export const command: CliCommand = {
  summary:
    'Will a model run here? Preflight verdict, download/storage/GPU bytes, cache state (no weights fetched)',
  usage:
    'kimi-vl check --model <repo id | URL | folder> [--quant none|q8|q4] [--context N] [--max-binding-bytes N]\n' +
    '              [--hardware] [--json]\n' +
    '  Exit status 0 when the model fits this adapter as asked, 1 when it does not.',
  async run(args) {
    const p = parseArgs(args, {
      model: 'string',
      quant: 'string',
      context: 'string',
      'max-binding-bytes': 'string',
      json: 'boolean',
      hardware: 'boolean',
      verbose: 'boolean',
    });
    const model = flag(p, 'model') ?? p.positional[0];
    if (!model) {
      console.error(`usage: ${command.usage}`);
      return 2;
    }
    const cap = flag(p, 'max-binding-bytes');
    const context = flag(p, 'context');
    const report = await withBrowser(
      { hardware: flag(p, 'hardware') === 'true', verbose: flag(p, 'verbose') === 'true' },
      async (s) => {
        const arg: CheckTaskArg = {
          model: await modelArg(model, s),
          quantization: quantFlag(flag(p, 'quant')),
          ...(context !== undefined ? { contextBudget: flagNumber(p, 'context', 0) } : {}),
          ...(cap ? { limits: { maxStorageBufferBindingSize: parseByteSize(cap) } } : {}),
        };
        return runHarnessTask<CheckReport>(s, 'check', arg);
      },
    );
    console.log(flag(p, 'json') === 'true' ? JSON.stringify(report, null, 2) : formatCheck(report));
    return report.fits ? 0 : 1;
  },
};
