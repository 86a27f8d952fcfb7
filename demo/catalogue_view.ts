// The model catalogue panel: one row per model with its download size, GPU memory and fit mark per
// quantisation, a cached mark (the engine's OPFS cache, listCachedModels), Load and Delete.
import { deleteCachedModel, listCachedModels } from '../src/index.ts';
import { CATALOGUE, type CatalogueEntry, cacheId } from './catalogue.ts';
import { el, icon, iconButton } from './dom.ts';
import { mb } from './format.ts';
import { type DeviceBudget, deviceBudget, type ModelFigures, modelFigures } from './memory.ts';

export interface CatalogueActions {
  load(entry: CatalogueEntry): void;
  onError(e: unknown): void;
}

const QUANT_LABEL = { none: 'bf16', q8: 'q8', q4: 'q4' } as const;

/** config.json of a bundled folder, or null when the server does not have that model. */
async function bundledConfig(entry: CatalogueEntry): Promise<unknown | null> {
  try {
    const res = await fetch(new URL('config.json', new URL(entry.source, location.href)));
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return null;
    return await res.json();
  } catch {
    return null;
  }
}

function size(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : mb(bytes);
}

export class CatalogueView {
  private readonly list = document.querySelector<HTMLElement>('#catalogue-list')!;
  private readonly rows = new Map<string, HTMLElement>();
  private available: { entry: CatalogueEntry; figures: ModelFigures }[] = [];
  private budget: DeviceBudget | null = null;
  private loadedKey: string | null = null;

  constructor(
    private readonly actions: CatalogueActions,
    private readonly context: number,
  ) {}

  /** Reads every entry's config (bundled ones from the server) and draws the rows. */
  async init(): Promise<CatalogueEntry[]> {
    this.budget = await deviceBudget();
    document.querySelector('#device-note')!.textContent = this.budget
      ? `· GPU memory assumed: ${this.budget.label}`
      : '· no WebGPU adapter';
    const configs = await Promise.all(CATALOGUE.map((e) => (e.bundled ? bundledConfig(e) : e.config)));
    this.available = [];
    CATALOGUE.forEach((entry, i) => {
      const config = configs[i];
      if (!config) return;
      try {
        this.available.push({ entry, figures: modelFigures(config, this.context, this.budget) });
      } catch (e) {
        console.warn(`catalogue: ${entry.key} has an unreadable config`, e);
      }
    });
    this.draw();
    await this.refreshCached();
    return this.available.map((a) => a.entry);
  }

  markLoaded(key: string | null): void {
    this.loadedKey = key;
    for (const [k, row] of this.rows) row.dataset.loaded = String(k === key);
  }

  /** Updates the cached marks and sizes from the engine's cache. */
  async refreshCached(): Promise<void> {
    let cached: Awaited<ReturnType<typeof listCachedModels>> = [];
    try {
      cached = await listCachedModels();
    } catch (e) {
      console.warn('catalogue: the model cache could not be listed', e);
    }
    for (const { entry } of this.available) {
      const id = cacheId(entry.source);
      const copies = cached.filter((c) => c.id === id || c.id.startsWith(`${id}#`));
      const row = this.rows.get(entry.key)!;
      const bytes = copies.reduce((n, c) => n + c.bytes, 0);
      const complete = copies.some((c) => c.id === id && c.complete);
      row.dataset.cached = String(copies.length > 0);
      const mark = row.querySelector<HTMLElement>('.cached')!;
      mark.hidden = copies.length === 0;
      mark.textContent = copies.length ? `cached ${size(bytes)}${complete ? '' : ' (partial)'}` : '';
      row.querySelector<HTMLButtonElement>('.delete')!.hidden = copies.length === 0;
    }
  }

  private draw(): void {
    this.list.textContent = '';
    this.rows.clear();
    for (const { entry, figures } of this.available) {
      const row = el('li', 'model-row');
      row.dataset.key = entry.key;
      const head = el('div', 'model-head');
      const name = el('strong', 'model-name', entry.label);
      const tags = el('span', 'tags');
      if (entry.bundled) tags.append(el('span', 'tag', 'bundled'));
      if (entry.thinking) tags.append(el('span', 'tag', 'thinking'));
      const cached = el('span', 'tag cached');
      cached.hidden = true;
      tags.append(cached);
      head.append(name, tags);

      const facts = el('div', 'model-facts');
      facts.append(el('span', 'download', `download ${size(figures.downloadBytes)}`));
      for (const q of figures.perQuant) {
        const f = el('span', 'fit');
        f.dataset.quant = q.quant;
        f.dataset.fits = String(q.fits);
        f.title = q.why;
        f.append(icon(q.fits ? 'check' : 'close'), `${QUANT_LABEL[q.quant]} ${size(q.gpuBytes)}`);
        facts.append(f);
      }

      const buttons = el('div', 'model-actions');
      const load = el('button', 'load small', 'Load');
      load.type = 'button';
      load.addEventListener('click', () => this.actions.load(entry));
      const del = iconButton(
        'trash',
        `Delete ${entry.label} from this browser's storage`,
        () => void this.remove(entry),
      );
      del.classList.add('delete');
      del.hidden = true;
      buttons.append(load, del);
      row.append(head, facts, buttons);
      row.dataset.loaded = String(entry.key === this.loadedKey);
      this.rows.set(entry.key, row);
      this.list.append(row);
    }
  }

  private async remove(entry: CatalogueEntry): Promise<void> {
    if (
      !confirm(`Delete ${entry.label} from this browser's storage? It will be downloaded again when loaded.`)
    )
      return;
    try {
      await deleteCachedModel(cacheId(entry.source));
    } catch (e) {
      this.actions.onError(e);
    }
    await this.refreshCached();
  }
}
