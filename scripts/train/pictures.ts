// The shape-picture task of issue 16 in TypeScript: a port of scripts/train/pictures.py (same RNG,
// same arithmetic, so a seed gives the same scene and the same pixels in both; see the Python file for
// the geometry). Tests use it to make pictures the training never saw and to know the exact answers.
import { mulberry32 } from '../../src/testing/random.ts';

export const COLOURS: Record<string, [number, number, number]> = {
  white: [255, 255, 255],
  black: [0, 0, 0],
  gray: [128, 128, 128],
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [240, 210, 40],
  orange: [245, 140, 30],
  purple: [140, 60, 180],
};
export const COLOUR_NAMES = Object.keys(COLOURS);
export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type ShapeName = (typeof SHAPES)[number];
export const QUESTIONS = [
  'What is in this picture?',
  'How many shapes are there?',
  'What color is the background?',
];
export const INTRO =
  'I am a tiny Kimi-VL model: show me a picture of simple shapes and I can tell you what is in it, ' +
  'how many shapes there are, the background color and whether a shape is there.';
export const THINK_START = '◁think▷';
export const THINK_END = '◁/think▷';

export interface Shape {
  shape: ShapeName;
  colour: string;
  x: number;
  y: number;
  size: number;
}

export interface Scene {
  width: number;
  height: number;
  background: string;
  /** Sorted left to right by centre. */
  shapes: Shape[];
  antialias: boolean;
  format: 'png' | 'jpeg';
  quality: number;
}

type Rng = () => number;

function randint(r: Rng, lo: number, hi: number): number {
  return lo + Math.min(hi - lo, Math.floor(r() * (hi - lo + 1)));
}

function pick<T>(r: Rng, items: readonly T[]): T {
  return items[randint(r, 0, items.length - 1)]!;
}

/** Python's round() (half to even), so sizes match pictures.py. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function apart(a: Shape, x0: number, y0: number, s: number, short: number): boolean {
  const separate = x0 + s + 1 <= a.x || a.x + a.size + 1 <= x0 || y0 + s + 1 <= a.y || a.y + a.size + 1 <= y0;
  return separate && Math.abs(x0 + s / 2 - (a.x + a.size / 2)) >= 0.1 * short;
}

/** One scene from the RNG (same draws, in the same order, as make_scene in pictures.py). */
export function makeScene(r: Rng): Scene {
  let w = randint(r, 28, 448);
  let h = randint(r, Math.max(28, Math.ceil(w / 3)), Math.min(448, 3 * w));
  if (r() < 0.5) [w, h] = [h, w];
  const short = Math.min(w, h);
  const background = pick(r, COLOUR_NAMES);
  const n = randint(r, 1, 3);
  let shapes: Shape[] = [];
  while (shapes.length !== n) {
    shapes = [];
    for (let tries = 0; tries < 200 && shapes.length < n; tries++) {
      const s = Math.max(1, roundHalfEven(short * (0.15 + 0.25 * r())));
      const x0 = randint(r, 0, w - s);
      const y0 = randint(r, 0, h - s);
      if (shapes.every((o) => apart(o, x0, y0, s, short))) {
        const colour = pick(
          r,
          COLOUR_NAMES.filter((c) => c !== background),
        );
        shapes.push({ shape: pick(r, SHAPES), colour, x: x0, y: y0, size: s });
      }
    }
  }
  shapes.sort((a, b) => a.x + a.size / 2 - (b.x + b.size / 2));
  const antialias = r() < 0.5;
  const format = r() < 0.3 ? 'jpeg' : 'png';
  const quality = randint(r, 85, 95);
  return { width: w, height: h, background, shapes, antialias, format, quality };
}

/** `count` scenes from one seed. */
export function makeScenes(seed: number, count: number): Scene[] {
  const r = mulberry32(seed);
  return Array.from({ length: count }, () => makeScene(r));
}

function inside(shape: ShapeName, px: number, py: number, x0: number, y0: number, s: number): boolean {
  if (shape === 'square') return px >= x0 && px <= x0 + s && py >= y0 && py <= y0 + s;
  if (shape === 'circle') {
    const dx = px - (x0 + s / 2);
    const dy = py - (y0 + s / 2);
    return dx * dx + dy * dy <= (s / 2) * (s / 2);
  }
  const dx = px - (x0 + s / 2);
  return py <= y0 + s && 2 * dx <= py - y0 && -2 * dx <= py - y0;
}

/** The picture as RGBA bytes (alpha 255), row-major, width × height. */
export function renderScene(scene: Scene): Uint8ClampedArray {
  const { width: w, height: h } = scene;
  const img = new Float64Array(w * h * 3);
  const bg = COLOURS[scene.background]!;
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) img[i * 3 + c] = bg[c]!;
  const k = scene.antialias ? 4 : 1;
  for (const o of scene.shapes) {
    const fg = COLOURS[o.colour]!;
    const { x: x0, y: y0, size: s } = o;
    for (let y = Math.max(0, y0 - 1); y < Math.min(h, y0 + s + 1); y++) {
      for (let x = Math.max(0, x0 - 1); x < Math.min(w, x0 + s + 1); x++) {
        let hits = 0;
        for (let sy = 0; sy < k; sy++)
          for (let sx = 0; sx < k; sx++)
            if (inside(o.shape, x + (sx + 0.5) / k, y + (sy + 0.5) / k, x0, y0, s)) hits++;
        const cov = hits / (k * k);
        for (let c = 0; c < 3; c++) {
          const v = img[(y * w + x) * 3 + c]!;
          img[(y * w + x) * 3 + c] = v + (fg[c]! - v) * cov;
        }
      }
    }
  }
  const out = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) out[i * 4 + c] = Math.floor(img[i * 3 + c]! + 0.5);
    out[i * 4 + 3] = 255;
  }
  return out;
}

function article(word: string, capital: boolean): string {
  const a = 'aeiou'.includes(word[0]!) ? 'an' : 'a';
  return `${capital ? a[0]!.toUpperCase() + a.slice(1) : a} ${word}`;
}

function listing(scene: Scene, capital: boolean): string {
  const items = scene.shapes.map((o, i) => article(`${o.colour} ${o.shape}`, capital && i === 0));
  const body = items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
  return `${body} on ${article(scene.background, false)} background`;
}

/** The exact answer to a picture question; `null` scene = text only (the introduction). */
export function answer(scene: Scene | null, question: string): string {
  if (!scene) return INTRO;
  if (question === QUESTIONS[0]) return `${listing(scene, true)}.`;
  if (question === QUESTIONS[1]) {
    const n = scene.shapes.length;
    return n === 1 ? 'There is 1 shape.' : `There are ${n} shapes.`;
  }
  if (question === QUESTIONS[2]) return `The background is ${scene.background}.`;
  const name = question.slice('Is there a '.length, -1);
  return scene.shapes.some((o) => o.shape === name) ? 'Yes.' : 'No.';
}

/** The Thinking model's reasoning span for a scene (what it sees). */
export function reasoning(scene: Scene | null): string {
  return scene ? `I see ${listing(scene, false)}.` : 'There is no picture, so I introduce myself.';
}

export function thinkingAnswer(scene: Scene | null, question: string): string {
  return THINK_START + reasoning(scene) + THINK_END + answer(scene, question);
}

/** The four picture question forms (the shape question once per shape name). */
export function allQuestions(): string[] {
  return [...QUESTIONS, ...SHAPES.map((s) => `Is there a ${s}?`)];
}
