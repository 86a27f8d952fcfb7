// The demo chat page. It uses only the public API (src/index.ts), like any page would.
import { type ChatMessage, type DoneEvent, KimiVL, type LoadProgress } from '../src/index.ts';
import { explain, progressText, timingsText } from './format.ts';
import { clearAttachments, initImageInputs, takeAttachments } from './images.ts';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;
const statusPill = $('#status');
const errorBox = $('#error');
const chatLog = $('#chat');
const promptBox = $<HTMLTextAreaElement>('#prompt');
const sendButton = $<HTMLButtonElement>('#send');
const stopButton = $<HTMLButtonElement>('#stop');
const modelInput = $<HTMLInputElement>('#model-input');
const thinkingDemo = $<HTMLInputElement>('#thinking-demo');

/** The bundled model, relative to this page (`?model=` overrides it, e.g. for tests). */
const DEFAULT_MODEL = new URLSearchParams(location.search).get('model') ?? './models/kimi-vl-tiny/';
const TINY_THINKING_BUDGET = 8;

let engine: KimiVL | null = null;
let history: ChatMessage[] = [];
let running: AbortController | null = null;

function setStatus(state: 'idle' | 'busy' | 'ready' | 'error', text: string): void {
  statusPill.dataset.state = state;
  statusPill.textContent = text;
}

function showError(e: unknown): void {
  errorBox.hidden = false;
  errorBox.textContent = explain(e);
  errorBox.dataset.name = (e as Error)?.name ?? 'Error';
}

function clearError(): void {
  errorBox.hidden = true;
  errorBox.textContent = '';
}

function showProgress(p: LoadProgress | null): void {
  const box = $('#progress');
  box.hidden = p === null;
  if (!p) return;
  $<HTMLProgressElement>('#progress-bar').value = p.fraction;
  $('#progress-text').textContent = progressText(p);
}

async function loadModel(source: string | File[], label: string): Promise<void> {
  if (running) running.abort();
  const previous = engine;
  engine = null;
  sendButton.disabled = true;
  clearError();
  setStatus('busy', `loading ${label}…`);
  showProgress({ phase: 'metadata', files: [], bytesDone: 0, bytesTotal: 0, fraction: 0, bytesPerSecond: 0 });
  try {
    await previous?.unload();
    engine = await KimiVL.load(source, {
      quantization: $<HTMLSelectElement>('#quant').value as 'none' | 'q8' | 'q4',
      onProgress: showProgress,
      contextBudget: 2048,
    });
    history = [];
    const i = engine.info;
    setStatus('ready', `${label} · ${i.layers} layers · ${i.backend} · ${engine.mode}`);
    $('#tiny-note').hidden = !String(source).includes('kimi-vl-tiny');
    sendButton.disabled = false;
  } catch (e) {
    setStatus('error', 'no model');
    showError(e);
  } finally {
    showProgress(null);
  }
}

function bubble(role: 'user' | 'assistant', text: string, images: File[] = []): HTMLElement {
  const el = document.createElement('article');
  el.className = `msg ${role}`;
  el.innerHTML = `<div class="role">${role === 'user' ? 'You' : 'Kimi-VL'}</div>`;
  for (const f of images) {
    const img = document.createElement('img');
    img.src = URL.createObjectURL(f);
    img.alt = f.name;
    el.append(img);
  }
  const body = document.createElement('div');
  body.className = 'text';
  body.textContent = text;
  el.append(body);
  chatLog.append(el);
  el.scrollIntoView({ block: 'end' });
  return el;
}

function reasoningPanel(el: HTMLElement): HTMLElement {
  let box = el.querySelector<HTMLElement>('.reasoning');
  if (box) return box;
  const details = document.createElement('details');
  details.open = true;
  details.innerHTML = '<summary>Reasoning</summary><div class="reasoning"></div>';
  el.querySelector('.text')!.before(details);
  box = details.querySelector<HTMLElement>('.reasoning')!;
  return box;
}

