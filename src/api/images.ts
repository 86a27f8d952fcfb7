// Page side of image passing: every image becomes something structured-clonable that the engine's
// thread can decode, moved rather than copied where the platform allows (ImageBitmap, ArrayBuffer).
// Blobs/Files are passed by reference (cloning a Blob does not copy its bytes). A video part becomes
// its sampled frames, consecutive image parts (src/api/video.ts).
import type { WireImage, WireMessage } from '../worker/chat_input.ts';
import type { ChatMessage, ImageInput } from './types.ts';
import { sampleVideo } from './video.ts';

const is = (x: unknown, name: string): boolean => {
  const C = (globalThis as Record<string, unknown>)[name];
  return typeof C === 'function' && x instanceof (C as new () => unknown);
};

async function toWire(image: ImageInput, transfer: Transferable[]): Promise<WireImage> {
  if (typeof image === 'string') return new URL(image, globalThis.location?.href).href; // worker has no page base
  if (image instanceof URL) return image.href;
  if (is(image, 'Blob')) return image as Blob;
  if (image instanceof ArrayBuffer) {
    transfer.push(image);
    return image;
  }
  if (image instanceof Uint8Array) {
    const copy = image.slice(); // never detach the caller's view
    transfer.push(copy.buffer);
    return copy;
  }
  if (is(image, 'ImageData')) return image as ImageData;
  if (is(image, 'ImageBitmap')) return image as ImageBitmap; // cloned: the caller may still draw it
  if (is(image, 'HTMLImageElement') || is(image, 'HTMLCanvasElement') || is(image, 'OffscreenCanvas')) {
    const bitmap = await createImageBitmap(image as ImageBitmapSource);
    transfer.push(bitmap);
    return bitmap;
  }
  return image as WireImage; // the engine reports an ImageError naming what it accepts
}

/** Converts messages for the engine; `transfer` lists what may be moved. */
export async function toWireMessages(
  messages: readonly ChatMessage[],
): Promise<{ messages: WireMessage[]; transfer: Transferable[] }> {
  const transfer: Transferable[] = [];
  if (!Array.isArray(messages)) return { messages: messages as WireMessage[], transfer }; // engine validates
  const out: WireMessage[] = [];
  for (const m of messages) {
    if (!m || typeof m.content === 'string' || !Array.isArray(m.content)) {
      out.push(m as WireMessage);
      continue;
    }
    const parts: WireMessage['content'] = [];
    for (const p of m.content) {
      if (p?.type === 'image') parts.push({ type: 'image', image: await toWire(p.image, transfer) });
      else if (p?.type === 'video') {
        const { frames } = await sampleVideo(p);
        transfer.push(...frames);
        for (const image of frames) parts.push({ type: 'image', image });
      } else parts.push(p);
    }
    out.push({ role: m.role, content: parts });
  }
  return { messages: out, transfer };
}
