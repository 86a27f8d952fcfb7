// CI smoke of `kimi-vl bench --smoke`: every section runs in headless Chromium (SwiftShader) and the
// table, JSON and chart are written with the expected rows. Never a speed assertion.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { BenchResult } from '../bench/types.ts';
import { GOLDEN_MODELS, REPO_ROOT } from './support/env.ts';

test('kimi-vl bench --smoke writes latest.{md,json,svg} with every section', async () => {
  test.setTimeout(420_000);
  const out = mkdtempSync(join(tmpdir(), 'kimi-vl-bench-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/kimi-vl.mjs', 'bench', '--smoke', '--out', out, '--tiny', join(GOLDEN_MODELS, 'tiny-a')],
      { cwd: REPO_ROOT, timeout: 400_000, maxBuffer: 16 << 20 },
    );
    expect(stdout).toContain(`wrote ${join(out, 'latest.md')}`);

    const r = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResult;
    expect(r.failures).toEqual([]);
    expect(r.conditions.adapter.description + r.conditions.browser).not.toBe('');
    const kernels = r.kernels.map((k) => `${k.op} ${k.shape} ${k.quant}`);
    for (const want of [
      'matvec 2048→1408 q4',
      'matvec 1408→2048 q4',
      'matvec 2048→11264 q4',
      'matvec 2048→163840 q4',
      'moe decode step 6/64 experts, 2048/1408 q4',
    ])
      expect(kernels).toContain(want);
    // MLA decode has its own section: the new kernel against the old one, timed, at least one context
    const mla = r.mlaDecode ?? [];
    expect(mla.length).toBeGreaterThan(0);
    for (const m of mla.filter((x) => x.speedup !== undefined)) expect(m.newMs).toBeGreaterThan(0);
    expect(mla.some((m) => m.speedup !== undefined)).toBe(true);
    expect(kernels.some((k) => k.startsWith('vision attention (flash) 1×'))).toBe(true);
    // --smoke leaves out exactly these two (and says why); every other kernel must have been timed
    const skipped = Object.fromEntries(
      r.kernels
        .filter((k) => k.skipped !== undefined)
        .map((k) => [`${k.op} ${k.shape} ${k.quant}`, k.skipped]),
    );
    expect(skipped).toEqual({
      'matvec 2048→11264 q4': 'skipped: --smoke',
      // lm_head's shape: on a CPU adapter its row comes from the side-by-side table (timed there)
      'matvec 2048→163840 q4': 'skipped: timed in the side-by-side table (CPU adapter: once is enough)',
    });
    for (const k of r.kernels.filter((x) => x.skipped === undefined)) {
      expect(k.timing?.ms, `${k.op} ${k.shape} ${k.quant} ran`).toBeGreaterThan(0);
      expect(k.gbps, `${k.op} ${k.shape} ${k.quant} GB/s`).toBeGreaterThan(0);
    }
    // the peer ran in the same page on at least three shapes
    expect(r.peer.filter((p) => p.ratio !== undefined && p.peerMs! > 0).length).toBeGreaterThanOrEqual(3);
    for (const p of r.peer.filter((x) => x.agreement !== undefined)) expect(p.agreement).toBeLessThan(1e-2);
    const tiny = r.endToEnd.find((e) => e.model.startsWith('tiny-a'))!;
    expect(tiny.skipped).toBeUndefined();
    expect(tiny.perToken.ratio).toBeGreaterThan(0);
    expect(tiny.perToken.readbacks).toBe(1);
    // decode through the engine's own (pipelined) loop beside the plain one
    expect(tiny.engineDecode!.pipelined).toBe(true);
    expect(tiny.engineDecode!.tokPerS).toBeGreaterThan(0);
    expect(tiny.engineDecode!.walked.tokPerS).toBeGreaterThan(0);
    // replay is the default: most of the request's dispatches come from a tape; walked, none do
    expect(tiny.engineDecode!.replayedShare).toBeGreaterThan(0.5);
    expect(tiny.engineDecode!.walked.replayedShare).toBe(0);
    expect(r.endToEnd.some((e) => e.model.startsWith('real-size stack'))).toBe(true);
    // a follow-up turn about the same image: no MoonViT pass, only the new rows prefilled
    const follow = tiny.followUp!;
    expect(follow.firstTurn.imagesEncoded).toBe(1);
    expect(follow.imagesEncoded).toBe(0);
    expect(follow.imageEncodeMs).toBe(0);
    expect(follow.prefillTokens).toBe(follow.newTokens);
    expect(follow.cachedPromptTokens).toBeGreaterThanOrEqual(follow.firstTurn.prefillTokens);
    // image TTFT before/after ran on the tiny checkpoint (--smoke), both kernel sets timed
    const ttft = r.imageTtft ?? [];
    expect(ttft.length).toBe(1);
    expect(ttft[0]!.beforeKernels).toContain('visionAttention=varlen');
    expect(ttft[0]!.afterKernels).toContain('visionAttention=flash');
    expect(ttft[0]!.before!.ttftMs).toBeGreaterThan(0);
    expect(ttft[0]!.after!.ttftMs).toBeGreaterThan(0);

    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const h of [
      '## Kernels',
      '## Side by side',
      '## End to end',
      '## Per decoded token',
      '## MLA decode',
      '## Image time to first token',
      '## Follow-up turn',
      '| adapter |',
    ])
      expect(md).toContain(h);
    const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect x=/g)!.length).toBe(r.kernels.filter((k) => k.timing).length + 3);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