async function send(): Promise<void> {
  if (!engine || running) return;
  const text = promptBox.value.trim();
  const images = takeAttachments();
  if (!text && !images.length) return;
  clearError();
  promptBox.value = '';
  bubble('user', text, images);
  const content: ChatMessage['content'] = images.length
    ? [...images.map((image) => ({ type: 'image' as const, image })), { type: 'text' as const, text }]
    : text;
  const turn: ChatMessage = { role: 'user', content };
  const out = bubble('assistant', '');
  out.classList.add('streaming');
  out.dataset.tokens = '0';
  const answer = out.querySelector<HTMLElement>('.text')!;
  running = new AbortController();
  sendButton.hidden = true;
  stopButton.hidden = false;
  const demoThinking = thinkingDemo.checked;
  let done: DoneEvent | null = null;
  try {
    const stream = engine.chat([...history, turn], {
      maxTokens: Number($<HTMLInputElement>('#max-tokens').value) || 64,
      temperature: Number($<HTMLInputElement>('#temperature').value),
      signal: running.signal,
      tokenEvents: true,
      ...(demoThinking ? { thinking: true, startThinking: true, thinkingBudget: TINY_THINKING_BUDGET } : {}),
    });
    for await (const e of stream) {
      if (e.type === 'token') out.dataset.tokens = String(Number(out.dataset.tokens) + 1);
      else if (e.type === 'answer') answer.textContent += e.text;
      else if (e.type === 'reasoning') reasoningPanel(out).textContent += e.text;
      else if (e.type === 'done') done = e;
      out.scrollIntoView({ block: 'end' });
    }
    if (done) {
      const details = out.querySelector('details');
      if (details) details.open = false; // reasoning folds away once the answer is there
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent = timingsText(done);
      out.append(meta);
      out.dataset.finish = done.finishReason;
      out.scrollIntoView({ block: 'end' });
      history = [...history, turn, { role: 'assistant', content: done.answer }];
    }
  } catch (e) {
    showError(e);
    out.dataset.finish = 'error';
    if ((e as Error)?.name === 'DeviceLostError') {
      engine = null;
      setStatus('error', 'GPU lost: load the model again');
    }
  } finally {
    out.classList.remove('streaming');
    running = null;
    sendButton.hidden = false;
    stopButton.hidden = true;
    sendButton.disabled = !engine;
  }
}

/**
 * Registers the app-shell service worker and waits (briefly) until it controls the page, so the engine
 * worker and its modules are fetched through it and kept; what the page fetched before is handed over
 * as a list. That is what makes the first visit enough for offline use.
 */
async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  // Dev server: public/sw.js is at the server root; a build: next to index.html.
  const url = import.meta.env.DEV ? '/sw.js' : './sw.js';
  try {
    await navigator.serviceWorker.register(url, { scope: import.meta.env.DEV ? '/' : './' });
    if (!navigator.serviceWorker.controller)
      await Promise.race([
        new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true })),
        new Promise((r) => setTimeout(r, 3000)),
      ]);
    const urls = [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)];
    navigator.serviceWorker.controller?.postMessage({ type: 'cache-urls', urls });
  } catch (e) {
    console.warn('service worker not registered; the demo will not work offline', e);
  }
}

async function init(): Promise<void> {
  await registerServiceWorker();
  initImageInputs(showError, (files) => void loadModel(files, `dropped model (${files.length} files)`));
  $('#composer').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void send();
  });
  promptBox.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) {
      ev.preventDefault();
      void send();
    }
  });
  stopButton.addEventListener('click', () => running?.abort());
  $('#clear').addEventListener('click', () => {
    if (running) running.abort();
    history = [];
    chatLog.textContent = '';
    clearAttachments();
    void engine?.resetConversation();
  });
  $('#model-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = modelInput.value.trim();
    void loadModel(v || DEFAULT_MODEL, v || 'bundled tiny model (kimi-vl-tiny)');
  });
  $<HTMLInputElement>('#model-files').addEventListener('change', (ev) => {
    const files = [...((ev.target as HTMLInputElement).files ?? [])];
    if (files.length) void loadModel(files, `local folder (${files.length} files)`);
  });
  if (!('gpu' in navigator)) {
    showError({
      name: 'WebGPUUnavailableError',
      message: 'navigator.gpu is missing (WebGPU needs a secure context: https or localhost).',
    });
    setStatus('error', 'no WebGPU');
    return;
  }
  void loadModel(DEFAULT_MODEL, 'bundled tiny model (kimi-vl-tiny)');
}

void init();
