// The runtime's contracts: compile errors surface with messages and source, uniforms go by name, bind
// groups are re-used across identical steps, device loss becomes a typed error.
import { expect, test } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { withRuntime } from './testing.ts';
import { defineUniforms } from './uniforms.ts';

const P = defineUniforms('ScaleParams', { n: 'u32', factor: 'f32' });
const SCALE = `
@group(0) @binding(1) var<storage, read> x: array<f32>;       // [n]
@group(0) @binding(2) var<storage, read_write> y: array<f32>; // [n]
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x < u.n) { y[g.x] = x[g.x] * u.factor; }
}`;

test('a WGSL compile error throws ShaderCompileError with the compiler message and numbered source', () =>
  withRuntime({}, async (rt) => {
    const x = rt.upload(new Float32Array(4), [4]);
    const y = rt.alloc([4]);
    rt.dispatch({
      op: 'broken',
      source: SCALE.replace('x[g.x] * u.factor', 'x[g.x] * undefined_name'),
      uniforms: P,
      params: { n: 4, factor: 2 },
      bindings: [
        { tensor: x, access: 'read' },
        { tensor: y, access: 'rw' },
      ],
      workgroups: [1],
    });
    const err = await rt.read(y).catch((e) => e);
    expect(isKimiVLError(err, 'ShaderCompileError')).toBe(true);
    expect(String(err.message)).toMatch(/undefined_name/);
    expect(String(err.message)).toMatch(/--- source ---/);
  }));

test('uniforms are packed by field name and bind groups are re-used across identical steps', () =>
  withRuntime(
    {},
    async (rt) => {
      const x = rt.upload(
        Float32Array.from({ length: 100 }, (_, i) => i),
        [100],
      );
      const step = (factor: number) => {
        const y = rt.alloc([100]);
        rt.dispatch({
          op: 'scale',
          source: SCALE,
          uniforms: P,
          params: { factor, n: 100 }, // deliberately not in declaration order
          bindings: [
            { tensor: x, access: 'read' },
            { tensor: y, access: 'rw' },
          ],
          workgroups: [2],
        });
        return y;
      };
      const y1 = step(3);
      expect((await rt.read(y1))[7]).toBe(21);
      rt.free(y1);
      const before = rt.stats.bindGroupsCreated;
      const y2 = step(0.5); // same buffers from the pool, different uniform values
      expect((await rt.read(y2))[8]).toBe(4);
      expect(rt.stats.bindGroupsCreated).toBe(before);
      expect(rt.pipelines.size).toBe(1);
      expect(() => P.pack({ n: 1 } as never)).toThrow(/factor/);
    },
    { guards: false },
  ));

test('device loss surfaces as DeviceLostError on the next call', () =>
  withRuntime({}, async (rt) => {
    rt.device.destroy(); // what a driver reset looks like to the page
    await new Promise((r) => setTimeout(r, 50));
    const err = (() => {
      try {
        rt.alloc([4]);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(isKimiVLError(err, 'DeviceLostError')).toBe(true);
  }));

test('an owned buffer freed while the pass using it is unsubmitted is destroyed only after submit', () =>
  withRuntime({}, async (rt) => {
    const x = rt.zeros([4], 'owned'); // unpooled, zero-filled
    const y = rt.alloc([4]);
    rt.dispatch({
      op: 'scale',
      source: SCALE,
      uniforms: P,
      params: { n: 4, factor: 2 },
      bindings: [
        { tensor: x, access: 'read' },
        { tensor: y, access: 'rw' },
      ],
      workgroups: [1],
    });
    rt.free(x); // before the dispatch is submitted: must not invalidate the submit
    expect(Array.from(new Float32Array(await rt.readBytes(y)))).toEqual([0, 0, 0, 0]);
    rt.free(y);
  }));
