// Load progress in the shape transformers.js users know (`progress_callback`), so an existing loading
// UI drops in: per file `initiate` → `download` → `progress` (loaded, total, progress in percent) →
// `done`, then one `ready` when the model can answer. Derived from the engine's own LoadProgress
// snapshots (weights/load_progress.ts), which keep coming through `onProgress` as before.
import type { LoadProgress } from '../weights/load_progress.ts';

export type TransformersProgress =
  | { status: 'initiate' | 'download' | 'done'; name: string; file: string }
  | { status: 'progress'; name: string; file: string; progress: number; loaded: number; total: number }
  | { status: 'ready'; task: 'image-text-to-text'; model: string };

export type TransformersProgressCallback = (p: TransformersProgress) => void;

interface FileState {
  loaded: number;
  done: boolean;
}

/**
 * Turns LoadProgress snapshots into transformers.js events for `name` (the model id as the caller
 * gave it). Files are followed across phases by name, so a file announces itself once and is `done`
 * once; the conversion phase (tensors, not files) is not reported per file.
 */
export class TransformersProgressAdapter {
  private readonly files = new Map<string, FileState>();
  private readyEmitted = false;

  constructor(
    private readonly name: string,
    private readonly callback: TransformersProgressCallback,
  ) {}

  push(p: LoadProgress): void {
    if (p.phase !== 'convert') {
      for (const f of p.files) {
        let s = this.files.get(f.name);
        if (!s) {
          s = { loaded: -1, done: false };
          this.files.set(f.name, s);
          this.emit({ status: 'initiate', name: this.name, file: f.name });
          this.emit({ status: 'download', name: this.name, file: f.name });
        }
        if (s.done) continue;
        const total = f.bytesTotal ?? 0;
        const complete = f.bytesTotal !== null && f.bytesDone >= f.bytesTotal;
        if (f.bytesDone !== s.loaded && (f.bytesDone > 0 || complete)) {
          s.loaded = f.bytesDone;
          const progress = total > 0 ? Math.min(100, (100 * f.bytesDone) / total) : complete ? 100 : 0;
          this.emit({
            status: 'progress',
            name: this.name,
            file: f.name,
            progress,
            loaded: f.bytesDone,
            total,
          });
        }
        if (complete) this.finish(f.name, s);
      }
    }
    if (p.phase === 'done') for (const [file, s] of this.files) if (!s.done) this.finish(file, s);
  }

  /** The model is loaded and can answer. */
  ready(): void {
    if (this.readyEmitted) return;
    this.readyEmitted = true;
    for (const [file, s] of this.files) if (!s.done) this.finish(file, s);
    this.emit({ status: 'ready', task: 'image-text-to-text', model: this.name });
  }

  private finish(file: string, s: FileState): void {
    s.done = true;
    this.emit({ status: 'done', name: this.name, file });
  }

  private emit(e: TransformersProgress): void {
    try {
      this.callback(e);
    } catch {
      // A throwing progress handler must not break the load (as with onProgress).
    }
  }
}

/**
 * Both progress options as one LoadProgress callback for the engine (or undefined when neither is
 * set), plus `ready()` for after the load. `name` identifies the model in transformers.js events.
 */
export function progressHandlers(
  name: string,
  onProgress: ((p: LoadProgress) => void) | undefined,
  progressCallback: TransformersProgressCallback | undefined,
): { onProgress: ((p: LoadProgress) => void) | undefined; ready(): void } {
  const adapter = progressCallback ? new TransformersProgressAdapter(name, progressCallback) : null;
  if (!adapter) return { onProgress, ready() {} };
  return {
    onProgress: (p) => {
      onProgress?.(p);
      adapter.push(p);
    },
    ready: () => adapter.ready(),
  };
}

/** The model as transformers.js events name it: the repo id or URL the caller gave, else "local files". */
export function modelName(model: unknown): string {
  if (typeof model === 'string') return model;
  if (typeof URL !== 'undefined' && model instanceof URL) return model.href;
  const m = (model ?? {}) as { url?: unknown; repo?: unknown; directory?: { name?: unknown } };
  for (const v of [m.url, m.repo, m.directory?.name]) if (typeof v === 'string') return v;
  return 'local files';
}
