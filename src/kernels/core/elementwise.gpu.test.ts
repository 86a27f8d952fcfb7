// add, siluMul and gelu on the GPU vs the references (elementwise class: allclose atol 1e-6, rtol 1e-5,
// one rounding of f32 arithmetic).
import { describe, expect, test } from 'vitest';
import { randn } from '../../testing/random.ts';
import { allclose, kernelTests } from '../testing.ts';
import { addRef, geluRef, siluMulRef } from './elementwise.ref.ts';
import { add, gelu, siluMul } from './elementwise.ts';

describe('add / siluMul on the GPU vs addRef / siluMulRef', () => {
  kernelTests({
    op: 'elementwise',
    cases: [1, 255, 257, 1152 * 3, 11264 * 2],
    name: (n) => `add / siluMul n=${n}`,
    seed: (n) => n,
    inputs: (n, seed) => ({ n, a: randn(n, seed), b: randn(n, seed + 1) }),
    run: (g, { n, a, b }) => {
      const [ta, tb] = [g.upload(a, [n]), g.upload(b, [n])];
      return { add: add(g.rt, ta, tb), siluMul: siluMul(g.rt, ta, tb) };
    },
    ref: ({ a, b }) => ({ add: addRef(a, b), siluMul: siluMulRef(a, b) }),
    metric: allclose(1e-6, 1e-5),
  });
});

describe('gelu on the GPU vs geluRef', () => {
  kernelTests({
    op: 'gelu',
    cases: ['erf', 'tanh'] as const,
    name: (form) => `gelu ${form} over [−8, 8] and random values`,
    seed: () => 7,
    inputs: (_, seed) => {
      const x = randn(4099, seed, 3);
      for (let i = 0; i < 1601; i++) x[i] = -8 + i * 0.01; // dense sweep incl. x ≈ −2.7 where the forms differ most
      return x;
    },
    run: (g, x, form) => gelu(g.rt, g.upload(x, [x.length]), form),
    ref: (x, form) => geluRef(x, form),
    // erf in WGSL is A&S 7.1.26 (|ε| ≤ 1.5e-7), so the absolute tolerance is 1e-6 as for any elementwise op.
    metric: allclose(1e-6, 1e-5),
  });
  test('the two GELU forms are distinguishable (≥ 1e-4 apart near x = −2.7)', () => {
    const x = new Float32Array([-2.7]);
    expect(Math.abs(geluRef(x, 'erf')[0]! - geluRef(x, 'tanh')[0]!)).toBeGreaterThan(1e-4);
  });
});
