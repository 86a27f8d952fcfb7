import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { log, logLevel, setLogLevel } from '../log.ts';
import { type LoadProgress, ProgressTracker } from '../weights/load_progress.ts';
import { KimiVL } from './kimi_vl.ts';
import { modelName, type TransformersProgress, TransformersProgressAdapter } from './progress.ts';

const snap = (phase: LoadProgress['phase'], files: Array<[string, number, number | null]>): LoadProgress => ({
  phase,
  files: files.map(([name, bytesDone, bytesTotal]) => ({ name, bytesDone, bytesTotal, fromCache: false })),
  bytesDone: 0,
  bytesTotal: 0,
  fraction: 0,
  bytesPerSecond: 0,
});

describe('transformers.js-style progress', () => {
  it('initiate → download → progress … → done per file, ready at the end', () => {
    const events: TransformersProgress[] = [];
    const a = new TransformersProgressAdapter('org/m', (e) => events.push(e));
    a.push(snap('metadata', [['config.json', 0, null]]));
    a.push(snap('metadata', [['config.json', 120, 120]]));
    a.push(snap('download', [['model.safetensors', 0, 1000]]));
    a.push(snap('download', [['model.safetensors', 250, 1000]]));
    a.push(snap('download', [['model.safetensors', 250, 1000]])); // no change: no event
    a.push(snap('download', [['model.safetensors', 1000, 1000]]));
    a.push(snap('convert', [['layers.0', 5, 10]])); // tensors, not files
    a.push(snap('done', []));
    a.ready();
    a.ready();
    expect(events).toEqual([
      { status: 'initiate', name: 'org/m', file: 'config.json' },
      { status: 'download', name: 'org/m', file: 'config.json' },
      { status: 'progress', name: 'org/m', file: 'config.json', progress: 100, loaded: 120, total: 120 },
      { status: 'done', name: 'org/m', file: 'config.json' },
      { status: 'initiate', name: 'org/m', file: 'model.safetensors' },
      { status: 'download', name: 'org/m', file: 'model.safetensors' },
      {
        status: 'progress',
        name: 'org/m',
        file: 'model.safetensors',
        progress: 25,
        loaded: 250,
        total: 1000,
      },
      {
        status: 'progress',
        name: 'org/m',
        file: 'model.safetensors',
        progress: 100,
        loaded: 1000,
        total: 1000,
      },
      { status: 'done', name: 'org/m', file: 'model.safetensors' },
      { status: 'ready', task: 'image-text-to-text', model: 'org/m' },
    ]);
  });

  it('a throwing callback does not break the adapter', () => {
    const a = new TransformersProgressAdapter('m', () => {
      throw new Error('ui bug');
    });
    expect(() => a.push(snap('download', [['a', 1, 2]]))).not.toThrow();
  });

  it('names the model as given', () => {
    expect(modelName('org/name')).toBe('org/name');
    expect(modelName({ repo: 'org/x' })).toBe('org/x');
    expect(modelName(new URL('https://h/m/'))).toBe('https://h/m/');
    expect(modelName([new File([], 'a')])).toBe('local files');
  });

  it('KimiVL.load calls progress_callback (and onProgress still) ending with ready', async () => {
    const dir = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;
    const files = readdirSync(dir)
      .filter((n) => n !== 'README.md')
      .map((n) => new File([readFileSync(dir + n)], n));
    const events: TransformersProgress[] = [];
    let native = 0;
    const engine = await KimiVL.load(files, {
      backend: 'ref',
      inThread: true,
      contextBudget: 64,
      onProgress: () => void native++,
      progress_callback: (e) => events.push(e),
    });
    await engine.unload();
    expect(native).toBeGreaterThan(0);
    expect(events.at(-1)).toEqual({ status: 'ready', task: 'image-text-to-text', model: 'local files' });
    // A local-files load reads no file over the network: no per-file events, but the same ending.
    expect(events.every((e) => e.status === 'ready' || e.status === 'done')).toBe(true);
  });

  it("follows the loader's own ProgressTracker through a download (real snapshot shapes)", async () => {
    const events: TransformersProgress[] = [];
    const a = new TransformersProgressAdapter('org/m', (e) => events.push(e));
    const t = new ProgressTracker((p) => a.push(p));
    t.startPhase('download', [
      { name: 'config.json', size: 10 },
      { name: 'model.safetensors', size: null },
    ]);
    t.set('config.json', 10, 10);
    t.finishFile('config.json');
    t.setTotal('model.safetensors', 400);
    t.set('model.safetensors', 400, 400);
    t.finishFile('model.safetensors');
    t.done();
    a.ready();
    const statuses = (file: string) =>
      events.flatMap((e) => ('file' in e && e.file === file ? [e.status] : []));
    for (const f of ['config.json', 'model.safetensors']) {
      expect(statuses(f).slice(0, 2), f).toEqual(['initiate', 'download']);
      expect(
        statuses(f).filter((s) => s === 'done'),
        f,
      ).toEqual(['done']);
      expect(statuses(f).at(-1), f).toBe('done');
    }
    const last = events.filter((e) => e.status === 'progress' && e.file === 'model.safetensors').at(-1);
    expect(last).toMatchObject({ loaded: 400, total: 400, progress: 100 });
    expect(events.at(-1)?.status).toBe('ready');
  });
});

describe('logLevel', () => {
  afterEach(() => {
    setLogLevel('warn');
    vi.restoreAllMocks();
  });

  it('each level lets through itself and what is more severe; silent prints nothing', () => {
    const seen: string[] = [];
    for (const k of ['error', 'warn', 'info', 'debug'] as const)
      vi.spyOn(console, k).mockImplementation(() => void seen.push(k));
    const all = () => {
      seen.length = 0;
      log.error('e');
      log.warn('w');
      log.info('i');
      log.debug('d');
      return [...seen];
    };
    expect(all()).toEqual(['error', 'warn']); // default 'warn'
    setLogLevel('debug');
    expect(all()).toEqual(['error', 'warn', 'info', 'debug']);
    setLogLevel('error');
    expect(all()).toEqual(['error']);
    setLogLevel('silent');
    expect(all()).toEqual([]);
  });

  it('KimiVL.load sets it; an unknown level is a ConfigError listing the allowed values', async () => {
    const dir = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;
    const files = readdirSync(dir)
      .filter((n) => n !== 'README.md')
      .map((n) => new File([readFileSync(dir + n)], n));
    const engine = await KimiVL.load(files, {
      backend: 'ref',
      inThread: true,
      contextBudget: 64,
      logLevel: 'silent',
    });
    expect(logLevel()).toBe('silent');
    await engine.unload();
    await expect(KimiVL.load(files, { inThread: true, logLevel: 'loud' as 'silent' })).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/logLevel .*"silent", "error"/),
    });
  });
});
