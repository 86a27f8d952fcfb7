// releaseSchedule: each original shard is released right after the last weight (in conversion order)
// that reads it, stacked experts reading many tensors across shards included; unread files never.
import { describe, expect, it } from 'vitest';
import type { PlannedWeight } from './assemble.ts';
import type { TensorSource } from './checkpoint.ts';
import { releaseSchedule } from './convert_release.ts';

const FILES: Record<string, string> = {
  a: 'model-1.safetensors',
  b: 'model-1.safetensors',
  e0: 'model-1.safetensors',
  e1: 'model-2.safetensors',
  c: 'model-2.safetensors',
  d: 'model-3.safetensors',
};

const source = (naming: 'hf' | 'engine'): TensorSource => ({
  naming,
  list: () => Object.keys(FILES),
  has: (n) => n in FILES,
  info: (n) => ({ dtype: 'BF16', shape: [1], bytes: 2, file: FILES[n]!, start: 0, end: 2 }),
  read: async () => new Uint8Array(2),
});

const weight = (name: string, hf: string[]): PlannedWeight =>
  ({
    spec: { name, hf, shape: [1], hfShape: [1], part: 'lm', quantizable: true },
    stored: 'bf16',
    dtype: 'q4',
  }) as unknown as PlannedWeight;

describe('releaseSchedule', () => {
  it('releases a shard after its last reader, an expert stack spanning shards holds both', () => {
    const order = [weight('A', ['a']), weight('E', ['e0', 'e1']), weight('B', ['b']), weight('C', ['c'])];
    const s = releaseSchedule(order, source('hf'));
    expect(Object.fromEntries(s)).toEqual({ 2: ['model-1.safetensors'], 3: ['model-2.safetensors'] });
    // model-3 (d) is read by no weight: released with the entry at the end, not here
    expect([...s.values()].flat()).not.toContain('model-3.safetensors');
  });

  it('an engine-named source is read by engine names', () => {
    const s = releaseSchedule([weight('d', ['x']), weight('a', ['y'])], source('engine'));
    expect(Object.fromEntries(s)).toEqual({ 0: ['model-3.safetensors'], 1: ['model-1.safetensors'] });
  });
});
