// The task generator keeps the rules on many seeds, and the answers have the exact forms.
import { describe, expect, it } from 'vitest';
import {
  answer,
  COLOURS,
  makeScenes,
  reasoning,
  renderScene,
  type Scene,
  thinkingAnswer,
} from './pictures.ts';

const scene = (background: string, shapes: Array<[string, string]>): Scene => ({
  width: 100,
  height: 100,
  background,
  shapes: shapes.map(([colour, shape], i) => ({
    colour,
    shape: shape as 'circle',
    x: i * 30,
    y: 0,
    size: 20,
  })),
  antialias: false,
  format: 'png',
  quality: 90,
});

describe('shape pictures', () => {
  it('keep sizes, aspects, shape sizes, colours, separation and left-to-right order', () => {
    for (const s of makeScenes(31337, 400)) {
      const short = Math.min(s.width, s.height);
      expect(short).toBeGreaterThanOrEqual(28);
      expect(Math.max(s.width, s.height)).toBeLessThanOrEqual(448);
      expect(Math.max(s.width / s.height, s.height / s.width)).toBeLessThanOrEqual(3);
      expect(s.shapes.length).toBeGreaterThanOrEqual(1);
      expect(s.shapes.length).toBeLessThanOrEqual(3);
      s.shapes.forEach((o, i) => {
        expect(o.size).toBeGreaterThanOrEqual(Math.round(0.15 * short));
        expect(o.size).toBeLessThanOrEqual(Math.round(0.4 * short));
        expect(o.x + o.size).toBeLessThanOrEqual(s.width);
        expect(o.y + o.size).toBeLessThanOrEqual(s.height);
        expect(o.colour).not.toBe(s.background);
        const next = s.shapes[i + 1];
        if (next) expect(next.x + next.size / 2 - (o.x + o.size / 2)).toBeGreaterThanOrEqual(0.1 * short);
      });
    }
  });

  it('renders the background and shape colours exactly (aliased), blends at edges (anti-aliased)', () => {
    const s = {
      ...scene('white', [['red', 'square']]),
      shapes: [{ shape: 'square' as const, colour: 'red', x: 10, y: 10, size: 20 }],
    };
    const px = renderScene(s);
    const at = (x: number, y: number) => Array.from(px.slice((y * 100 + x) * 4, (y * 100 + x) * 4 + 3));
    expect(at(0, 0)).toEqual(COLOURS.white);
    expect(at(20, 20)).toEqual(COLOURS.red);
    const aa = renderScene({ ...s, shapes: [{ ...s.shapes[0]!, x: 10.5 as number }], antialias: true });
    expect(Array.from(aa.slice((20 * 100 + 10) * 4, (20 * 100 + 10) * 4 + 3))).not.toEqual(COLOURS.red);
  });

  it('answers in the exact forms', () => {
    const three = scene('white', [
      ['red', 'circle'],
      ['blue', 'square'],
      ['orange', 'triangle'],
    ]);
    expect(answer(three, 'What is in this picture?')).toBe(
      'A red circle, a blue square and an orange triangle on a white background.',
    );
    expect(answer(scene('yellow', [['orange', 'circle']]), 'What is in this picture?')).toBe(
      'An orange circle on a yellow background.',
    );
    expect(
      answer(
        scene('orange', [
          ['red', 'circle'],
          ['blue', 'square'],
        ]),
        'What is in this picture?',
      ),
    ).toBe('A red circle and a blue square on an orange background.');
    expect(answer(three, 'How many shapes are there?')).toBe('There are 3 shapes.');
    expect(answer(scene('gray', [['red', 'circle']]), 'How many shapes are there?')).toBe(
      'There is 1 shape.',
    );
    expect(answer(three, 'What color is the background?')).toBe('The background is white.');
    expect(answer(three, 'Is there a triangle?')).toBe('Yes.');
    expect(answer(scene('gray', [['red', 'circle']]), 'Is there a square?')).toBe('No.');
    expect(answer(null, 'Hello')).toMatch(/^I am a tiny Kimi-VL model: .*\.$/);
    expect(reasoning(three)).toBe(
      'I see a red circle, a blue square and an orange triangle on a white background.',
    );
    expect(thinkingAnswer(three, 'Is there a circle?')).toBe(`◁think▷${reasoning(three)}◁/think▷Yes.`);
  });
});
