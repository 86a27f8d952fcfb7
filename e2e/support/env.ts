// Paths and ports shared by playwright.config.ts, the e2e server and the specs (all Node side).
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** ../shared beside the checkout (golden models, spec); override with KIMI_VL_SHARED. */
export const SHARED_DIR = process.env.KIMI_VL_SHARED ?? resolve(REPO_ROOT, '../shared');

export const E2E_PORT = Number(process.env.KIMI_VL_E2E_PORT ?? 4173);

/** Scratch folder the specs write fixtures into and the server serves at /__data/<session>/tmp/. */
export const E2E_TMP = process.env.KIMI_VL_E2E_TMP ?? join(tmpdir(), `kimi-vl-e2e-${E2E_PORT}`);

export const GOLDEN_MODELS = join(SHARED_DIR, 'golden', 'models');
