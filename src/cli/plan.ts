// `kimi-vl plan --config config.json [--quant q4|q8|f16|bf16] [--context N]`: the GPU memory a model
// needs, per component, from config.json alone (src/weights/memory_plan.ts), and what must be split
// under a device's binding limits.
import { readFile } from 'node:fs/promises';
import { parseConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import {
  type MemoryPlan,
  type PlanQuant,
  planFitsDevice,
  planMemory,
  WEBGPU_DEFAULT_LIMITS,
} from '../weights/memory_plan.ts';
import { fitModel } from '../weights/preflight_fit.ts';
import { formatBytes, formatCount } from '../weights/summary.ts';
import { flag, flagNumber, parseArgs } from './args.ts';
import type { CliCommand } from './command.ts';
import { parseByteSize } from './convert.ts';

/** Component rows, with runs of identical layers ("layer 2 experts" … "layer 26 experts") folded into one. */
export function componentRows(plan: MemoryPlan): string[][] {
  const rows: string[][] = [];
  const layerKey = (c: string) => /^layer (\d+) (.+)$/.exec(c);
  const byLayer = new Map<number, MemoryPlan['components']>();
  const other: MemoryPlan['components'] = [];
  for (const c of plan.components) {
    const m = layerKey(c.component);
    if (!m) other.push(c);
    else byLayer.set(Number(m[1]), [...(byLayer.get(Number(m[1])) ?? []), c]);
  }
  const sig = (cs: MemoryPlan['components']) =>
    cs.map((c) => `${layerKey(c.component)![2]}:${c.bytes}:${c.params}`).join('|');
  const layers = [...byLayer.keys()].sort((a, b) => a - b);
  const row = (name: string, c: MemoryPlan['components'][number], times = 1) => [
    name,
    String(c.tensors),
    formatCount(c.params),
    formatBytes(c.bytes),
    times > 1 ? `×${times} = ${formatBytes(c.bytes * times)}` : '',
  ];
  for (const c of other.filter(
    (c) => c.component === 'vision' || c.component === 'projector' || c.component === 'embed',
  ))
    rows.push(row(c.component, c));
  for (let i = 0; i < layers.length; ) {
    let j = i;
    while (j + 1 < layers.length && sig(byLayer.get(layers[j + 1]!)!) === sig(byLayer.get(layers[i]!)!)) j++;
    const label = j > i ? `layers ${layers[i]}-${layers[j]}` : `layer ${layers[i]}`;
    for (const c of byLayer.get(layers[i]!)!)
      rows.push(row(`${label} ${layerKey(c.component)![2]}`, c, j - i + 1));
    i = j + 1;
  }
  for (const c of other.filter((c) => c.component === 'final norm' || c.component === 'lm_head'))
    rows.push(row(c.component, c));
  return rows;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const command: CliCommand = {
  summary: 'Print the GPU memory plan of a Kimi-VL config (per component, KV cache, splits)',
  usage:
    'kimi-vl plan --config <config.json> [--quant q4|q8|f16|none] [--context 4096] [--max-binding 128M] [--max-buffer 256M]',
  async run(args) {
    // Exit status: 0 when the model runs as planned under the given limits, 1 when it cannot.
    const p = parseArgs(args, {
      config: 'string',
      quant: 'string',
      context: 'string',
      'max-binding': 'string',
      'max-buffer': 'string',
    });
    const file = flag(p, 'config') ?? p.positional[0];
    if (!file) {
      console.error(`usage: ${command.usage}`);
      return 2;
    }
    // 'none' is the one word for the weights as stored (here: the checkpoint's bf16); bf16 is its alias.
    const asked = flag(p, 'quant') ?? 'q4';
    if (!['q4', 'q8', 'f16', 'none', 'bf16'].includes(asked))
      throw new KimiVLError('ConfigError', `--quant must be q4, q8, f16 or none (as stored), got "${asked}"`);
    const quant = asked === 'none' ? 'bf16' : asked;
    const context = flagNumber(p, 'context', 4096);
    if (!Number.isSafeInteger(context) || context < 1)
      throw new KimiVLError('ConfigError', `--context must be a positive integer, got ${context}`);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new KimiVLError('ConfigError', `cannot read ${file} as JSON (${(e as Error).message})`);
    }
    const cfg = parseConfig(json, file);
    const plan = planMemory(cfg, { quant: quant as PlanQuant, context });
    const limits = {
      maxStorageBufferBindingSize: parseByteSize(
        flag(p, 'max-binding') ?? `${WEBGPU_DEFAULT_LIMITS.maxStorageBufferBindingSize}`,
      ),
      maxBufferSize: parseByteSize(flag(p, 'max-buffer') ?? `${WEBGPU_DEFAULT_LIMITS.maxBufferSize}`),
    };
    const fit = planFitsDevice(plan, limits);
    const rows = [['component', 'tensors', 'params', 'bytes', 'all layers'], ...componentRows(plan)];
    console.log(
      `memory plan: quant ${plan.quant === 'bf16' ? 'none (as stored: bf16)' : plan.quant}, context ${plan.context}\n`,
    );
    console.log(table(rows));
    console.log(
      [
        '',
        `parameters   ${formatCount(plan.params.total)} (vision ${formatCount(plan.params.vision)}, projector ${formatCount(plan.params.projector)}, language ${formatCount(plan.params.language)})`,
        `weights      ${formatBytes(plan.weightBytes)}`,
        `KV cache     ${formatBytes(plan.kvCacheBytes)} (${plan.kvBytesPerToken} B/token, latent f32; ${formatBytes(plan.kvLayerBytes)} per layer)`,
        `activations  ${formatBytes(plan.activationBytes)} (estimate)`,
        `total        ${formatBytes(plan.totalBytes)}`,
        `largest binding: ${plan.largestBinding.name} ${formatBytes(plan.largestBinding.bytes)}`,
        '',
        `device limits: maxStorageBufferBindingSize ${formatBytes(limits.maxStorageBufferBindingSize)}, maxBufferSize ${formatBytes(limits.maxBufferSize)}`,
        ...fit.explanation.map((e) => `  ${e}`),
      ].join('\n'),
    );
    // The verdict is the load's own (preflight_fit.ts): runnable unless a tensor cannot be split finely enough.
    const verdict = fitModel({ config: cfg, preprocessor: null, quant: quant as PlanQuant, context, limits });
    const runs = verdict.fits;
    if (!runs) console.log(`\ncannot run as planned: ${verdict.reasons.join('; ')}`);
    else if (fit.splits.length > 0 || !fit.fits)
      console.log(`\nruns with tensors in parts: ${verdict.reasons.join('; ')}`);
    return runs ? 0 : 1;
  },
};
