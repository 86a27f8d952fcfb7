// Shape pictures as the tiny models were trained on (issue #16): a solid background in one of nine
// colours with 1–3 non-overlapping circles, squares or triangles in other colours, each 15–40 % of the
// shorter side. Used for the demo's examples; e2e tests draw their pictures with it too.

export const COLOURS = {
  white: [255, 255, 255],
  black: [0, 0, 0],
  gray: [128, 128, 128],
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [240, 210, 40],
  orange: [245, 140, 30],
  purple: [140, 60, 180],
} as const;

export type Colour = keyof typeof COLOURS;
export type ShapeKind = 'circle' | 'square' | 'triangle';

export interface Shape {
  kind: ShapeKind;
  colour: Colour;
  /** Centre, in pixels. */
  x: number;
  y: number;
  /** Side (square, triangle) or diameter (circle), in pixels. */
  size: number;
}

export interface Scene {
  width: number;
  height: number;
  background: Colour;
  shapes: Shape[];
}

const css = (c: Colour) => `rgb(${COLOURS[c].join(',')})`;

export function drawScene(scene: Scene, antialias = true): OffscreenCanvas {
  const canvas = new OffscreenCanvas(scene.width, scene.height);
  const g = canvas.getContext('2d')!;
  g.imageSmoothingEnabled = antialias;
  g.fillStyle = css(scene.background);
  g.fillRect(0, 0, scene.width, scene.height);
  for (const s of scene.shapes) {
    g.fillStyle = css(s.colour);
    const r = s.size / 2;
    g.beginPath();
    if (s.kind === 'circle') g.arc(s.x, s.y, r, 0, Math.PI * 2);
    else if (s.kind === 'square') g.rect(s.x - r, s.y - r, s.size, s.size);
    else {
      const h = (s.size * Math.sqrt(3)) / 2;
      g.moveTo(s.x, s.y - h / 2);
      g.lineTo(s.x + r, s.y + h / 2);
      g.lineTo(s.x - r, s.y + h / 2);
      g.closePath();
    }
    g.fill();
  }
  return canvas;
}

export async function sceneBlob(scene: Scene, type: 'image/png' | 'image/jpeg' = 'image/png'): Promise<Blob> {
  return drawScene(scene).convertToBlob({ type, quality: 0.92 });
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'An' : 'A');

/** The trained answer to "What is in this picture?" (shapes left to right by their centres). */
export function describeScene(scene: Scene): string {
  const items = [...scene.shapes].sort((a, b) => a.x - b.x).map((s) => `${s.colour} ${s.kind}`);
  const named = items.map((t, i) => `${i === 0 ? article(t) : article(t).toLowerCase()} ${t}`);
  const list = named.length < 3 ? named.join(' and ') : `${named[0]}, ${named[1]} and ${named[2]}`;
  return `${list} on a ${scene.background} background.`;
}

/** The demo's example scenes: fixed, so the examples look the same on every visit. */
export const EXAMPLE_SCENES: Scene[] = [
  {
    width: 224,
    height: 160,
    background: 'white',
    shapes: [
      { kind: 'circle', colour: 'red', x: 60, y: 80, size: 56 },
      { kind: 'square', colour: 'blue', x: 160, y: 80, size: 52 },
    ],
  },
  {
    width: 160,
    height: 160,
    background: 'yellow',
    shapes: [{ kind: 'circle', colour: 'orange', x: 80, y: 80, size: 60 }],
  },
  {
    width: 280,
    height: 140,
    background: 'black',
    shapes: [
      { kind: 'triangle', colour: 'green', x: 50, y: 74, size: 46 },
      { kind: 'square', colour: 'purple', x: 140, y: 70, size: 40 },
      { kind: 'circle', colour: 'white', x: 230, y: 70, size: 44 },
    ],
  },
];
