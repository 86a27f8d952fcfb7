// `kimi-vl run`: one chat turn through the same engine as the browser (headless Chromium, WebGPU), the
// answer streamed to stdout as it is generated. `--json` prints one JSON event per line instead.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KimiVLError } from '../errors.ts';
import type { ChatEvent } from '../index.ts';
import { flag, flagNumber, parseArgs } from './args.ts';
import { withBrowser } from './browser.ts';
import type { CliCommand } from './command.ts';
import { runHarnessTask } from './harness_client.ts';
import { modelArg } from './local_models.ts';
import type { RunTaskArg } from './pages/run_task.ts';

type RunEvent =
  | ChatEvent
  | { type: 'progress'; progress: { fraction: number; phase: string } }
  | { type: 'loaded'; info: unknown };

/** A local folder/file becomes a URL the page can fetch (vite's /@fs/); repo ids and URLs pass through. */
function localOrRemote(value: string, fsUrl: (p: string) => string, folder: boolean): string {
  const path = resolve(value);
  if (!existsSync(path)) return value;
  const isDir = statSync(path).isDirectory();
  if (folder !== isDir)
    throw new KimiVLError('ConfigError', `${value} must be a ${folder ? 'folder' : 'file'}`);
  return folder ? `${fsUrl(path)}/` : fsUrl(path);
}

export const command: CliCommand = {
  summary: 'Chat once with a model in headless Chromium (WebGPU), streaming the answer to stdout.',
  usage:
    'kimi-vl run --model <repo id | URL | folder> [--image FILE]... --prompt TEXT [--max-tokens N]\n' +
    '            [--temperature T] [--seed S] [--quant q8|q4] [--tokenizer URL|folder] [--thinking]\n' +
    '            [--json] [--hardware] [--verbose]\n' +
    '  --json prints one JSON event per line: {"type":"token","id":…}, {"type":"answer","text":…}, …,\n' +
    '  and a final {"type":"done", usage, timings}. Without it the answer goes to stdout, the rest to stderr.',
  async run(args) {
    const p = parseArgs(args, {
      model: 'string',
      prompt: 'string',
      image: 'string',
      'max-tokens': 'string',
      temperature: 'string',
      seed: 'string',
      quant: 'string',
      tokenizer: 'string',
      json: 'boolean',
      hardware: 'boolean',
      verbose: 'boolean',
      thinking: 'boolean',
    });
    const model = flag(p, 'model');
    const prompt = flag(p, 'prompt');
    if (!model || prompt === undefined) {
      console.error(`usage: ${command.usage}`);
      return 2;
    }
    const json = flag(p, 'json') === 'true';
    const quant = (flag(p, 'quant') ?? 'none') as RunTaskArg['quantization'];
    if (!['none', 'q8', 'q4'].includes(quant))
      throw new KimiVLError('ConfigError', `--quant must be q8 or q4`);
    const temperature = flag(p, 'temperature');
    const seed = flag(p, 'seed');
    const out = process.stdout;
    const err = process.stderr;
    let lastFraction = -1;
    return withBrowser(
      { hardware: flag(p, 'hardware') === 'true', verbose: flag(p, 'verbose') === 'true' },
      async (s) => {
        await s.page.exposeFunction('kimiRunEvent', (e: RunEvent) => {
          if (json) {
            if (e.type !== 'progress') out.write(`${JSON.stringify(e)}\n`);
            return;
          }
          if (e.type === 'progress') {
            const f = Math.floor(e.progress.fraction * 10);
            if (f !== lastFraction)
              err.write(`[load] ${e.progress.phase} ${Math.round(e.progress.fraction * 100)}%\n`);
            lastFraction = f;
          } else if (e.type === 'loaded') err.write(`[load] ready: ${JSON.stringify(e.info)}\n`);
          else if (e.type === 'answer') out.write(e.text);
          else if (e.type === 'reasoning') err.write(e.text);
          else if (e.type === 'done') {
            out.write('\n');
            const t = e.timings;
            err.write(
              `[done] ${e.finishReason} · ${e.usage.promptTokens} prompt + ${e.usage.completionTokens} new tokens · ` +
                `first token ${t.timeToFirstTokenMs.toFixed(0)} ms · prefill ${t.prefillTokensPerSecond.toFixed(1)} tok/s · ` +
                `decode ${t.decodeTokensPerSecond.toFixed(1)} tok/s · images ${t.imageEncodeMs.toFixed(0)} ms\n`,
            );
          }
        });
        const tokenizer = flag(p, 'tokenizer');
        const arg: RunTaskArg = {
          model: await modelArg(model, s),
          images: (p.flags.get('image') ?? []).map((f) => {
            if (!existsSync(f)) throw new KimiVLError('ImageError', `image file ${f} does not exist`);
            return localOrRemote(f, s.fsUrl, false);
          }),
          prompt,
          maxTokens: flagNumber(p, 'max-tokens', 256),
          quantization: quant,
          ...(temperature !== undefined ? { temperature: Number(temperature) } : {}),
          ...(seed !== undefined ? { seed: Number(seed) } : {}),
          ...(tokenizer ? { tokenizerUrl: localOrRemote(tokenizer, s.fsUrl, true) } : {}),
          ...(flag(p, 'thinking') === 'true' ? { thinking: true } : {}),
        };
        await runHarnessTask(s, 'run', arg);
        return 0;
      },
    );
  },
};
