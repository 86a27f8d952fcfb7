import { describe, expect, test } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { defineUniforms } from './uniforms.ts';
import { preprocessWgsl } from './wgsl_preprocess.ts';

const inc = (files: Record<string, string>) => (n: string) => files[n];

describe('preprocessWgsl', () => {
  test('#ifdef / #ifndef / #if / #else / #endif, nested', () => {
    const src = [
      'a',
      '#ifdef X',
      'x',
      '#if Y',
      'xy',
      '#else',
      'x-not-y',
      '#endif',
      '#else',
      'not-x',
      '#endif',
      '#ifndef X',
      'nx',
      '#endif',
      'z',
    ].join('\n');
    expect(preprocessWgsl(src, { X: true, Y: 1 }, inc({})).split('\n')).toEqual(['a', 'x', 'xy', 'z']);
    expect(preprocessWgsl(src, { X: true, Y: 0 }, inc({})).split('\n')).toEqual(['a', 'x', 'x-not-y', 'z']);
    expect(preprocessWgsl(src, {}, inc({})).split('\n')).toEqual(['a', 'not-x', 'nx', 'z']);
  });
  test('#include resolves recursively and respects the enclosing condition', () => {
    const files = { 'common/a.wgsl': 'A\n#include "common/b.wgsl"', 'common/b.wgsl': 'B' };
    expect(preprocessWgsl('#include "common/a.wgsl"\nC', {}, inc(files))).toBe('A\nB\nC');
    expect(preprocessWgsl('#if NO\n#include "missing.wgsl"\n#endif\nC', {}, inc(files))).toBe('C');
  });
  test('errors are typed: unknown include, unbalanced #endif, cycles', () => {
    const expectErr = (f: () => unknown, re: RegExp) => {
      try {
        f();
        throw new Error('no error');
      } catch (e) {
        expect(isKimiVLError(e, 'ShaderCompileError')).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    };
    expectErr(() => preprocessWgsl('#include "nope.wgsl"', {}, inc({})), /nope\.wgsl/);
    expectErr(() => preprocessWgsl('#endif', {}, inc({})), /without #if/);
    expectErr(() => preprocessWgsl('#ifdef A', {}, inc({})), /without #endif/);
    expectErr(() => preprocessWgsl('#include "a"', {}, inc({ a: '#include "a"' })), /nesting/);
  });
});

describe('defineUniforms', () => {
  const U = defineUniforms('P', { M: 'u32', eps: 'f32', off: 'i32' });
  test('emits the WGSL struct and binding from the same definition', () => {
    expect(U.wgsl).toContain('struct P {\n  M: u32,\n  eps: f32,\n  off: i32,\n};');
    expect(U.wgsl).toContain('@group(0) @binding(0) var<uniform> u: P;');
    expect(U.size).toBe(16);
  });
  test('packs by name regardless of the order values are given', () => {
    const bytes = U.pack({ off: -3, eps: 0.5, M: 7 });
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    expect([dv.getUint32(0, true), dv.getFloat32(4, true), dv.getInt32(8, true)]).toEqual([7, 0.5, -3]);
  });
  test('rejects missing fields and non-u32 values', () => {
    expect(() => U.pack({ M: 1, eps: 1 } as never)).toThrow(/off/);
    expect(() => U.pack({ M: -1, eps: 1, off: 0 })).toThrow(/u32/);
  });
});
