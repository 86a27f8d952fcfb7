// Progress of a model load as the demo shows it: bytes done / total per file and overall, and a
// transfer rate. Events are throttled (a multi-gigabyte download yields ~10⁵ network chunks) but
// the first event of each phase and the final one are always delivered.

export type LoadPhase = 'metadata' | 'verify' | 'download' | 'validate' | 'convert' | 'done';

export interface FileProgress {
  name: string;
  bytesDone: number;
  /** null while the size is not known yet. */
  bytesTotal: number | null;
  /** The bytes came from the local cache, not the network. */
  fromCache: boolean;
}

export interface LoadProgress {
  phase: LoadPhase;
  /** Files of the current phase (downloaded or verified). */
  files: FileProgress[];
  bytesDone: number;
  bytesTotal: number;
  /** Overall fraction 0..1 (1 exactly when the phase is finished). */
  fraction: number;
  /** Network bytes per second over the last few seconds (0 when reading from cache). */
  bytesPerSecond: number;
}

export type ProgressCallback = (p: LoadProgress) => void;

const RATE_WINDOW_MS = 3000;
const MIN_INTERVAL_MS = 100;

export class ProgressTracker {
  private files = new Map<string, FileProgress>();
  private phase: LoadPhase = 'metadata';
  private lastEmit = 0;
  /** (time, cumulative network bytes) samples for the rate. */
  private samples: Array<[number, number]> = [];
  private networkBytes = 0;
  private trailing: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly callback: ProgressCallback | undefined) {}

  startPhase(
    phase: LoadPhase,
    files: Array<{ name: string; size: number | null; fromCache?: boolean }>,
  ): void {
    this.phase = phase;
    this.files = new Map(
      files.map((f) => [
        f.name,
        { name: f.name, bytesDone: 0, bytesTotal: f.size, fromCache: f.fromCache ?? false },
      ]),
    );
    this.emit(true);
  }

  setTotal(name: string, size: number | null): void {
    const f = this.files.get(name);
    if (f) f.bytesTotal = size;
  }

  /** `delta` more bytes of `name` done, none of them from the network (conversion, verification). */
  add(name: string, delta: number): void {
    const f = this.files.get(name);
    if (f) this.set(name, f.bytesDone + delta, 0);
  }

  /** `bytesDone` of `name` are done; `networkDelta` of them just crossed the network (for the rate). */
  set(name: string, bytesDone: number, networkDelta: number): void {
    const f = this.files.get(name);
    if (!f) return;
    f.bytesDone = Math.max(0, bytesDone);
    if (networkDelta > 0) {
      this.networkBytes += networkDelta;
      f.fromCache = false;
    }
    this.emit(false);
  }

  /** Bytes received over the network since this tracker was made. */
  get network(): number {
    return this.networkBytes;
  }

  finishFile(name: string): void {
    const f = this.files.get(name);
    if (f) f.bytesTotal = f.bytesDone;
    this.emit(true);
  }

  done(): void {
    for (const f of this.files.values()) if (f.bytesTotal === null) f.bytesTotal = f.bytesDone;
    this.phase = 'done';
    this.emit(true);
  }

  snapshot(): LoadProgress {
    const files = [...this.files.values()].map((f) => ({ ...f }));
    const bytesDone = files.reduce((a, f) => a + f.bytesDone, 0);
    const bytesTotal = files.reduce((a, f) => a + (f.bytesTotal ?? f.bytesDone), 0);
    const finished = this.phase === 'done';
    const fraction = finished ? 1 : bytesTotal > 0 ? Math.min(bytesDone / bytesTotal, 0.999999) : 0;
    return { phase: this.phase, files, bytesDone, bytesTotal, fraction, bytesPerSecond: this.rate() };
  }

  private rate(): number {
    const now = performance.now();
    this.samples.push([now, this.networkBytes]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > RATE_WINDOW_MS) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    const dt = (now - t0) / 1000;
    return dt > 0.05 ? (this.networkBytes - b0) / dt : 0;
  }

  private emit(force: boolean): void {
    if (!this.callback) return;
    const now = performance.now();
    const wait = MIN_INTERVAL_MS - (now - this.lastEmit);
    if (!force && wait > 0) {
      // Throttled: deliver the latest state at the end of the interval anyway, so a transfer that
      // stalls right after a burst still shows how far it got.
      this.trailing ??= setTimeout(() => {
        this.trailing = null;
        this.emit(true);
      }, wait);
      return;
    }
    if (this.trailing !== null) clearTimeout(this.trailing);
    this.trailing = null;
    this.lastEmit = now;
    try {
      this.callback(this.snapshot());
    } catch {
      // A throwing progress handler must not break the load.
    }
  }
}

/** Runs `tasks` with at most `limit` in flight; the first failure stops new starts and is rethrown. */
export async function runBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  async function worker(): Promise<void> {
    while (failure === null && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}
