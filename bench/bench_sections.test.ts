// The bench's newer parts without a GPU: cache-read modelling, variant forcing, section selection, the
// per-section lock, peer graph inputs and layouts, per-token counting on the counting backend, and the
// report's new tables. No timing is asserted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../src/config/config.ts';
import type { DispatchSpec, GpuRuntime } from '../src/gpu/runtime.ts';
import { parseOnly, SECTIONS } from './cli_command.ts';
import { acquireLock, underLock } from './gpu_lock.ts';
import { modelledCacheBytes } from './kv_reads.ts';
import { headsFirstPart, oursHeadsFirst, tokenMajorPart } from './peer_attention.ts';
import { multiHeadAttentionModel, q8ToUint8 } from './peer_graphs.ts';
import { countToken } from './per_token.ts';
import { readmeFigures } from './readme_figures.ts';
import {
  bandwidthSection,
  fractionOfCopy,
  goalVerdict,
  mlaSection,
  perTokenSection,
} from './report_sections.ts';
import type { BenchResult, PeerRow } from './types.ts';
import { describeVariant, withVariant } from './variants.ts';

const fullConfig = () =>
  parseConfig(
    JSON.parse(readFileSync(new URL('../configs/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8')),
  );

const tensor = (shape: number[], dtype: string) => ({ tensor: { shape, dtype }, access: 'read' });
const spec = (op: string, params: Record<string, number>, bindings: unknown[], workgroups: number[]) =>
  ({ op, params, bindings, workgroups }) as unknown as DispatchSpec;

describe('latent-cache reads per attention dispatch', () => {
  test('old kernel: every head streams the visible rows (pos0 + 1 of them at decode)', () => {
    const s = spec(
      'mla_attention_attend',
      { H: 16, pos0: 99, KEY0: 0, KEY_END: 0xffffffff },
      [tensor([1, 16, 576], 'f32'), tensor([4096, 576], 'f32')],
      [16 * 4],
    );
    expect(modelledCacheBytes(s, 576)).toEqual({ bytes: 16 * 100 * 576 * 4, reported: false });
  });

  test('old kernel over a cache part: only the visible keys of the part', () => {
    const s = spec(
      'mla_attention_attend',
      { H: 2, pos0: 150, KEY0: 128, KEY_END: 256 },
      [tensor([1, 2, 10], 'f32'), tensor([128, 10], 'f32')],
      [2],
    );
    expect(modelledCacheBytes(s, 10)!.bytes).toBe(2 * (151 - 128) * 10 * 4);
  });

  test('all-heads kernel: each row once per head group, f16 elements', () => {
    const s = spec(
      'mla_decode',
      { KEY0: 0, KEY_END: 1000 },
      [tensor([1, 16, 576], 'f32'), tensor([4096, 576], 'f16')],
      [8, 1],
    );
    expect(modelledCacheBytes(s, 576)!.bytes).toBe(1000 * 576 * 2);
    const two = spec(
      'mla_decode',
      { KEY0: 0, KEY_END: 1000 },
      [tensor([1, 16, 576], 'f32'), tensor([4096, 576], 'f16')],
      [8, 2],
    );
    expect(modelledCacheBytes(two, 576)!.bytes).toBe(2 * 1000 * 576 * 2);
  });

  test('a dispatch that reports its bytes is trusted; other ops are not attention', () => {
    const s = { ...spec('mla_decode', {}, [], [1]), bytesRead: 1234 } as DispatchSpec;
    expect(modelledCacheBytes(s, 576)).toEqual({ bytes: 1234, reported: true });
    expect(modelledCacheBytes(spec('gemv', {}, [], [1]), 576)).toBeNull();
  });
});

describe('variants forced through rt.tuning', () => {
  test('fields are set for the call and restored after, also on a throw; unknown fields are named', async () => {
    const rt = { tuning: { matmul: 'direct', subgroups: true } } as unknown as GpuRuntime;
    const v = { label: 'tiled', tuning: { matmul: 'tiled', noSuchKnob: 1 } };
    const seen = await withVariant(rt, v, async () => rt.tuning.matmul);
    expect(seen).toBe('tiled');
    expect(rt.tuning.matmul).toBe('direct');
    await expect(
      withVariant(rt, v, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(rt.tuning.matmul).toBe('direct');
    expect('noSuchKnob' in rt.tuning).toBe(false);
    expect(describeVariant(rt, v)).toBe('tiled (matmul=tiled; not in this runtime: noSuchKnob)');
  });
});

describe('section selection and the per-section lock', () => {
  test('--only: all by default, a subset, unknown names refused', () => {
    expect([...parseOnly(undefined)]).toEqual([...SECTIONS]);
    expect([...parseOnly('peer, mla')]).toEqual(['peer', 'mla']);
    expect(() => parseOnly('peer,gemm')).toThrow(/--only takes/);
    expect(() => parseOnly('')).toThrow(/--only takes/);
  });

  test('the lock is held while the section runs and free after', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-lock-')), 'lock');
    writeFileSync(file, '');
    const tryLock = () => {
      try {
        execFileSync('flock', ['-n', file, 'true']);
        return true;
      } catch {
        return false;
      }
    };
    const inside = await underLock(file, async () => tryLock());
    expect(inside).toBe(false);
    expect(tryLock()).toBe(true);
    const held = await acquireLock(file);
    expect(tryLock()).toBe(false);
    await held.release();
    expect(tryLock()).toBe(true);
  });
});

describe('peer inputs', () => {
  test('q8 quants for MatMulNBits: int8 q → uint8 q + 128', () => {
    const q = new Uint8Array([0, 1, 0x7f, 0x81, 0xff]); // 0, 1, 127, −127, −1
    expect([...q8ToUint8(q)]).toEqual([128, 129, 255, 1, 127]);
  });

  test('attention layouts: packed qkv → heads-first / token-major, and ours back to heads-first', () => {
    const B = 2;
    const L = 3;
    const H = 2;
    const d = 2;
    const Dv = H * d;
    const qkv = Float32Array.from({ length: B * L * 3 * Dv }, (_, i) => i);
    // element (b, l, which, h, j) sits at ((b·L + l)·3 + which)·Dv + h·d + j
    const at = (b: number, l: number, which: number, h: number, j: number) =>
      ((b * L + l) * 3 + which) * Dv + h * d + j;
    const k = headsFirstPart(qkv, B, L, H, d, 1);
    expect(k[((1 * H + 1) * L + 2) * d + 1]).toBe(at(1, 2, 1, 1, 1));
    const v = tokenMajorPart(qkv, B * L, Dv, 2);
    expect(v[(1 * L + 2) * Dv + 3]).toBe(at(1, 2, 2, 1, 1));
    // ours: [B·L, H·d]; token-major v is exactly such a tensor, so oursHeadsFirst(v) = headsFirstPart(qkv, …, 2)
    expect([...oursHeadsFirst(v, B, L, H, d)]).toEqual([...headsFirstPart(qkv, B, L, H, d, 2)]);
  });

  test('MultiHeadAttention graph names its op, domain and heads', () => {
    const text = new TextDecoder('latin1').decode(multiHeadAttentionModel(4, 16, 256, 72));
    expect(text).toContain('MultiHeadAttention');
    expect(text).toContain('com.microsoft');
    expect(text).toContain('num_heads');
  });
});

describe('per decoded token, real config on the counting backend', () => {
  test('27 layers at 4K: one readback, bytes at least the active weights, KV grows with the context', async () => {
    const cfg = fullConfig();
    const a = await countToken(cfg, 'q4', 4096);
    const b = await countToken(cfg, 'q4', 8192);
    expect(a.readbacks).toBe(1);
    expect(a.submits).toBeGreaterThanOrEqual(1);
    expect(a.dispatches).toBeGreaterThan(27); // at least one per layer
    expect(a.uniformBytes).toBeGreaterThan(0);
    expect(a.ratio).toBeGreaterThan(0.99); // the minimum is a lower bound on what any kernel reads
    expect(b.kvBytesRead).toBeGreaterThan(1.9 * a.kvBytesRead);
    expect(b.minBytes - a.minBytes).toBe(27 * 4096 * 576 * 2); // the f16 cache rows added
    expect(b.dispatches).toBe(a.dispatches);
  }, 60_000);
});

describe('report tables of the new sections', () => {
  const base = { conditions: { adapter: {} }, kernels: [], peer: [], endToEnd: [] } as unknown as BenchResult;

  test('goal verdicts: met and missed', () => {
    const row = (ratio: number): PeerRow => ({
      op: 'matvec',
      shape: 's',
      quant: 'q4',
      peerOp: 'x',
      ratio,
      target: 1,
    });
    expect(goalVerdict(row(0.8))).toBe('goal ≤ 1.0: met');
    expect(goalVerdict(row(1.3))).toBe('**goal ≤ 1.0: missed (1.30)**');
    expect(goalVerdict({ ...row(1), target: undefined })).toBe('');
  });

  test('bandwidth, MLA and per-token tables, and a GEMV as a fraction of the copy', () => {
    const timing = { ms: 2, minMs: 2, maxMs: 2, reps: 1, batch: 1, method: 'wall' as const };
    const r: BenchResult = {
      ...base,
      bandwidth: [{ op: 'copy', bytes: 2e6, timing, gbps: 10 }],
      mlaDecode: [
        {
          context: 8192,
          oldKernel: 'old',
          newKernel: 'new',
          oldMs: 80,
          newMs: 8,
          speedup: 10,
          bytesRead: 2e6,
          oldBytesRead: 3e7,
          minBytes: 1e6,
        },
      ],
      perToken: [
        {
          model: 'm',
          quant: 'q4',
          context: 4096,
          counter: 'c',
          dispatches: 300,
          submits: 1,
          readbacks: 1,
          uniformBytes: 1300,
          bytesRead: 1.1e9,
          kvBytesRead: 1e8,
          minBytes: 1e9,
          ratio: 1.1,
        },
      ],
    };
    expect(bandwidthSection(r, 'dev').join('\n')).toContain('| copy | 2.00 MB | 2.000 | 10.00 | 1×1 | dev |');
    expect(mlaSection(r, 'dev').join('\n')).toContain(
      '| 8192 | 80.0 | 8.0 | 10.00 | 2.00 MB | 30.00 MB | 1.00 MB | 2.000 | dev |',
    );
    expect(perTokenSection(r).join('\n')).toContain(
      '| q4 | 4096 | 300 | 1 | 1 | 1.3 kB | 1.100 GB | 100.00 MB | 1.000 GB | 1.100 |',
    );
    expect(fractionOfCopy({ op: 'matvec', shape: '', quant: '', bytes: 1, flops: 1, gbps: 7 }, 10)).toBe(0.7);
    expect(
      fractionOfCopy({ op: 'moe', shape: '', quant: '', bytes: 1, flops: 1, gbps: 7 }, 10),
    ).toBeUndefined();
    expect(bandwidthSection(base, 'dev')).toEqual([]);
  });

  test('README figures quote the result: goal verdicts, MLA and per-token rows', () => {
    const r = {
      ...base,
      conditions: {
        engine: 'abc',
        browser: 'HeadlessChrome/1',
        adapter: { description: 'SwiftShader', fallback: true },
      },
      seconds: 10,
      peer: [
        {
          op: 'matvec',
          shape: '2048→1408',
          quant: 'q4',
          peerOp: 'MatMulNBits (acc 4)',
          oursMs: 2,
          peerMs: 4,
          ratio: 0.5,
          target: 1,
          variant: 'GEMV',
        },
        {
          op: 'patch attention',
          shape: '1×64×64',
          quant: 'f32',
          peerOp: 'MHA',
          oursMs: 9,
          peerMs: 10,
          ratio: 0.9,
          target: 0.5,
        },
      ],
      perToken: [
        {
          model: 'm',
          quant: 'q4',
          context: 4096,
          counter: 'c',
          dispatches: 280,
          submits: 1,
          readbacks: 1,
          uniformBytes: 1300,
          bytesRead: 1.04e9,
          kvBytesRead: 1e8,
          minBytes: 1e9,
          ratio: 1.04,
        },
      ],
    } as unknown as BenchResult;
    const md = readmeFigures(r);
    expect(md).toContain('(a CPU implementation of WebGPU)');
    expect(md).toContain(
      '| matvec | 2048→1408 | q4 | GEMV | 2.0 | 4.0 (MatMulNBits (acc 4)) | 0.50 | goal ≤ 1.0: met |',
    );
    expect(md).toContain('**goal ≤ 0.5: missed (0.90)**');
    expect(md).toContain('| q4 @ 4096 | 280 | 1 | 1 | 1.3 kB | 1.040 GB / 1.000 GB = 1.040 |');
  });
});
