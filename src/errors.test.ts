// isKimiVLError recognises kimi-vl-web's errors, also after a worker boundary (comlink rethrows them as
// plain Errors with our name), and nothing else: not a TypeError, not the browser's own AbortError.
import * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import { isKimiVLError, isKimiVLErrorName, KIMI_VL_ERROR_NAMES, KimiVLError } from './errors.ts';

describe('isKimiVLError', () => {
  it('our errors, with and without a name to match', () => {
    const e = new KimiVLError('ConfigError', 'bad');
    expect(isKimiVLError(e)).toBe(true);
    expect(isKimiVLError(e, 'ConfigError')).toBe(true);
    expect(isKimiVLError(e, 'ImageError')).toBe(false);
  });

  it('not other errors, whatever their name', () => {
    expect(isKimiVLError(new TypeError('x'))).toBe(false);
    expect(isKimiVLError(new RangeError('x'))).toBe(false);
    expect(isKimiVLError(new Error('x'))).toBe(false);
    expect(isKimiVLError(Object.assign(new Error('x'), { name: 'TypeError' }))).toBe(false);
    expect(isKimiVLError(Object.assign(new Error('x'), { name: 'SomethingError' }))).toBe(false);
    // The platform's abort (fetch, AbortSignal.reason) is a DOMException, not ours.
    expect(isKimiVLError(new DOMException('aborted', 'AbortError'))).toBe(false);
    class Foreign extends Error {
      override name = 'ConfigError';
    }
    expect(isKimiVLError(new Foreign('x'))).toBe(false);
    for (const v of [
      null,
      undefined,
      'ConfigError',
      1,
      { name: 'ConfigError' },
      { name: 'FooError', message: 'm' },
    ])
      expect(isKimiVLError(v), String(v)).toBe(false);
  });

  it('re-created errors with our name: comlink’s plain Error, a plain object', () => {
    const recreated = Object.assign(new Error('m'), { name: 'CacheError', message: 'm', stack: 's' });
    expect(isKimiVLError(recreated, 'CacheError')).toBe(true);
    expect(isKimiVLError({ name: 'QuotaError', message: 'full' })).toBe(true);
  });

  it('across a real comlink boundary', async () => {
    const { port1, port2 } = new MessageChannel();
    Comlink.expose(
      {
        ours: () => {
          throw new KimiVLError('EngineStateError', 'no model');
        },
        theirs: () => {
          throw new TypeError('Invalid value used as weak map key');
        },
      },
      port1 as unknown as Comlink.Endpoint,
    );
    const remote = Comlink.wrap<{ ours(): void; theirs(): void }>(port2 as unknown as Comlink.Endpoint);
    const ours = await remote.ours().catch((e: unknown) => e);
    const theirs = await remote.theirs().catch((e: unknown) => e);
    port1.close();
    port2.close();
    expect(ours).not.toBeInstanceOf(KimiVLError); // comlink keeps the name, not the class
    expect(isKimiVLError(ours, 'EngineStateError')).toBe(true);
    expect((ours as Error).message).toBe('no model');
    expect(isKimiVLError(theirs)).toBe(false);
  });

  it('the name list is the type', () => {
    expect(KIMI_VL_ERROR_NAMES).toContain('ConfigError');
    expect(new Set(KIMI_VL_ERROR_NAMES).size).toBe(KIMI_VL_ERROR_NAMES.length);
    expect(isKimiVLErrorName('ConfigError')).toBe(true);
    expect(isKimiVLErrorName('TypeError')).toBe(false);
  });
});
