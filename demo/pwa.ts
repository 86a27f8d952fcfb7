// Service worker registration (public/sw.js) and the update prompt. The first visit waits briefly until
// the worker controls the page, so the engine worker and its modules are fetched through it and kept,
// and hands it the list of what the page fetched before, each with the Accept header of its kind (a dev
// server answers a stylesheet with JavaScript unless asked for CSS). A new deploy installs a new worker
// that waits: the banner's Reload lets it take over and reloads the page once it has.
import { $ } from './dom.ts';

const ACCEPT: Record<string, string> = {
  link: 'text/css,*/*;q=0.1',
  css: 'text/css,*/*;q=0.1',
  img: 'image/avif,image/webp,image/png,image/svg+xml,image/*,*/*;q=0.8',
  navigation: 'text/html',
};

function fetchedSoFar(): { url: string; accept?: string }[] {
  const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
  const byUrl = new Map<string, string | undefined>([[location.href, 'text/html']]);
  for (const e of entries) {
    // A <link> may be a stylesheet, an icon or the manifest: only a .css file is asked for as CSS.
    const kind = e.initiatorType === 'link' && !/\.css(\?|$)/.test(e.name) ? 'other' : e.initiatorType;
    if (!byUrl.has(e.name)) byUrl.set(e.name, ACCEPT[kind]);
  }
  return [...byUrl].map(([url, accept]) => ({ url, accept }));
}

function offerUpdate(waiting: ServiceWorker): void {
  const banner = $('#update-banner');
  banner.hidden = false;
  $('#update-reload').onclick = () => {
    navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
    waiting.postMessage({ type: 'skip-waiting' });
  };
}

function watchUpdates(reg: ServiceWorkerRegistration): void {
  if (reg.waiting && navigator.serviceWorker.controller) offerUpdate(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const installing = reg.installing;
    installing?.addEventListener('statechange', () => {
      if (installing.state === 'installed' && navigator.serviceWorker.controller) offerUpdate(installing);
    });
  });
}

export async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  // Dev server: public/sw.js is at the server root; a build: next to index.html.
  const url = import.meta.env.DEV ? '/sw.js' : './sw.js';
  try {
    const reg = await navigator.serviceWorker.register(url, {
      scope: import.meta.env.DEV ? '/' : './',
      updateViaCache: 'none',
    });
    watchUpdates(reg);
    if (!navigator.serviceWorker.controller)
      await Promise.race([
        new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true })),
        new Promise((r) => setTimeout(r, 3000)),
      ]);
    navigator.serviceWorker.controller?.postMessage({ type: 'cache-urls', urls: fetchedSoFar() });
  } catch (e) {
    console.warn('service worker not registered; the demo will not work offline', e);
  }
}
