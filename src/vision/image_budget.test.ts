// maxImageTokens: every image's LM tokens (padding included) stay within the budget, the aspect ratio is
// kept as in_token_limit keeps it, no budget is the plain preprocessor, and a bad budget is a ConfigError.
import { describe, expect, it } from 'vitest';
import type { RgbaImage } from './image.ts';
import { budgetedConfig, preprocessImagesWithin } from './image_budget.ts';
import { planImage, preprocessImages } from './preprocess.ts';
import { HF_PREPROCESSOR_DEFAULTS } from './preprocessor_config.ts';

// The released Kimi-VL configs pad (pad_input true); the constructor default does not.
const cfg = { ...HF_PREPROCESSOR_DEFAULTS, padInput: true };
const image = (width: number, height: number): RgbaImage => ({
  width,
  height,
  data: new Uint8ClampedArray(width * height * 4).map((_, i) => (i * 37) % 256),
});

describe('maxImageTokens', () => {
  it('keeps every size within the budget, as close to it as in_token_limit gets', () => {
    for (const [w, h] of [
      [1024, 1024],
      [448, 448],
      [1000, 300],
      [97, 1301],
      [29, 29],
    ] as const) {
      for (const budget of [1, 7, 64, 256, 1000]) {
        if (w === 97 && budget === 1) continue; // below one token a side at 1:13 (checked below)
        const plan = planImage(w, h, budgetedConfig(w, h, cfg, budget));
        expect(plan.nTokens, `${w}×${h} budget ${budget}`).toBeLessThanOrEqual(budget);
        expect(plan.nTokens).toBeGreaterThan(0);
        // A budget above what the image needs changes nothing.
        const free = planImage(w, h, cfg);
        if (free.nTokens <= budget) expect(plan.grid).toEqual(free.grid);
      }
    }
    // Keeping the aspect ratio, a 1:13 image is at least 2 tokens: a budget of 1 is refused, not ignored.
    expect(() => budgetedConfig(97, 1301, cfg, 1)).toThrow(/cannot be resized to 1 image tokens/);
    // 448² without a budget is 256 tokens; 64 tokens gives a 16×16 patch grid (224² after resize).
    expect(planImage(448, 448, budgetedConfig(448, 448, cfg, 64)).grid).toEqual({ h: 16, w: 16 });
  });

  it('preprocessImagesWithin: no budget is preprocessImages; a budget shrinks each image', () => {
    const ims = [image(300, 200), image(60, 90)];
    const plain = preprocessImages(ims, cfg);
    expect(preprocessImagesWithin(ims, cfg)).toEqual(plain);
    const small = preprocessImagesWithin(ims, cfg, 12);
    expect(small.nTokens.every((n) => n <= 12)).toBe(true);
    expect(small.nTokens[1]).toBe(plain.nTokens[1]); // 60×90 needs only 6 tokens
    expect(small.shape[0]).toBe(small.grids.reduce((n, g) => n + g.h * g.w, 0));
    expect(() => preprocessImagesWithin(ims, cfg, 0)).toThrow(/maxImageTokens/);
  });
});
