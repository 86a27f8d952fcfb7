// What the engine holds for a loaded model, shared by the engine (which builds it) and the request
// runner (which reads it). Its own module so neither imports the other for a type.

import type { ImageProcessorConfig } from '../config/config.ts';
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
