// Video as frames through the public API: a video made in the test (a still shape scene on a canvas,
// recorded with MediaRecorder) is sampled evenly in the page and placed in the prompt as consecutive
// images, its image-token budget divided across the frames. The prompt is measured by its token count:
// one 28×28 picture (1 placeholder token) gives the per-image wrapper, so a video of n frames of t
// tokens each must add exactly n × (wrapper + t) tokens to the same question.
import { expect, type Page, test } from '@playwright/test';

type Win = { KimiVL: typeof import('../src/index.ts').KimiVL };

async function open(page: Page): Promise<void> {
  await page.goto('/e2e/pages/api-test.html');
  await page.waitForFunction(() => 'KimiVL' in globalThis);
}

/** Records ~1.2 s of a still scene (two shapes on white) as WebM; returns it on window.__video. */
async function recordStillVideo(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const { drawScene } = (await import('/demo/shapes.ts' as string)) as typeof import('../demo/shapes.ts');
    const scene = {
      width: 112,
      height: 84,
      background: 'white',
      shapes: [
        { shape: 'circle' as const, colour: 'red', x: 15, y: 27, size: 30 },
        { shape: 'square' as const, colour: 'blue', x: 66, y: 28, size: 28 },
      ],
      antialias: true,
      format: 'png' as const,
      quality: 90,
    };
    const canvas = document.createElement('canvas');
    canvas.width = scene.width;
    canvas.height = scene.height;
    const g = canvas.getContext('2d')!;
    const still = drawScene(scene);
    const stream = canvas.captureStream(15);
    const recorder = new MediaRecorder(stream, { mimeType: 'video/webm' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((r) => (recorder.onstop = r));
    recorder.start(100);
    const until = performance.now() + 1200;
    while (performance.now() < until) {
      g.drawImage(still, 0, 0); // redraw so the stream keeps producing frames
      await new Promise((r) => setTimeout(r, 40));
    }
    recorder.stop();
    await stopped;
    (globalThis as Record<string, unknown>).__video = new Blob(chunks, { type: 'video/webm' });
  });
}

test('video: frames sampled evenly, sized to the divided budget, transferred as bitmaps', async ({
  page,
}) => {
  await open(page);
  await recordStillVideo(page);
  const r = await page.evaluate(async () => {
    const { sampleVideo, frameTokens } = (await import(
      '/src/api/video.ts' as string
    )) as typeof import('../src/api/video.ts');
    const video = (globalThis as Record<string, unknown>).__video as Blob;
    const s = await sampleVideo({ video, fps: 10, maxFrames: 4, maxImageTokens: 8 });
    const out = {
      n: s.frames.length,
      sizes: s.frames.map((f) => [f.width, f.height]),
      tokens: s.frames.map((f) => frameTokens(f.width, f.height)),
      timestamps: s.timestamps,
      duration: s.duration,
      capture: s.capture,
      size: [s.width, s.height],
    };
    for (const f of s.frames) f.close();
    return out;
  });
  expect(r.size).toEqual([112, 84]);
  expect(r.duration).toBeGreaterThan(0.5);
  expect(r.n).toBe(4); // 10 fps × ≥ 0.5 s > maxFrames
  expect(r.capture).toBe('webcodecs');
  // Evenly spaced over the duration, at the centre of each quarter.
  for (const [i, t] of r.timestamps.entries()) expect(t).toBeCloseTo(((i + 0.5) * r.duration) / 4, 6);
  // 8 tokens over 4 frames = 2 each: 112×84 (4×3 tiles) shrinks to the largest size with ≤ 2 tiles.
  for (const t of r.tokens) expect(t).toBe(2);
  expect(r.sizes[0]).toEqual([37, 28]);
});

test('video: engine.chat puts n frames × the right placeholder count in the prompt', async ({ page }) => {
  test.setTimeout(180_000);
  await open(page);
  await recordStillVideo(page);
  const r = await page.evaluate(async () => {
    const { KimiVL } = globalThis as unknown as Win;
    const video = (globalThis as Record<string, unknown>).__video as Blob;
    const engine = await KimiVL.load('/models/kimi-vl-tiny/', { contextBudget: 1024 });
    const question = { type: 'text' as const, text: 'How many shapes are there?' };
    const promptTokens = async (content: import('../src/index.ts').ChatContentPart[]) => {
      await engine.resetConversation();
      const stream = engine.chat([{ role: 'user', content }], { maxTokens: 1, temperature: 0 });
      for await (const _ of stream);
      return (await stream.result).usage.promptTokens;
    };
    const one = new OffscreenCanvas(28, 28);
    one.getContext('2d')!.fillRect(0, 0, 28, 28);
    const out = {
      text: await promptTokens([question]),
      onePicture: await promptTokens([{ type: 'image', image: one }, question]),
      video4x2: await promptTokens([
        { type: 'video', video, fps: 10, maxFrames: 4, maxImageTokens: 8 },
        question,
      ]),
      video3x4: await promptTokens([
        { type: 'video', video, fps: 10, maxFrames: 3, maxImageTokens: 12 },
        question,
      ]),
    };
    await engine.unload();
    return out;
  });
  const wrapper = r.onePicture - r.text - 1; // the tokens around one picture's placeholders
  expect(wrapper).toBeGreaterThan(0);
  expect(r.video4x2 - r.text).toBe(4 * (wrapper + 2));
  expect(r.video3x4 - r.text).toBe(3 * (wrapper + 4));
});

test('video: the tiny Instruct model counts the shapes of a still scene', async ({ page, request }) => {
  const model = '/models/kimi-vl-tiny-instruct/';
  const present = (await request.get(`${model}config.json`)).ok();
  test.skip(!present, 'the trained tiny Instruct model is not bundled yet');
  test.setTimeout(180_000);
  await open(page);
  await recordStillVideo(page);
  const answer = await page.evaluate(async (m) => {
    const { KimiVL } = globalThis as unknown as Win;
    const video = (globalThis as Record<string, unknown>).__video as Blob;
    const engine = await KimiVL.load(m, { contextBudget: 1024 });
    const stream = engine.chat(
      [
        {
          role: 'user',
          content: [
            { type: 'video', video, maxFrames: 4, maxImageTokens: 64 },
            { type: 'text', text: 'How many shapes are there?' },
          ],
        },
      ],
      { maxTokens: 16, temperature: 0 },
    );
    for await (const _ of stream);
    const done = await stream.result;
    await engine.unload();
    return done.answer;
  }, model);
  expect(answer.trim()).toBe('There are 2 shapes.');
});
