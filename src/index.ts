// kimi-vl-web: Kimi-VL in the browser on WebGPU. Public API.

export { deleteCachedModel, listCachedModels } from './api/cached_models.ts';
export { type ChatFunction, type ChatStream, KimiVL } from './api/kimi_vl.ts';
export {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type CompletionUsage,
  type OpenAIContentPart,
  type OpenAIFinishReason,
  type OpenAIMessage,
  UnsupportedFieldsError,
} from './api/openai.ts';
export { type OpenAIFetchEngine, openaiFetch } from './api/openai_fetch.ts';
export type { TransformersProgress, TransformersProgressCallback } from './api/progress.ts';
export type {
  ChatContentPart,
  ChatEvent,
  ChatMessage,
  ChatOptions,
  DoneEvent,
  FinishReason,
  ImageInput,
  LoadOptions,
  LoadProgress,
  ModelInfo,
  ModelInput,
  Timings,
  Usage,
} from './api/types.ts';
export { frameTimes, frameTokens, type SampledVideo, sampleVideo, type VideoPart } from './api/video.ts';
export type { WorkerOptions } from './api/worker_start.ts';
export { isKimiVLError, KimiVLError, type KimiVLErrorName } from './errors.ts';
export type { AdapterDescription } from './gpu/device.ts';
export type { LogLevel } from './log.ts';
