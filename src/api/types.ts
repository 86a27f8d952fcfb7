// Public types of the main-thread API.
import type { LoadProgress } from '../weights/load.ts';
import type { EngineChatOptions, EngineLoadOptions } from '../worker/engine.ts';
import type { TransformersProgressCallback } from './progress.ts';
import type { VideoPart } from './video.ts';
import type { WorkerOptions } from './worker_start.ts';

export type { ChatEvent, DoneEvent, FinishReason, Timings, Usage } from '../generate/events.ts';
export type { LoadProgress } from '../weights/load.ts';
export type { ModelInfo } from '../worker/engine.ts';

/** Anything an image can be on a page; decoded in the engine's thread. */
export type ImageInput =
  | Blob
  | File
  | ArrayBuffer
  | Uint8Array
  | ImageBitmap
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | URL
  | string;

/** A video part is sampled into consecutive image parts on the page (src/api/video.ts). */
export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image'; image: ImageInput }
  | VideoPart;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ChatContentPart[];
}

export interface ChatOptions extends EngineChatOptions {
  /** Stops generation within one token; the stream ends with finishReason 'abort'. */
  signal?: AbortSignal;
}

/** A Hugging Face repo id ("org/name[@rev]"), a folder URL (absolute or page-relative), or local files. */
export type ModelInput =
  | string
  | URL
  | { url: string }
  | { repo: string; revision?: string; hubUrl?: string }
  | { files: ArrayLike<File> }
  | { directory: FileSystemDirectoryHandle }
  | ArrayLike<File>;

export interface LoadOptions extends Omit<EngineLoadOptions, 'quantization'>, WorkerOptions {
  /** 'none' (as stored), 'q8' or 'q4' for the language model's linear weights. */
  quantization?: EngineLoadOptions['quantization'];
  onProgress?: (p: LoadProgress) => void;
  /**
   * Progress as transformers.js reports it ({ status: 'initiate' | 'download' | 'progress' | 'done' |
   * 'ready', file, loaded, total, progress }), so an existing loading UI drops in (api/progress.ts).
   */
  progress_callback?: TransformersProgressCallback;
  signal?: AbortSignal;
}
