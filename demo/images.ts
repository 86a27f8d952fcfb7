// Image attachments of the composer: file picker, drag-and-drop anywhere on the page, paste, with
// removable previews. The files go to the engine as they are (it decodes them in its worker).

const previews = document.querySelector<HTMLElement>('#previews')!;
const overlay = document.querySelector<HTMLElement>('#drop-overlay')!;
let attached: File[] = [];

function render(): void {
  previews.textContent = '';
  attached.forEach((f, i) => {
    const box = document.createElement('div');
    box.className = 'preview';
    const img = document.createElement('img');
    img.src = URL.createObjectURL(f);
    img.alt = f.name;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = '×';
    remove.title = `Remove ${f.name}`;
    remove.addEventListener('click', () => {
      attached.splice(i, 1);
      render();
    });
    box.append(img, remove);
    previews.append(box);
  });
}

/** Adds image files; anything else is reported. */
export function attachImages(files: Iterable<File>, onError: (e: unknown) => void): void {
  for (const f of files) {
    if (f.type.startsWith('image/')) attached.push(f);
    else onError({ name: 'ImageError', message: `${f.name} is not an image (${f.type || 'unknown type'})` });
  }
  render();
}

export function takeAttachments(): File[] {
  const out = attached;
  attached = [];
  render();
  return out;
}

export function clearAttachments(): void {
  attached = [];
  render();
}

/** Files that make up a checkpoint (config, shards, tokenizer) rather than images to attach. */
function isModelDrop(files: File[]): boolean {
  return files.some((f) => f.name === 'config.json' || f.name.endsWith('.safetensors'));
}

export function initImageInputs(onError: (e: unknown) => void, onModelFiles: (files: File[]) => void): void {
  const picker = document.querySelector<HTMLInputElement>('#image-input')!;
  picker.addEventListener('change', () => {
    attachImages(picker.files ?? [], onError);
    picker.value = '';
  });
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
    if (isModelDrop(files)) onModelFiles(files);
    else attachImages(files, onError);
  });
  window.addEventListener('paste', (ev) => {
    const files = [...(ev.clipboardData?.files ?? [])];
    if (files.length) attachImages(files, onError);
  });
}
