import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/kimi-vl.mjs'), 'plan', ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });

describe('kimi-vl plan', () => {
  it('prints the table for the real config, folding identical MoE layers', () => {
    const r = run(
      '--config',
      'configs/Kimi-VL-A3B-Instruct.config.json',
      '--quant',
      'q4',
      '--context',
      '8192',
    );
    expect(r.stderr).toBe('');
    // 128 MiB (WebGPU's default binding limit): the embedding and lm_head are held in parts.
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/runs with tensors in parts: 2 buffer\(s\) exceed the 128\.0 MiB buffer limit/);
    expect(r.stdout).toMatch(/^layers 1-26 experts\s+3\s+553\.65 M\s+297\.0 MiB\s+×26 = 7\.54 GiB$/m);
    expect(r.stdout).toMatch(/language 15\.96 B/);
    expect(r.stdout).toMatch(/KV cache\s+486\.0 MiB \(62208 B\/token/);
    expect(r.stdout).toMatch(/lm\.embed \(180\.0 MiB\) > 128\.0 MiB: split into 2 parts/);
  });

  it('exits 0 when every buffer fits the limits; none is the word for the weights as stored', () => {
    const r = run(
      '--config',
      'configs/Kimi-VL-A3B-Instruct.config.json',
      '--quant',
      'none',
      '--max-binding',
      '1G',
      '--max-buffer',
      '1G',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/quant none \(as stored: bf16\)/);
    expect(r.stdout).toMatch(/every buffer fits the 1024\.0 MiB binding limit/);
  });

  it('exits 1 only when a tensor cannot be split finely enough, and refuses bad options', () => {
    // One layer's KV cache over the limit is split too; a limit below one row of a tensor is not.
    const kv = run('--config', 'configs/Kimi-VL-A3B-Instruct.config.json', '--context', '131072');
    expect(kv.status).toBe(0);
    expect(kv.stdout).toMatch(/lower the context/);
    const r = run('--config', 'configs/Kimi-VL-A3B-Instruct.config.json', '--max-binding', '512');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/cannot run as planned: .*cannot be split further/);
    const bad = run('--config', 'configs/Kimi-VL-A3B-Instruct.config.json', '--quant', 'q2');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('ConfigError: --quant must be');
    const missing = run('--config', '/nonexistent.json');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('ConfigError: cannot read /nonexistent.json');
  });
});
