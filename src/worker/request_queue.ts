// Requests to one engine run one at a time, in arrival order (one KV cache, one GPU queue): a second
// chat waits for the first instead of interleaving with it. Cancellation is by request id and works
// whether the request is running (the loop polls isCancelled between tokens) or still waiting.
// abortAll (unload, shutdown) is harsher: queued requests reject at once without running, and the
// running one is told to stop and then rejects with the given error, so every caller settles.

interface Entry {
  id: number;
  start: () => void;
  reject: (e: unknown) => void;
  cancelled: boolean;
  /** Set by abortAll: the request rejects with it however it ends. */
  abortError: Error | null;
}

export class RequestQueue {
  private readonly waiting: Entry[] = [];
  private running: Entry | null = null;

  /** Runs `fn` after every earlier request has settled; `fn` polls `isCancelled`. */
  run<T>(id: number, fn: (isCancelled: () => boolean) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        id,
        cancelled: false,
        abortError: null,
        reject,
        start: () => {
          const isCancelled = () => entry.cancelled;
          Promise.resolve()
            .then(() => fn(isCancelled))
            .then(
              (v) => (entry.abortError ? reject(entry.abortError) : resolve(v)),
              (e) => reject(entry.abortError ?? e),
            )
            .finally(() => {
              this.running = null;
              this.next();
            });
        },
      };
      this.waiting.push(entry);
      if (!this.running) this.next();
    });
  }

  private next(): void {
    const entry = this.waiting.shift();
    if (!entry) return;
    this.running = entry;
    entry.start();
  }

  /** Marks a request cancelled (no-op for unknown or finished ids). */
  cancel(id: number): void {
    for (const e of this.entries()) if (e.id === id) e.cancelled = true;
  }

  /**
   * Rejects every queued request with `makeError()` now, and tells the running one to stop (within one
   * token); it rejects with the same kind of error when it has stopped. Returns how many were aborted.
   */
  abortAll(makeError: () => Error): number {
    const queued = this.waiting.splice(0);
    for (const e of queued) e.reject(makeError());
    if (this.running && !this.running.abortError) {
      this.running.cancelled = true;
      this.running.abortError = makeError();
      return queued.length + 1;
    }
    return queued.length;
  }

  /** Requests queued or running. */
  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  private entries(): Entry[] {
    return this.running ? [this.running, ...this.waiting] : [...this.waiting];
  }
}
