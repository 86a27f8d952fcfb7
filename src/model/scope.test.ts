// scope(): a block's marked intermediates are released once, in reverse creation order, when it returns
// or throws; what it returns is the caller's.
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../tensor/types.ts';
import { scope } from './scope.ts';

const t = (n: number): Tensor => ({ shape: [n], dtype: 'f32' });

function recorder() {
  const released: Tensor[] = [];
  return { released, k: { release: (...ts: Tensor[]) => void released.push(...ts) } };
}

describe('scope', () => {
  it('releases the marked tensors in reverse creation order and keeps the result', () => {
    const { released, k } = recorder();
    const [a, b, c, out] = [t(1), t(2), t(3), t(4)];
    const got = scope(k, (tmp) => {
      tmp(a);
      tmp(b);
      tmp(c);
      return out;
    });
    expect(got).toBe(out);
    expect(released).toEqual([c, b, a]);
    expect(released[0]).toBe(c);
  });

  it('releases them when the block throws', () => {
    const { released, k } = recorder();
    const a = t(1);
    expect(() =>
      scope(k, (tmp) => {
        tmp(a);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(released).toEqual([a]);
  });

  it('refuses to return one of its own intermediates (it would be released)', () => {
    const { released, k } = recorder();
    const a = t(1);
    expect(() => scope(k, (tmp) => tmp(a))).toThrow(/returned one of its own intermediates/);
    expect(released).toEqual([a]);
  });
});
