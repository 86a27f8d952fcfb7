// Video parts. Kimi-VL reads a video as a sequence of frames, so a `{ type: 'video' }` part becomes
// consecutive image parts before the request crosses into the worker: frames are sampled evenly over
// the video's duration here in the page (the media element demuxes and decodes; WebCodecs' VideoFrame
// captures the exact decoded frame where it exists, an OffscreenCanvas draw otherwise), resized so
// that all frames together stay within the part's image-token budget, and sent as ImageBitmaps
// (transferred, not copied).
//
// Legend: n frames, T LM placeholder tokens per frame, 28 px = patch 14 × merge 2 (one token a tile).
import { KimiVLError } from '../errors.ts';

export type VideoInput = File | Blob | HTMLVideoElement | URL | string;

export interface VideoPart {
  type: 'video';
  video: VideoInput;
  /** Frames per second of video to sample (default 1), capped by maxFrames. */
  fps?: number;
  /** At most this many frames (default 8). */
  maxFrames?: number;
  /** LM image tokens for the whole video, divided evenly across its frames (default 1024). */
  maxImageTokens?: number;
}

export const VIDEO_DEFAULTS = { fps: 1, maxFrames: 8, maxImageTokens: 1024 } as const;

/** One LM token covers a 28×28 px tile after padding (patch 14, 2×2 merge), as the preprocessor pads. */
const TILE = 28;

export interface SampledVideo {
  frames: ImageBitmap[];
  /** Seconds into the video of each frame. */
  timestamps: number[];
  duration: number;
  /** The video's own size; frames may be smaller (the token budget). */
  width: number;
  height: number;
  /** How frames were captured: WebCodecs' VideoFrame, or a canvas draw of the media element. */
  capture: 'webcodecs' | 'canvas';
}

/** Evenly spaced sample times: n = clamp(round(duration × fps), 1, maxFrames), at the centre of each slice. */
export function frameTimes(duration: number, fps: number, maxFrames: number): number[] {
  const n = Math.max(1, Math.min(Math.floor(maxFrames), Math.round(duration * fps)));
  return Array.from({ length: n }, (_, i) => ((i + 0.5) * duration) / n);
}

/** LM placeholder tokens of a w×h frame as the preprocessor pads it (when it is not resized further). */
export function frameTokens(width: number, height: number): number {
  return Math.ceil(width / TILE) * Math.ceil(height / TILE);
}

/**
 * The largest size with the frame's aspect ratio (never upscaled) whose padded tiles fit `tokens`.
 * At least 1×1 px, which is one token.
 */
