// What the engine holds for a loaded model, shared by the engine (which builds it) and the request
// runner (which reads it). Its own module so neither imports the other for a type.

import type { ImageProcessorConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { Kernels } from '../kernels/types.ts';
import type { KimiVLModel } from '../model/kimi_vl.ts';
import type { KvCache } from '../model/kv_cache.ts';
import type { Tokenizer } from '../text/tokenizer.ts';

export interface ModelInfo {
  id: string;
  thinking: boolean;
  backend: 'gpu' | 'ref';
  contextBudget: number;
  /** False for checkpoints without tokenizer files: only generateFromIds works. */
  hasTokenizer: boolean;
  acceptsImages: boolean;
  layers: number;
  hiddenSize: number;
  experts: number;
  vocabSize: number;
  loadMs: number;
  networkBytes: number;
}

export interface LoadedEngineState {
  info: ModelInfo;
  k: Kernels;
  rt: GpuRuntime | null;
  model: KimiVLModel;
  cache: KvCache;
  tokenizer: Tokenizer | null;
  preprocessor: ImageProcessorConfig | null;
  stopIds: number[];
}

/**
 * The values each enum option of a load takes. Anything else is a ConfigError listing these, checked
 * before anything is fetched (a 'tpu' backend used to run the CPU reference silently; a 'q3'
 * quantisation failed deep in the converter as an internal CacheError).
 */
export const LOAD_OPTION_VALUES = {
  quantization: ['none', 'q8', 'q4'],
  backend: ['gpu', 'ref'],
  powerPreference: ['low-power', 'high-performance'],
  logLevel: ['silent', 'error', 'warn', 'info', 'debug'], // src/log.ts LOG_LEVELS
} as const satisfies Record<string, readonly string[]>;

/** Refuses an unknown value of an enum option (`where` names the call, e.g. "KimiVL.load options"). */
export function checkLoadOptionEnums(opts: Record<string, unknown>, where = 'load options'): void {
  for (const [key, allowed] of Object.entries(LOAD_OPTION_VALUES)) {
    const v = opts[key];
    if (v === undefined || (allowed as readonly unknown[]).includes(v)) continue;
    throw new KimiVLError(
      'ConfigError',
      `${where}: ${key} is ${describeValue(v)}; allowed values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
    );
  }
}

/** A short, safe rendering of a caller's value for an error message. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? 'a function' : String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const name = Object.getPrototypeOf(v)?.constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
