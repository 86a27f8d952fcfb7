// The composer's attachments: pictures and videos from the file picker, drag-and-drop anywhere on the
// page, paste, the camera, or an example. Pictures go to the engine as they are (it decodes them in its
// worker) unless "upright" asks for EXIF rotation, done here. A video is sampled here once to show its
// frames; the request carries the video itself and the engine's page side samples the same frames.
import { sampleVideo } from '../src/index.ts';
import { $, el, iconButton } from './dom.ts';
import type { StoredMedia } from './store.ts';

export interface VideoBudget {
  fps: number;
  maxFrames: number;
  maxImageTokens: number;
}

const previews = $('#previews');
const overlay = $('#drop-overlay');
const orientation = $<HTMLSelectElement>('#orientation');
let attached: StoredMedia[] = [];
let onError: (e: unknown) => void = console.error;
let videoBudget: () => VideoBudget = () => ({ fps: 1, maxFrames: 8, maxImageTokens: 1024 });

orientation.value = localStorage.getItem('kimi-vl-demo:orientation') ?? 'stored';
const applyOrientation = () => {
  document.documentElement.dataset.orientation = orientation.value;
  localStorage.setItem('kimi-vl-demo:orientation', orientation.value);
};
orientation.addEventListener('change', applyOrientation);
applyOrientation();

/** A thumbnail for a picture or a video's frames; kept inside its box whatever its aspect ratio. */
export function mediaView(m: StoredMedia): HTMLElement {
  const box = el('div', `media ${m.kind}`);
  const blobs = m.kind === 'video' ? m.frames : [m.blob];
  for (const b of blobs) {
    const img = el('img');
    img.src = URL.createObjectURL(b);
    img.alt = m.kind === 'video' ? `frame of ${m.name}` : m.name;
    box.append(img);
  }
  if (m.kind === 'video') box.append(el('span', 'frames-label', `${m.frames.length} frames of ${m.name}`));
  return box;
}

function render(): void {
  previews.textContent = '';
  attached.forEach((m, i) => {
    const box = el('div', 'preview');
    box.append(
      mediaView(m),
      iconButton('close', `Remove ${m.name}`, () => {
        attached.splice(i, 1);
        render();
      }),
    );
    previews.append(box);
  });
}

async function toPng(source: ImageBitmap): Promise<Blob> {
  const c = new OffscreenCanvas(source.width, source.height);
  c.getContext('2d')!.drawImage(source, 0, 0);
  return c.convertToBlob({ type: 'image/png' });
}

async function uprightImage(file: File): Promise<Blob> {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  try {
    return await toPng(bitmap);
  } finally {
    bitmap.close();
  }
}

async function addVideo(file: File): Promise<void> {
  const sampled = await sampleVideo({ video: file, ...videoBudget() });
  const frames = await Promise.all(sampled.frames.map(toPng));
  for (const f of sampled.frames) f.close();
  attached.push({ kind: 'video', blob: file, name: file.name, frames });
}

/** Adds pictures and videos; anything else is reported. */
export async function attachFiles(files: Iterable<File>): Promise<void> {
  for (const f of files) {
    try {
      if (f.type.startsWith('video/')) await addVideo(f);
      else if (!f.type.startsWith('image/'))
        throw {
          name: 'ImageError',
          message: `${f.name} is not a picture or video (${f.type || 'unknown type'})`,
        };
      else if (orientation.value === 'upright' && f.type === 'image/jpeg')
        attached.push({ kind: 'image', blob: await uprightImage(f), name: f.name });
      else attached.push({ kind: 'image', blob: f, name: f.name });
    } catch (e) {
      onError(e);
    }
    render();
  }
}

export function takeAttachments(): StoredMedia[] {
  const out = attached;
  attached = [];
  render();
  return out;
}

export function clearAttachments(): void {
  attached = [];
  render();
}

/** Files that make up a checkpoint (config, shards, tokenizer) rather than media to attach. */
function isModelDrop(files: File[]): boolean {
  return files.some((f) => f.name === 'config.json' || f.name.endsWith('.safetensors'));
}

async function openCamera(): Promise<void> {
  const fallback = $<HTMLInputElement>('#camera-input');
  if (!navigator.mediaDevices?.getUserMedia) return fallback.click();
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  } catch {
    return fallback.click(); // no camera or permission refused: the system picker may still offer one
  }
  const dialog = $<HTMLDialogElement>('#camera-dialog');
  const video = $<HTMLVideoElement>('#camera-video');
  video.srcObject = stream;
  dialog.showModal();
  dialog.addEventListener(
    'close',
    () => {
      for (const t of stream.getTracks()) t.stop();
      video.srcObject = null;
    },
    { once: true },
  );
}

async function takePhoto(): Promise<void> {
  const video = $<HTMLVideoElement>('#camera-video');
  const c = new OffscreenCanvas(video.videoWidth, video.videoHeight);
  c.getContext('2d')!.drawImage(video, 0, 0);
  const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
  $<HTMLDialogElement>('#camera-dialog').close();
  attached.push({ kind: 'image', blob, name: `camera-${new Date().toISOString().slice(11, 19)}.jpg` });
  render();
}

export function initAttachments(opts: {
  onError: (e: unknown) => void;
  onModelFiles: (files: File[]) => void;
  videoBudget: () => VideoBudget;
}): void {
  onError = opts.onError;
  videoBudget = opts.videoBudget;
  for (const id of ['#image-input', '#camera-input']) {
    const picker = $<HTMLInputElement>(id);
    picker.addEventListener('change', () => {
      void attachFiles([...(picker.files ?? [])]);
      picker.value = '';
    });
  }
  $('#camera').addEventListener('click', () => void openCamera());
  $('#camera-take').addEventListener('click', () => void takePhoto());
  $('#camera-close').addEventListener('click', () => $<HTMLDialogElement>('#camera-dialog').close());
  let depth = 0;
  window.addEventListener('dragenter', (ev) => {
    if (!ev.dataTransfer?.types.includes('Files')) return;
    depth++;
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener('dragover', (ev) => ev.preventDefault());
  window.addEventListener('drop', (ev) => {
    ev.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const files = [...(ev.dataTransfer?.files ?? [])];
    if (isModelDrop(files)) opts.onModelFiles(files);
    else void attachFiles(files);
  });
  window.addEventListener('paste', (ev) => {
    const files = [...(ev.clipboardData?.files ?? [])];
    if (files.length) void attachFiles(files);
  });
}
