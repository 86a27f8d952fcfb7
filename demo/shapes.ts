// The demo's example pictures: scenes of the task the bundled tiny models were trained on, drawn by the
// task's own generator (scripts/train/pictures.ts, the pixel-exact port of the training code), so an
// example looks exactly like what the models saw in training.
import { renderScene, type Scene } from '../scripts/train/pictures.ts';

export type { Scene };

/** The scene's pixels on a canvas (for previews, blobs and video frames). */
export function drawScene(scene: Scene): OffscreenCanvas {
  const canvas = new OffscreenCanvas(scene.width, scene.height);
  const pixels = new ImageData(new Uint8ClampedArray(renderScene(scene)), scene.width, scene.height);
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
  return canvas;
}

export async function sceneBlob(scene: Scene): Promise<Blob> {
  return drawScene(scene).convertToBlob({ type: 'image/png' });
}

type Box = [shape: Scene['shapes'][number]['shape'], colour: string, x: number, y: number, size: number];

/** A scene from boxes given left to right ((x, y) = the top-left corner of each shape's size² box). */
function scene(width: number, height: number, background: string, boxes: Box[]): Scene {
  const shapes = boxes.map(([shape, colour, x, y, size]) => ({ shape, colour, x, y, size }));
  return { width, height, background, shapes, antialias: true, format: 'png', quality: 90 };
}

/** The demo's example scenes: fixed, so the examples look the same on every visit. */
export const EXAMPLE_SCENES: Scene[] = [
  scene(224, 160, 'white', [
    ['circle', 'red', 30, 52, 56],
    ['square', 'blue', 134, 54, 52],
  ]),
  scene(160, 160, 'yellow', [['circle', 'orange', 50, 50, 60]]),
  scene(280, 140, 'black', [
    ['triangle', 'green', 27, 48, 46],
    ['square', 'purple', 120, 50, 40],
    ['circle', 'white', 208, 48, 44],
  ]),
];