export function frameSize(width: number, height: number, tokens: number): [number, number] {
  const budget = Math.max(1, Math.floor(tokens));
  if (frameTokens(width, height) <= budget) return [width, height];
  const scaled = (w: number): [number, number] => [w, Math.max(1, Math.round((w * height) / width))];
  let lo = 1;
  let hi = width;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const [w, h] = scaled(mid);
    if (frameTokens(w, h) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const [w, h] = scaled(lo);
  // A very tall frame can exceed the budget even 1 px wide: scale the height alone then.
  return frameTokens(w, h) <= budget ? [w, h] : [w, Math.min(h, budget * TILE)];
}

const videoError = (message: string, cause?: unknown) => new KimiVLError('ImageError', message, { cause });

function once(el: HTMLVideoElement, event: string, what: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(videoError(`the video did not ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const ok = () => done();
    const fail = () =>
      done(videoError(`the video could not be read (${el.error?.message || 'unsupported'})`));
    function done(err?: Error) {
      clearTimeout(timer);
      el.removeEventListener(event, ok);
      el.removeEventListener('error', fail);
      if (err) reject(err);
      else resolve();
    }
    el.addEventListener(event, ok);
    el.addEventListener('error', fail);
  });
}

/** A private media element for the source (a caller's element is never seeked: it may be playing). */
async function openVideo(source: VideoInput): Promise<{ el: HTMLVideoElement; close: () => void }> {
  let src: string;
  let revoke = false;
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) {
    src = source.currentSrc || source.src;
    if (!src) throw videoError('the video element has no src (a MediaStream cannot be sampled over time)');
  } else if (source instanceof Blob) {
    src = URL.createObjectURL(source);
    revoke = true;
  } else if (source instanceof URL || typeof source === 'string') {
    src = new URL(String(source), globalThis.location?.href).href;
  } else {
    throw videoError('video must be a File, Blob, HTMLVideoElement, URL or URL string');
  }
  const el = document.createElement('video');
  el.muted = true;
  el.preload = 'auto';
  el.crossOrigin = 'anonymous';
  const close = () => {
    el.removeAttribute('src');
    el.load();
    if (revoke) URL.revokeObjectURL(src);
  };
  try {
    const ready = once(el, 'loadeddata', 'load');
    el.src = src;
    await ready;
    // MediaRecorder's WebM has no duration in its header: seeking past the end makes the element find it.
    if (!Number.isFinite(el.duration)) {
      const known = once(el, 'durationchange', 'report its duration');
      el.currentTime = 1e9;
      await known;
    }
    if (!(el.duration > 0) || !el.videoWidth) throw videoError('the video has no frames');
  } catch (e) {
    close();
    throw e;
  }
  return { el, close };
}

async function seek(el: HTMLVideoElement, t: number): Promise<void> {
  if (Math.abs(el.currentTime - t) < 1e-6 && el.readyState >= 2) return;
  const seeked = once(el, 'seeked', `seek to ${t.toFixed(2)} s`);
  el.currentTime = t;
  await seeked;
}

async function capture(el: HTMLVideoElement, t: number, w: number, h: number): Promise<ImageBitmap> {
  if (typeof VideoFrame === 'function') {
    const frame = new VideoFrame(el, { timestamp: Math.round(t * 1e6) });
    try {
      return await createImageBitmap(frame, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
    } finally {
      frame.close();
    }
  }
  const canvas = new OffscreenCanvas(w, h);
  canvas.getContext('2d')!.drawImage(el, 0, 0, w, h);
  return canvas.transferToImageBitmap();
}

/** Samples a video part's frames (evenly, sized to the part's token budget). The caller owns the bitmaps. */
export async function sampleVideo(part: Omit<VideoPart, 'type'>): Promise<SampledVideo> {
  const fps = part.fps ?? VIDEO_DEFAULTS.fps;
  const maxFrames = part.maxFrames ?? VIDEO_DEFAULTS.maxFrames;
  const budget = part.maxImageTokens ?? VIDEO_DEFAULTS.maxImageTokens;
  if (!(fps > 0) || !(maxFrames >= 1) || !(budget >= 1))
    throw new KimiVLError('ConfigError', 'video fps, maxFrames and maxImageTokens must be positive');
  const { el, close } = await openVideo(part.video);
  const frames: ImageBitmap[] = [];
  try {
    const duration = el.duration;
    const timestamps = frameTimes(duration, fps, maxFrames);
    const perFrame = Math.floor(budget / timestamps.length);
    if (perFrame < 1)
      throw new KimiVLError(
        'ConfigError',
        `maxImageTokens ${budget} is less than one token for each of ${timestamps.length} frames`,
      );
    const [w, h] = frameSize(el.videoWidth, el.videoHeight, perFrame);
    for (const t of timestamps) {
      await seek(el, Math.min(t, Math.max(0, duration - 1e-3)));
      frames.push(await capture(el, t, w, h));
    }
    return {
      frames,
      timestamps,
      duration,
      width: el.videoWidth,
      height: el.videoHeight,
      capture: typeof VideoFrame === 'function' ? 'webcodecs' : 'canvas',
    };
  } catch (e) {
    for (const f of frames) f.close();
    throw e instanceof KimiVLError
      ? e
      : videoError(`the video could not be sampled: ${(e as Error)?.message ?? e}`, e);
  } finally {
    close();
  }
}
