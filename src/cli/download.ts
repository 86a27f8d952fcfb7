// `kimi-vl download --model M [--quant none|q8|q4]`: fetches (and converts, for q8/q4) a model into the
// CLI browser profile's cache without building it, so a later `run` or `check` reads it from there.
// A second download fetches nothing.
import { formatBytes } from '../weights/summary.ts';
import { flag, parseArgs } from './args.ts';
import { withBrowser } from './browser.ts';
import { quantFlag } from './check.ts';
import type { CliCommand } from './command.ts';
import { runHarnessTask } from './harness_client.ts';
import { modelArg } from './local_models.ts';
import type { DownloadTaskResult } from './pages/preflight_task.ts';

export const command: CliCommand = {
  summary: 'Download (and convert) a model into the browser cache without loading it',
  usage: 'kimi-vl download --model <repo id | URL> [--quant none|q8|q4] [--hardware] [--json] [--verbose]',
  async run(args) {
    const p = parseArgs(args, {
      model: 'string',
      quant: 'string',
      json: 'boolean',
      hardware: 'boolean',
      verbose: 'boolean',
    });
    const model = flag(p, 'model') ?? p.positional[0];
    if (!model) {
      console.error(`usage: ${command.usage}`);
      return 2;
    }
    const quantization = quantFlag(flag(p, 'quant'));
    let last = '';
    const r = await withBrowser(
      { hardware: flag(p, 'hardware') === 'true', verbose: flag(p, 'verbose') === 'true' },
      async (s) => {
        await s.page.exposeFunction(
          'kimiRunEvent',
          (e: { type: string; progress: { phase: string; fraction: number; bytesDone: number } }) => {
            if (e.type !== 'progress') return;
            const line = `[download] ${e.progress.phase} ${Math.floor(e.progress.fraction * 20) * 5}%`;
            if (line !== last) process.stderr.write(`${line} (${formatBytes(e.progress.bytesDone)})\n`);
            last = line;
          },
        );
        return runHarnessTask<DownloadTaskResult>(s, 'download', {
          model: await modelArg(model, s),
          quantization,
        });
      },
    );
    if (flag(p, 'json') === 'true') console.log(JSON.stringify(r, null, 2));
    else
      console.log(
        `downloaded ${r.id} in ${r.seconds.toFixed(1)} s · ${formatBytes(r.networkBytes)} over the network` +
          (r.storageUsage !== null ? ` · browser storage in use ${formatBytes(r.storageUsage)}` : ''),
      );
    return 0;
  },
};
