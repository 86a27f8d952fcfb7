import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../testing/random.ts';
import { Sha256, sha256Hex } from './sha256.ts';

function nodeSha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('Sha256', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex(new Uint8Array(0))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(
      sha256Hex(new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')),
    ).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('agrees with node:crypto for lengths around block and padding boundaries', () => {
    for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4097]) {
      const data = randomBytes(n, n);
      expect(sha256Hex(data), `length ${n}`).toBe(nodeSha(data));
    }
  });

  it('gives the same digest however the input is split into updates', () => {
    const data = randomBytes(10_000, 7);
    const expected = nodeSha(data);
    for (const chunk of [1, 3, 63, 64, 65, 999, 4096]) {
      const h = new Sha256();
      for (let i = 0; i < data.length; i += chunk) h.update(data.subarray(i, i + chunk));
      expect(h.length).toBe(data.length);
      expect(h.hex(), `chunk ${chunk}`).toBe(expected);
    }
  });

  it('starts over after reset', () => {
    const h = new Sha256().update(new TextEncoder().encode('partial bytes from another version'));
    h.reset().update(new TextEncoder().encode('abc'));
    expect(h.hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses updates after the digest', () => {
    const h = new Sha256();
    h.hex();
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
  });
});
