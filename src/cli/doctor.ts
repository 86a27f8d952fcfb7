// `kimi-vl doctor`: what WebGPU adapter headless Chromium sees, with its features and limits.
import type { AdapterDescription } from '../gpu/device.ts';
import { parseArgs } from './args.ts';
import { withBrowser } from './browser.ts';
import type { CliCommand } from './command.ts';
import { runHarnessTask } from './harness_client.ts';

const KEY_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

export const command: CliCommand = {
  summary: 'Print the WebGPU adapter, features and limits as headless Chromium sees them.',
  usage: 'kimi-vl doctor [--hardware] [--json]',
  async run(args) {
    const p = parseArgs(args, { hardware: 'boolean', json: 'boolean' });
    const r = await withBrowser({ hardware: p.flags.has('hardware') }, (s) =>
      runHarnessTask<{ userAgent: string; adapter: AdapterDescription }>(s, 'doctor'),
    );
    if (p.flags.has('json')) {
      console.log(JSON.stringify(r, null, 2));
      return 0;
    }
    const a = r.adapter;
    console.log(`browser:      ${r.userAgent}`);
    console.log(
      `adapter:      ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}`,
    );
    console.log(`fallback:     ${a.isFallbackAdapter}`);
    console.log(`features:     ${a.features.join(', ') || '(none)'}`);
    console.log(`shader-f16:   ${a.features.includes('shader-f16') ? 'yes' : 'no (packed f16/bf16 path)'}`);
    console.log('limits:');
    for (const k of KEY_LIMITS) console.log(`  ${k.padEnd(36)} ${a.limits[k]}`);
    return 0;
  },
};
