// Byte-level BPE with tiktoken's merge rule (tiktoken `_byte_pair_merge`): within one pre-token,
// repeatedly merge the adjacent pair whose concatenated bytes have the lowest rank, the leftmost
// pair on ties, until no adjacent pair is a token.
//
// Bytes are carried as "binary strings" (one char per byte, codes 0..255): slicing one is cheap and
// it is directly a Map key, so a rank lookup needs no allocation beyond the slice.
import { KimiVLError } from '../errors.ts';

/** Token bytes (as a binary string) → rank. Ranks are the token ids of the base vocabulary. */
export type RankMap = ReadonlyMap<string, number>;

const NONE = -1;
// tiktoken's loop rescans every pair after each merge: O(n²) per piece, which is faster than a heap
// for the short pieces that make up nearly all text. Longer pieces (a run of 10,000 identical
// characters) use the heap so the cost stays O(n log n).
const HEAP_THRESHOLD = 48;

/** The token ids of one pre-token's bytes. */
export function bytePairEncode(bin: string, ranks: RankMap): number[] {
  if (bin.length === 1) return [rankOfByte(bin, ranks)];
  const bounds = bin.length <= HEAP_THRESHOLD ? mergeByScan(bin, ranks) : mergeByHeap(bin, ranks);
  const ids: number[] = new Array(bounds.length - 1);
  for (let j = 0; j + 1 < bounds.length; j++) {
    const part = bin.slice(bounds[j], bounds[j + 1]);
    ids[j] = part.length === 1 ? rankOfByte(part, ranks) : ranks.get(part)!;
  }
  return ids;
}

function rankOfByte(b: string, ranks: RankMap): number {
  const r = ranks.get(b);
  if (r === undefined) {
    throw new KimiVLError(
      'TokenizerError',
      `the vocabulary has no token for byte 0x${b.charCodeAt(0).toString(16)}; a byte-level BPE file must list all 256 bytes`,
    );
  }
  return r;
}

/** tiktoken's algorithm verbatim: part boundaries plus the rank of each part with its right neighbour. */
function mergeByScan(bin: string, ranks: RankMap): number[] {
  const n = bin.length;
  const starts: number[] = [];
  const pairRanks: number[] = [];
  for (let i = 0; i < n - 1; i++) {
    starts.push(i);
    pairRanks.push(ranks.get(bin.slice(i, i + 2)) ?? NONE);
  }
  starts.push(n - 1, n);
  pairRanks.push(NONE, NONE);
  for (;;) {
    let best = NONE;
    let at = -1;
    for (let i = 0; i < pairRanks.length - 1; i++) {
      const r = pairRanks[i]!;
      if (r !== NONE && (best === NONE || r < best)) {
        best = r;
        at = i;
      }
    }
    if (at < 0) break;
    starts.splice(at + 1, 1);
    pairRanks.splice(at + 1, 1);
    pairRanks[at] =
      at + 2 < starts.length ? (ranks.get(bin.slice(starts[at], starts[at + 2])) ?? NONE) : NONE;
    if (at > 0) pairRanks[at - 1] = ranks.get(bin.slice(starts[at - 1], starts[at + 1])) ?? NONE;
  }
  return starts;
}

// Heap keys pack (rank, start) into one double so that ties break to the leftmost pair, exactly
// like the scan above. Ranks < 2^21 and starts < 2^32 keep the key below 2^53.
const POS_SCALE = 2 ** 32;

/** Same result as mergeByScan in O(n log n): parts are a linked list, candidate pairs a min-heap. */
function mergeByHeap(bin: string, ranks: RankMap): number[] {
  const n = bin.length;
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const pairRank = new Int32Array(n).fill(NONE);
  const heap = new MinHeap();
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  for (let i = 0; i < n - 1; i++) {
    const r = ranks.get(bin.slice(i, i + 2)) ?? NONE;
    pairRank[i] = r;
    if (r !== NONE) heap.push(r * POS_SCALE + i);
  }
  while (heap.size > 0) {
    const key = heap.pop();
    const r = Math.floor(key / POS_SCALE);
    const i = key - r * POS_SCALE;
    // Stale entry: the part was absorbed by its left neighbour, or its right neighbour changed.
    if (pairRank[i] !== r) continue;
    const j = next[i]!;
    const k = next[j]!;
    pairRank[j] = NONE;
    next[i] = k;
    if (k < n) prev[k] = i;
    pairRank[i] = k < n ? (ranks.get(bin.slice(i, next[k])) ?? NONE) : NONE;
    if (pairRank[i] !== NONE) heap.push(pairRank[i]! * POS_SCALE + i);
    const p = prev[i]!;
    if (p >= 0) {
      pairRank[p] = ranks.get(bin.slice(p, k)) ?? NONE;
      if (pairRank[p] !== NONE) heap.push(pairRank[p]! * POS_SCALE + p);
    }
  }
  const bounds: number[] = [];
  for (let i = 0; i < n; i = next[i]!) bounds.push(i);
  bounds.push(n);
  return bounds;
}

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(v: number): void {
    const a = this.items;
    let i = a.push(v) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= v) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** UTF-8 bytes of a well-formed string as a binary string (one char per byte). */
export function utf8Binary(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out += String.fromCharCode(c);
    } else if (c < 0x800) {
      out += String.fromCharCode(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      // A surrogate pair (lone surrogates were replaced by U+FFFD before we get here).
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out += String.fromCharCode(
        0xf0 | (c >> 18),
        0x80 | ((c >> 12) & 0x3f),
        0x80 | ((c >> 6) & 0x3f),
        0x80 | (c & 0x3f),
      );
    } else {
      out += String.fromCharCode(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    }
  }
  return out;
}

/** Bytes → binary string, chunked to stay under the argument-count limit of fromCharCode. */
export function bytesToBinary(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}
