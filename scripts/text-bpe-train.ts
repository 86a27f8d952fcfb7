// Plain byte-level BPE training, used only to make test vocabularies. Words are the pre-tokens of
// Kimi's pattern (so no merge crosses a pre-token boundary, as in a real tiktoken vocabulary); each
// step merges the most frequent adjacent pair (ties: the pair of lowest ids) into a new token.
import { utf8Binary } from '../src/text/bpe.ts';
import { pretokenize, toWellFormed } from '../src/text/pretokenize.ts';

/**
 * The 256 single bytes in GPT-2's `bytes_to_unicode` order (printable bytes first), the order real
 * tiktoken files use, so that byte ranks differ from byte values and a rank/byte mix-up shows.
 */
export function byteTokenOrder(): number[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const rest = [];
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) rest.push(b);
  return [...printable, ...rest];
}

const PAIR_SHIFT = 2 ** 20; // ids stay far below 2^20 for test vocabularies

/**
 * Learns `numMerges` merges from `corpus`. Returns every token's bytes as a binary string, in rank
 * order: the 256 bytes, then one token per merge. Stops early if no pair is left.
 */
export function trainBpe(corpus: string, numMerges: number): string[] {
  const tokens = byteTokenOrder().map((b) => String.fromCharCode(b));
  const idOf = new Map(tokens.map((t, i) => [t, i]));

  const wordFreq = new Map<string, number>();
  for (const piece of pretokenize(toWellFormed(corpus))) {
    const bin = utf8Binary(piece);
    wordFreq.set(bin, (wordFreq.get(bin) ?? 0) + 1);
  }
  const words = [...wordFreq].map(([bin, freq]) => ({ ids: [...bin].map((c) => idOf.get(c)!), freq }));

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const count = (w: number, sign: number) => {
    const { ids, freq } = words[w]!;
    for (let i = 0; i + 1 < ids.length; i++) {
      const key = ids[i]! * PAIR_SHIFT + ids[i + 1]!;
      const c = (pairCount.get(key) ?? 0) + sign * freq;
      if (c === 0) {
        // Keep the map small: the best-pair scan walks all of it on every merge.
        pairCount.delete(key);
        pairWords.delete(key);
      } else pairCount.set(key, c);
      if (sign > 0) {
        const set = pairWords.get(key);
        if (set) set.add(w);
        else pairWords.set(key, new Set([w]));
      }
    }
  };
  for (let w = 0; w < words.length; w++) count(w, 1);

  let added = 0;
  while (added < numMerges) {
    let best = -1;
    let bestCount = 0;
    for (const [key, c] of pairCount) {
      if (c > bestCount || (c === bestCount && c > 0 && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best < 0) break;
    const a = Math.floor(best / PAIR_SHIFT);
    const b = best - a * PAIR_SHIFT;
    const merged = tokens[a]! + tokens[b]!;
    // Two different pairs can spell the same bytes ("a"+"bc", "ab"+"c"): reuse the existing token.
    let id = idOf.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      idOf.set(merged, id);
      added++;
    }
    for (const w of pairWords.get(best) ?? []) {
      count(w, -1);
      words[w]!.ids = mergePair(words[w]!.ids, a, b, id);
      count(w, 1);
    }
    pairCount.delete(best);
    pairWords.delete(best);
  }
  return tokens;
}

function mergePair(ids: number[], a: number, b: number, merged: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === a && ids[i + 1] === b) {
      out.push(merged);
      i++;
    } else out.push(ids[i]!);
  }
  return out;
}
