// Demo page: uses only the public API.
import { isKimiVLError, KimiVL } from '../src/index.ts';

const out = document.querySelector<HTMLElement>('#adapter')!;

async function showAdapter(): Promise<void> {
  try {
    const engine = await KimiVL.create();
    const a = await engine.adapterInfo();
    out.dataset.state = 'ready';
    out.textContent = `WebGPU adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ')} · engine in ${engine.mode} · shader-f16: ${a.features.includes('shader-f16') ? 'yes' : 'no'}`;
  } catch (e) {
    out.dataset.state = 'error';
    out.textContent = isKimiVLError(e) ? `${(e as Error).name}: ${(e as Error).message}` : String(e);
  }
}

void showAdapter();
