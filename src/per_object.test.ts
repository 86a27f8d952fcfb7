import { describe, expect, it } from 'vitest';
import { perObject } from './per_object.ts';

describe('perObject', () => {
  it('makes one value per owner, once, and keeps owners apart', () => {
    let made = 0;
    const stateFor = perObject((owner: { name: string }) => ({ owner: owner.name, n: ++made }));
    const a = { name: 'a' };
    const b = { name: 'b' };
    expect(stateFor(a)).toBe(stateFor(a));
    expect(stateFor(b)).toEqual({ owner: 'b', n: 2 });
    expect(stateFor(a)).toEqual({ owner: 'a', n: 1 });
    expect(made).toBe(2);
  });
});
