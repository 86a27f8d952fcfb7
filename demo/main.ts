// The demo chat page: wires the model catalogue, the loader, the conversation, attachments, examples
// and the PWA. It uses the public API (src/index.ts) for everything the engine does; the catalogue also
// reads the memory plan (memory.ts).
import { initAttachments, takeAttachments } from './attachments.ts';
import {
  CATALOGUE,
  type CatalogueEntry,
  DEFAULT_MODEL_KEY,
  entryByKey,
  entryForSource,
} from './catalogue.ts';
import { CatalogueView } from './catalogue_view.ts';
import { Chat } from './chat.ts';
import { $, el } from './dom.ts';
import { renderExamples, showExamples } from './examples.ts';
import { CONTEXT_BUDGET, Models, setStatus, showLoadError } from './models.ts';
import { registerServiceWorker } from './pwa.ts';
import { type Conversation, listConversations } from './store.ts';

const promptBox = $<HTMLTextAreaElement>('#prompt');
const modelInput = $<HTMLInputElement>('#model-input');
const conversationsSelect = $<HTMLSelectElement>('#conversations');

const models = new Models();
const chat = new Chat(models);
const catalogue = new CatalogueView(
  { load: (entry) => void loadEntry(entry), onError: showLoadError },
  CONTEXT_BUDGET,
);

/** `?model=` (a catalogue key, a folder URL or a repo id) overrides the default, e.g. for tests. */
const requested = new URLSearchParams(location.search).get('model');

function loadEntry(entry: CatalogueEntry): Promise<boolean> {
  return models.load(entry.source, entry.label, entry);
}

function loadSource(source: string): Promise<boolean> {
  const entry = entryByKey(source) ?? entryForSource(source);
  return entry ? loadEntry(entry) : models.load(source, source);
}

models.onChange((loaded) => {
  chat.updateButtons();
  catalogue.markLoaded(loaded?.entry?.key ?? null);
  const note = $('#model-note');
  note.textContent = loaded?.entry?.note ?? '';
  note.hidden = !loaded?.entry;
  void catalogue.refreshCached();
});

async function drawConversations(): Promise<Conversation[]> {
  const all = await listConversations();
  conversationsSelect.textContent = '';
  const current = el('option', '', chat.conversation.messages.length ? 'Current chat' : 'New chat');
  current.value = chat.conversation.id;
  conversationsSelect.append(current);
  for (const c of all) {
    if (c.id === chat.conversation.id) {
      current.textContent = c.title;
      continue;
    }
    const o = el('option', '', `${c.title} · ${new Date(c.updatedAt).toLocaleDateString()}`);
    o.value = c.id;
    conversationsSelect.append(o);
  }
  conversationsSelect.value = chat.conversation.id;
  return all;
}

function send(): void {
  const text = promptBox.value.trim();
  const media = takeAttachments();
  if (!text && !media.length) return;
  promptBox.value = '';
  void chat.send(text, media);
}

function wireComposer(): void {
  $('#composer').addEventListener('submit', (ev) => {
    ev.preventDefault();
    send();
  });
  promptBox.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) {
      ev.preventDefault();
      send();
    }
  });
  $('#clear').addEventListener('click', () => {
    chat.reset();
    void drawConversations();
  });
  conversationsSelect.addEventListener('change', async () => {
    const c = (await listConversations()).find((x) => x.id === conversationsSelect.value);
    if (c) chat.open(c);
  });
  chat.onSaved = () => void drawConversations();
}

function wireModelForm(): void {
  $('#model-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = modelInput.value.trim();
    void (v ? loadSource(v) : loadEntry(entryByKey(DEFAULT_MODEL_KEY)!));
  });
  $<HTMLInputElement>('#model-files').addEventListener('change', (ev) => {
    const files = [...((ev.target as HTMLInputElement).files ?? [])];
    if (files.length) void models.load(files, `local folder (${files.length} files)`);
  });
}

async function init(): Promise<void> {
  if (matchMedia('(max-width: 480px)').matches) $<HTMLDetailsElement>('#catalogue').open = false; // phones: chat first
  await registerServiceWorker();
  wireComposer();
  wireModelForm();
  initAttachments({
    onError: showLoadError,
    onModelFiles: (files) => void models.load(files, `dropped model (${files.length} files)`),
    videoBudget: () => models.current?.entry?.video ?? CATALOGUE[0]!.video,
  });
  void renderExamples((prompt, media) => void chat.send(prompt, media));
  const saved = await drawConversations();
  if (saved[0]) chat.open(saved[0]);
  else showExamples(true);
  void drawConversations();
  chat.updateButtons();
  await catalogue.init();
  if (!('gpu' in navigator)) {
    showLoadError({
      name: 'WebGPUUnavailableError',
      message: 'navigator.gpu is missing (WebGPU needs a secure context: https or localhost).',
    });
    setStatus('error', 'no WebGPU');
    return;
  }
  await loadSource(requested ?? DEFAULT_MODEL_KEY);
}

void init();
