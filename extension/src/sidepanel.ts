// Side panel: shows each description as it streams from the offscreen engine.
import type { StreamMessage } from './protocol.ts';

const log = document.querySelector<HTMLElement>('#log')!;
const entries = new Map<number, HTMLElement>();

chrome.runtime.onMessage.addListener((msg: StreamMessage) => {
  if (msg?.type !== 'kimi-vl:stream') return;
  let el = entries.get(msg.requestId);
  if (!el) {
    el = document.createElement('article');
    el.innerHTML = '<div class="img"></div><p class="prompt"></p><p class="answer"></p>';
    entries.set(msg.requestId, el);
    log.prepend(el);
  }
  const answer = el.querySelector<HTMLElement>('.answer')!;
  if (msg.kind === 'start') {
    el.querySelector('.prompt')!.textContent = msg.text ?? '';
    if (msg.imageUrl) {
      const img = document.createElement('img');
      img.src = msg.imageUrl;
      el.querySelector('.img')!.append(img);
    }
    el.dataset.state = 'streaming';
  } else if (msg.kind === 'delta') answer.textContent += msg.text ?? '';
  else if (msg.kind === 'done') el.dataset.state = 'done';
  else {
    el.dataset.state = 'error';
    answer.textContent = msg.text ?? 'error';
  }
});
