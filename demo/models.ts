// Loading models: progress, a Cancel button while loading, and a failed or cancelled load keeps the
// model that was working (the new engine is started beside it and replaces it only once it is ready).
import { KimiVL, type LoadProgress, type ModelInput } from '../src/index.ts';
import type { CatalogueEntry } from './catalogue.ts';
import { $ } from './dom.ts';
import { explain, progressText } from './format.ts';

export const CONTEXT_BUDGET = 2048;

export interface Loaded {
  engine: KimiVL;
  label: string;
  entry: CatalogueEntry | undefined;
}

type Listener = (loaded: Loaded | null, busy: boolean) => void;

const statusPill = $('#status');
const loadError = $('#load-error');
const cancelButton = $<HTMLButtonElement>('#cancel-load');
const loadButton = $<HTMLButtonElement>('#load');

export function setStatus(state: 'idle' | 'busy' | 'ready' | 'error', text: string): void {
  statusPill.dataset.state = state;
  statusPill.textContent = text;
}

function showProgress(p: LoadProgress | null): void {
  const box = $('#progress');
  box.hidden = p === null;
  if (!p) return;
  $<HTMLProgressElement>('#progress-bar').value = p.fraction;
  $('#progress-text').textContent = progressText(p);
}

export function showLoadError(e: unknown | null): void {
  loadError.hidden = e === null;
  loadError.textContent = e === null ? '' : explain(e);
  loadError.dataset.name = e === null ? '' : ((e as Error)?.name ?? 'Error');
}

export class Models {
  current: Loaded | null = null;
  private loading: AbortController | null = null;
  private readonly listeners: Listener[] = [];

  constructor() {
    cancelButton.addEventListener('click', () => this.loading?.abort());
  }

  onChange(l: Listener): void {
    this.listeners.push(l);
  }

  private emit(): void {
    for (const l of this.listeners) l(this.current, this.loading !== null);
  }

  readyText(l: Loaded): string {
    const i = l.engine.info;
    return `${l.label} · ${i.layers} layers · ${i.backend} · ${l.engine.mode}`;
  }

  /** Loads `source`; on success the previous model is unloaded, on failure it stays loaded. */
  async load(source: ModelInput, label: string, entry?: CatalogueEntry): Promise<boolean> {
    this.loading?.abort();
    const abort = new AbortController();
    this.loading = abort;
    showLoadError(null);
    setStatus('busy', `loading ${label}…`);
    cancelButton.hidden = false;
    loadButton.disabled = true;
    showProgress({
      phase: 'metadata',
      files: [],
      bytesDone: 0,
      bytesTotal: 0,
      fraction: 0,
      bytesPerSecond: 0,
    });
    this.emit();
    try {
      const engine = await KimiVL.load(source, {
        quantization: $<HTMLSelectElement>('#quant').value as 'none' | 'q8' | 'q4',
        onProgress: (p) => {
          if (this.loading === abort) showProgress(p);
        },
        signal: abort.signal,
        contextBudget: CONTEXT_BUDGET,
        ...(entry ? { thinking: entry.thinking } : {}),
      });
      if (this.loading !== abort) {
        // A newer load started meanwhile; this one lost the race.
        void engine.unload();
        return false;
      }
      const previous = this.current;
      this.current = { engine, label, entry };
      void previous?.engine.unload().catch(() => {});
      setStatus('ready', this.readyText(this.current));
      return true;
    } catch (e) {
      if (this.loading !== abort) return false;
      showLoadError(e);
      if (this.current)
        setStatus('ready', `${this.readyText(this.current)} (kept: the new model did not load)`);
      else setStatus('error', 'no model');
      return false;
    } finally {
      if (this.loading === abort) {
        this.loading = null;
        cancelButton.hidden = true;
        loadButton.disabled = false;
        showProgress(null);
      }
      this.emit();
    }
  }

  /** The GPU was lost: the engine cannot continue; the user loads again. */
  lost(): void {
    this.current?.engine.terminate();
    this.current = null;
    setStatus('error', 'GPU lost: load the model again');
    this.emit();
  }
}
