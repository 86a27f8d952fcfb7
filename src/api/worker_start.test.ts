// The engine's worker never fails silently: each way a worker can fail to start ends in a typed
// WorkerStartError that says why, unless the caller opted out with requireWorker: false.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { KimiVL } from './kimi_vl.ts';
import { startEngine } from './worker_start.ts';

/** A stand-in Worker: postMessage goes nowhere; `fail` dispatches the error a broken script raises. */
function fakeWorker(fail?: string): Worker {
  const t = new EventTarget() as EventTarget & {
    postMessage(): void;
    terminate(): void;
    terminated?: boolean;
  };
  t.postMessage = () => {
    if (fail !== undefined)
      setTimeout(() => t.dispatchEvent(Object.assign(new Event('error'), { message: fail })), 1);
  };
  t.terminate = () => {
    t.terminated = true;
  };
  return t as unknown as Worker;
}

async function startError(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => null,
    (err: unknown) => err as Error,
  );
  expect(e).not.toBeNull();
  return e!;
}

afterEach(() => vi.restoreAllMocks());

describe('startEngine', () => {
  it('inThread: true starts no worker', async () => {
    const make = vi.fn(() => fakeWorker());
    expect(await startEngine({ inThread: true, worker: make })).toBeNull();
    expect(make).not.toHaveBeenCalled();
  });

  it('a worker whose script fails is a WorkerStartError naming the failure, and is terminated', async () => {
    const w = fakeWorker("Failed to load module script: MIME type 'text/html'");
    const e = await startError(startEngine({ worker: w }));
    expect(isKimiVLError(e, 'WorkerStartError')).toBe(true);
    expect(e.message).toContain("MIME type 'text/html'");
    expect(e.message).toContain('inThread: true');
    expect((w as unknown as { terminated: boolean }).terminated).toBe(true);
  });

  it('a worker that never answers is a WorkerStartError after the timeout', async () => {
    const e = await startError(startEngine({ worker: () => fakeWorker() }, 50));
    expect(isKimiVLError(e, 'WorkerStartError')).toBe(true);
    expect(e.message).toContain('did not answer within');
  });

  it('a worker that cannot be constructed (e.g. CSP) is a WorkerStartError', async () => {
    const e = await startError(
      startEngine({
        worker: () => {
          throw new DOMException('Refused by worker-src', 'SecurityError');
        },
      }),
    );
    expect(isKimiVLError(e, 'WorkerStartError')).toBe(true);
    expect(e.message).toContain('SecurityError: Refused by worker-src');
  });

  it('requireWorker: false runs in-thread instead, and warns with the reason', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await startEngine({ worker: fakeWorker('boom'), requireWorker: false })).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('boom');
  });
});

describe('KimiVL.load', () => {
  it('rejects with WorkerStartError where there is no Worker (Node) unless inThread is set', async () => {
    expect(typeof Worker).toBe('undefined');
    const e = await startError(KimiVL.load('/models/none/', {}));
    expect(isKimiVLError(e, 'WorkerStartError')).toBe(true);
    expect(e.message).toContain('no Web Worker');
  });

  it('rejects with WorkerStartError when the given worker fails, before any download', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const e = await startError(KimiVL.load('https://example.invalid/m/', { worker: fakeWorker('broken') }));
    expect(isKimiVLError(e, 'WorkerStartError')).toBe(true);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
