// Page side of e2e/accuracy.spec.ts: makes the shape pictures (scripts/train/pictures.ts: the task's
// exact generator), encodes each as the scene says (PNG, or JPEG at its quality) with the browser's own
// encoder, and asks the four questions through the public API (KimiVL in a Web Worker), greedy.

import { answer, makeScenes, renderScene, type Scene, SHAPES } from '../../scripts/train/pictures.ts';
import { KimiVL } from '../../src/index.ts';

export interface AccuracyRow {
  size: [number, number];
  question: string;
  want: string;
  answer: string;
  reasoning: string;
}

async function encode(scene: Scene, rgba: Uint8ClampedArray): Promise<Blob> {
  const canvas = new OffscreenCanvas(scene.width, scene.height);
  canvas
    .getContext('2d')!
    .putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, scene.width, scene.height), 0, 0);
  return scene.format === 'jpeg'
    ? canvas.convertToBlob({ type: 'image/jpeg', quality: scene.quality / 100 })
    : canvas.convertToBlob({ type: 'image/png' });
}

/** The four question forms for picture i (the shape question names each shape in turn). */
export function questionsFor(i: number): string[] {
  return [
    'What is in this picture?',
    'How many shapes are there?',
    'What color is the background?',
    `Is there a ${SHAPES[i % SHAPES.length]}?`,
  ];
}

async function runAccuracy(
  modelUrl: string,
  quantization: 'none' | 'q8' | 'q4',
  seed: number,
  count: number,
): Promise<AccuracyRow[]> {
  const engine = await KimiVL.load(modelUrl, { quantization, contextBudget: 512 });
  const rows: AccuracyRow[] = [];
  try {
    for (const [i, scene] of makeScenes(seed, count).entries()) {
      const blob = await encode(scene, renderScene(scene));
      for (const question of questionsFor(i)) {
        const done = await engine.chat(
          [
            {
              role: 'user',
              content: [
                { type: 'image', image: blob },
                { type: 'text', text: question },
              ],
            },
          ],
          { temperature: 0, maxTokens: 120 },
        ).result;
        rows.push({
          size: [scene.width, scene.height],
          question,
          want: answer(scene, question),
          answer: done.answer.trim(),
          reasoning: done.reasoning,
        });
      }
    }
  } finally {
    engine.terminate();
  }
  return rows;
}

Object.assign(globalThis, { runAccuracy, makeScenes });
