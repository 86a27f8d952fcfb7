// Requests to one engine run one at a time, in arrival order (one KV cache, one GPU queue): a second
// chat waits for the first instead of interleaving with it. Cancellation is by request id and works
// whether the request is running (the loop polls isCancelled between tokens) or still waiting.

export class RequestQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly cancelled = new Set<number>();
  private readonly pending = new Set<number>();

  /** Runs `fn` after every earlier request has settled; `fn` polls `isCancelled`. */
  run<T>(id: number, fn: (isCancelled: () => boolean) => Promise<T>): Promise<T> {
    this.pending.add(id);
    const isCancelled = () => this.cancelled.has(id);
    const result = this.tail.then(() => fn(isCancelled));
    const settle = () => {
      this.pending.delete(id);
      this.cancelled.delete(id);
    };
    this.tail = result.then(settle, settle);
    return result;
  }

  /** Marks a request cancelled (no-op for unknown or finished ids). */
  cancel(id: number): void {
    if (this.pending.has(id)) this.cancelled.add(id);
  }

  /** Requests queued or running. */
  get size(): number {
    return this.pending.size;
  }
}
