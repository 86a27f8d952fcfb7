import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { openCheckpoint } from '../weights/checkpoint.ts';
import { type BadCheckpoint, makeBadCheckpoints } from '../weights/fixtures/bad_checkpoints.ts';
import { type ServedDir, serveDir } from '../weights/fixtures/serve_dir.ts';
import { urlFiles } from '../weights/url_files.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const GOLDEN = GOLDEN_MODELS;

/** Runs `node bin/kimi-vl.mjs ...args` and collects its exit code and output. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/kimi-vl.mjs'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('kimi-vl inspect', () => {
  let tmp = '';
  let bad: BadCheckpoint[] = [];
  let server: ServedDir;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'kimi-inspect-'));
    bad = await makeBadCheckpoints(`${GOLDEN}/tiny-a`, tmp);
    server = await serveDir(GOLDEN_MODELS);
  });
  afterAll(async () => {
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it.each(['tiny-a', 'tiny-b'])('summarises the golden %s and exits 0', async (m) => {
    const r = await cli(['inspect', `${GOLDEN}/${m}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shards\s+2/);
    expect(r.stdout).toMatch(/✓ all \d+ tensors match the shapes config.json implies/);
    expect(r.stdout).toMatch(/BF16/);
  });

  it('reports exact counts as JSON (tiny-a)', async () => {
    const r = await cli(['inspect', `${GOLDEN}/tiny-a`, '--json']);
    const s = JSON.parse(r.stdout);
    // 123 tensors in the two shards, 3 inv_freq ignored; data bytes = index total_size.
    expect(s.tensors).toBe(123);
    expect(s.ignoredTensors).toBe(3);
    expect(s.totalBytes).toBe(888496);
    // bf16 parameters plus the f32 router biases [8] ×2 and inv_freq [4] ×3.
    expect(s.params.total * 2 - 2 * 8 * 2 + 2 * 8 * 4 + 3 * 4 * 4).toBe(s.totalBytes);
  });

  it('exits non-zero with the typed error, no stack trace, for every bad checkpoint', async () => {
    for (const b of bad) {
      const r = await cli(['inspect', b.dir]);
      expect(r.code, b.name).toBe(1);
      expect(r.stderr, b.name).toContain(`kimi-vl inspect: ${b.errorName}: `);
      expect(r.stderr, b.name).toContain(b.messageIncludes);
      expect(r.stderr, b.name).not.toMatch(/\n\s+at /);
    }
  }, 300_000);

  it('inspects over HTTP with Range requests for the headers only', async () => {
    const r = await cli(['inspect', `${server.url}tiny-b/`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tensors\s+154/);
    const shardReads = server.log.filter((l) => l.includes('.safetensors '));
    expect(shardReads.length).toBeGreaterThan(0);
    expect(shardReads.every((l) => /bytes=\d+-\d+$/.test(l))).toBe(true);
  });

  it('refuses each bad checkpoint over HTTP with the same typed error', async () => {
    const bs = await serveDir(tmp);
    try {
      for (const b of bad) {
        const e = await openCheckpoint(urlFiles(`${bs.url}${b.name}/`)).then(
          () => null,
          (err: Error) => err,
        );
        expect(e?.name, b.name).toBe(b.errorName);
        expect(e!.message, b.name).toContain(b.messageIncludes);
      }
    } finally {
      await bs.close();
    }
  });

  it('turns an unreachable server into a DownloadError', async () => {
    const r = await cli(['inspect', 'http://127.0.0.1:9/nothing/']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DownloadError');
  });
});
