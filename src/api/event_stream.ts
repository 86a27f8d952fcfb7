// Push-to-pull adapter: the engine pushes events through a callback, the page reads them with
// `for await`. One consumer; events are buffered until read. Leaving the loop early (break, throw)
// calls `onReturn`, which the API uses to cancel the request.

export class EventStream<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private ended = false;
  private failure: { error: unknown } | null = null;
  private wake: (() => void) | null = null;
  private iterated = false;

  constructor(private readonly onReturn: () => void = () => {}) {}

  push(value: T): void {
    if (this.ended) return;
    this.buffer.push(value);
    this.notify();
  }

  /** No more events; the loop finishes after the buffered ones. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The loop throws `error` after the buffered events. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.end();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new TypeError('this stream can be iterated only once');
    this.iterated = true;
    return {
      next: async (): Promise<IteratorResult<T>> => {
        while (true) {
          if (this.buffer.length) return { value: this.buffer.shift()!, done: false };
          if (this.ended) {
            if (this.failure) {
              const { error } = this.failure;
              this.failure = null;
              throw error;
            }
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => {
            this.wake = r;
          });
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        if (!this.ended) this.onReturn();
        this.ended = true;
        this.buffer.length = 0;
        return { value: undefined, done: true };
      },
    };
  }
}
