// Example pictures and prompts, one click away while the conversation is empty. The pictures are drawn
// here (shapes.ts) in the style the bundled tiny models were trained on.
import { $, el } from './dom.ts';
import { EXAMPLE_SCENES, type Scene, sceneBlob } from './shapes.ts';
import type { StoredMedia } from './store.ts';

interface Example {
  prompt: string;
  scene?: Scene;
}

const EXAMPLES: Example[] = [
  { prompt: 'What is in this picture?', scene: EXAMPLE_SCENES[0] },
  { prompt: 'What color is the background?', scene: EXAMPLE_SCENES[1] },
  { prompt: 'How many shapes are there?', scene: EXAMPLE_SCENES[2] },
  { prompt: 'Is there a triangle?', scene: EXAMPLE_SCENES[2] },
  { prompt: 'Who are you?' },
];

export async function renderExamples(run: (prompt: string, media: StoredMedia[]) => void): Promise<void> {
  const box = $('#examples');
  box.textContent = '';
  box.append(el('h2', '', 'Try an example'));
  const grid = el('div', 'example-grid');
  for (const [i, ex] of EXAMPLES.entries()) {
    const card = el('button', 'example');
    card.type = 'button';
    card.dataset.example = String(i);
    let media: StoredMedia[] = [];
    if (ex.scene) {
      const blob = await sceneBlob(ex.scene);
      media = [{ kind: 'image', blob, name: `example-${i + 1}.png` }];
      const img = el('img');
      img.src = URL.createObjectURL(blob);
      img.alt = 'example picture';
      card.append(img);
    } else card.append(el('span', 'example-text-only', 'Aa'));
    card.append(el('span', 'example-prompt', ex.prompt));
    card.addEventListener('click', () => run(ex.prompt, media));
    grid.append(card);
  }
  box.append(grid);
}

/** Examples show only on an empty conversation. */
export function showExamples(visible: boolean): void {
  $('#examples').hidden = !visible;
}
