// Where the golden suite lives for Node-side tests and tools: $KIMI_VL_GOLDEN, else ../shared/golden
// beside the repository (how both developers' checkouts and CI's clones are laid out).
import { resolve } from 'node:path';

export const GOLDEN_ROOT = resolve(
  process.env.KIMI_VL_GOLDEN ?? resolve(import.meta.dirname, '../../../shared/golden'),
);
export const GOLDEN_MODELS = resolve(GOLDEN_ROOT, 'models');
