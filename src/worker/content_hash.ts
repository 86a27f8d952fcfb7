// A 64-bit content hash for in-memory caches (image rows in the KV cache, prepared images): two 32-bit
// lanes, FNV-1a and a multiply-xorshift, over 32-bit words, as 16 hex digits. Not cryptographic: the keys
// only name data this engine was given in the same session.

/** Hash of `words`, seeded by two tags (e.g. a grid's sides, a byte length) that go into the key too. */
export function hashWords(words: Uint32Array, tagA: number, tagB: number): string {
  let a = 0x811c9dc5 ^ tagA;
  let b = 0x9e3779b9 ^ Math.imul(tagB, 0x85ebca6b);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ (w + i), 0xc2b2ae35);
    b ^= b >>> 15;
  }
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
  return `${hex(a)}${hex(b ^ words.length)}`;
}

/** Hash of a byte string of any length and alignment (the tail zero-padded; the length is a tag). */
export function hashBytes(bytes: Uint8Array): string {
  const aligned = bytes.byteOffset % 4 === 0 && bytes.byteLength % 4 === 0;
  const words = aligned
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
    : (() => {
        const w = new Uint32Array(Math.ceil(bytes.byteLength / 4));
        new Uint8Array(w.buffer).set(bytes);
        return w;
      })();
  return hashWords(words, bytes.byteLength, bytes.byteLength >>> 16);
}
