// Typed errors. Every error that crosses a boundary (worker → page, engine → CLI) carries a stable
// `name` (comlink keeps `name` and `message`, not the class) and a message that says what to do next.

/** Every error name kimi-vl-web throws; `isKimiVLError` recognises these and no others. */
export const KIMI_VL_ERROR_NAMES = [
  'WebGPUUnavailableError',
  'DeviceLostError',
  'ShaderCompileError',
  'GpuLimitError',
  'ConfigError',
  'SafetensorsError',
  'CheckpointError',
  'DownloadError',
  'QuotaError',
  'CacheError',
  'TokenizerError',
  'ImageError',
  'ContextOverflowError',
  'AbortError',
  'EngineStateError',
  'WorkerStartError',
  'ShapeError',
  // chat.completions.create asked for OpenAI fields the engine does not honour (api/openai_fields.ts).
  'UnsupportedFieldsError',
] as const;

export type KimiVLErrorName = (typeof KIMI_VL_ERROR_NAMES)[number];

export class KimiVLError extends Error {
  override readonly name: KimiVLErrorName;
  constructor(name: KimiVLErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

const NAMES: ReadonlySet<string> = new Set(KIMI_VL_ERROR_NAMES);

/** Whether `n` is one of kimi-vl-web's error names. */
export function isKimiVLErrorName(n: unknown): n is KimiVLErrorName {
  return typeof n === 'string' && NAMES.has(n);
}

/**
 * Narrowing helper: a KimiVLError, or one re-created on this side of a boundary. Comlink rethrows a
 * worker's error as a plain `Error` with the original name and message (`Object.assign(new Error(m),
 * { name, message, stack })`), and a structured clone gives a plain Error or object too; those count
 * when the name is one of ours. Other classes never do, whatever their name: a TypeError, or the
 * browser's own `DOMException` named "AbortError" (callers that want it test `name` themselves).
 */
export function isKimiVLError(e: unknown, name?: KimiVLErrorName): e is KimiVLError {
  if (typeof e !== 'object' || e === null) return false;
  if (!(e instanceof KimiVLError)) {
    const proto = Object.getPrototypeOf(e);
    if (proto !== Error.prototype && proto !== Object.prototype && proto !== null) return false;
    if (typeof (e as { message?: unknown }).message !== 'string') return false;
  }
  const n = (e as { name: unknown }).name;
  return isKimiVLErrorName(n) && (name === undefined || n === name);
}

/** Internal invariant; a failure is a bug in kimi-vl-web, not in the caller's input. */
export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`kimi-vl-web internal error: ${message}`);
}
