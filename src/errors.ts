// Typed errors. Every error that crosses a boundary (worker → page, engine → CLI) carries a stable
// `name` (comlink keeps `name` and `message`, not the class) and a message that says what to do next.

export type KimiVLErrorName =
  | 'WebGPUUnavailableError'
  | 'DeviceLostError'
  | 'ShaderCompileError'
  | 'GpuLimitError'
  | 'ConfigError'
  | 'SafetensorsError'
  | 'CheckpointError'
  | 'DownloadError'
  | 'QuotaError'
  | 'CacheError'
  | 'TokenizerError'
  | 'ImageError'
  | 'ContextOverflowError'
  | 'AbortError'
  | 'EngineStateError'
  | 'WorkerStartError'
  | 'ShapeError';

export class KimiVLError extends Error {
  override readonly name: KimiVLErrorName;
  constructor(name: KimiVLErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

/** Narrowing helper that also works for errors re-created by comlink (plain objects with `name`). */
export function isKimiVLError(e: unknown, name?: KimiVLErrorName): e is KimiVLError {
  if (typeof e !== 'object' || e === null || !('name' in e)) return false;
  const n = (e as { name: unknown }).name;
  return typeof n === 'string' && n.endsWith('Error') && (name === undefined || n === name);
}

/** Internal invariant; a failure is a bug in kimi-vl-web, not in the caller's input. */
export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`kimi-vl-web internal error: ${message}`);
}
