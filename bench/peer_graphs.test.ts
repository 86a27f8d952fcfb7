// The attention graph's head-group split: group counts against the score-tensor budget, and the split graph's
// wiring (every value produced before it is used, one output, each group's scores [H/groups, L, L]).
import { describe, expect, test } from 'vitest';
import type { OnnxGraph } from './onnx_builder.ts';
import { ATTENTION_SCORE_BYTES, attentionGraph, attentionHeadGroups } from './peer_graphs.ts';

/** Throws unless every node input is a graph input, an initializer or an earlier node's output. */
function checkWiring(g: OnnxGraph): Set<string> {
  const known = new Set([...g.inputs.map((i) => i.name), ...g.initializers.map((t) => t.name)]);
  for (const n of g.nodes) {
    for (const i of n.inputs) if (!known.has(i)) throw new Error(`${n.opType} reads ${i} before it exists`);
    for (const o of n.outputs) {
      if (known.has(o)) throw new Error(`${o} written twice`);
      known.add(o);
    }
  }
  return known;
}

describe('attentionHeadGroups', () => {
  test('one group while [H, L, L] f32 fits, else the fewest dividing groups that do', () => {
    expect(attentionHeadGroups(16, 32 * 32)).toBe(1); // 448²: 64 MiB
    expect(attentionHeadGroups(64, 16 * 16)).toBe(1); // 4 images of 16×16 as 64 batch heads: 16 MiB
    expect(attentionHeadGroups(16, 64 * 64)).toBe(8); // 4,096 patches: 64 MiB a head, 2 heads a group
    expect(attentionHeadGroups(16, 64 * 64, 2 ** 30)).toBe(1); // 1 GiB exactly fits a 1 GiB budget
    expect(attentionHeadGroups(12, 10, 5 * 400)).toBe(3); // 5 heads would fit, but groups divide H: 4 a group
    expect(attentionHeadGroups(3, 4096, 1)).toBe(3); // nothing fits: a head per group
    expect(ATTENTION_SCORE_BYTES).toBe(128 * 2 ** 20);
  });
});

describe('attentionGraph', () => {
  test('one group: the five-node graph', () => {
    const g = attentionGraph(16, 1024, 72);
    expect(g.nodes.map((n) => n.opType)).toEqual(['Transpose', 'MatMul', 'Mul', 'Softmax', 'MatMul']);
    expect(checkWiring(g).has('o')).toBe(true);
  });

  test('groups: Split q/k/v into equal groups, the five nodes per group, Concat on the head axis', () => {
    const g = attentionGraph(16, 4096, 72, 8);
    const ops = g.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'Split')).toHaveLength(3);
    expect(ops.filter((o) => o === 'Softmax')).toHaveLength(8);
    expect(ops.filter((o) => o === 'MatMul')).toHaveLength(16);
    expect(ops.at(-1)).toBe('Concat');
    for (const n of g.nodes.filter((x) => x.opType === 'Split' || x.opType === 'Concat')) {
      expect(n.attrs).toContainEqual({ name: 'axis', i: 0 });
      if (n.opType === 'Split') expect(n.attrs).toContainEqual({ name: 'num_outputs', i: 8 });
    }
    const concat = g.nodes.at(-1)!;
    expect(concat.inputs).toEqual(Array.from({ length: 8 }, (_, i) => `o${i}`));
    expect(concat.outputs).toEqual(['o']);
    // each group's scores come from its own q and k slices
    const scores = g.nodes.filter((n) => n.opType === 'MatMul' && n.outputs[0]!.startsWith('s'));
    expect(scores.map((n) => n.inputs)).toEqual(Array.from({ length: 8 }, (_, i) => [`q${i}`, `kT${i}`]));
    checkWiring(g);
    expect(g.outputs).toEqual([{ name: 'o', type: 1, dims: [16, 4096, 72] }]);
  });
});
